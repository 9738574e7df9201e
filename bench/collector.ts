import { createServer } from 'node:http';

/**
 * A loopback OpenTelemetry collector for the tracing bench, in its own process: takes OTLP/HTTP trace
 * exports, answers 200, and reports at /__count how many exports and bytes it took.
 */
let received = 0;
let bytes = 0;
const server = createServer((req, res) => {
  if (req.url === '/__count') {
    res.end(JSON.stringify({ exports: received, bytes }));
    return;
  }
  req.on('data', (chunk: Buffer) => (bytes += chunk.length));
  req.on('end', () => {
    received++;
    res.writeHead(200, { 'content-type': 'application/x-protobuf' });
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
