import { createServer } from 'node:http';

/**
 * The benchmark's target function, in its own process: answers GET with a sync response object,
 * counts POSTed deliveries, and reports the count at /__count.
 */
let delivered = 0;
const answer = JSON.stringify({ statusCode: 200, body: 'ok' });
const server = createServer((req, res) => {
  if (req.url === '/__count') {
    res.end(String(delivered));
    return;
  }
  if (req.method === 'POST') {
    req.resume();
    req.on('end', () => {
      delivered++;
      res.end('{}');
    });
    return;
  }
  res.setHeader('content-type', 'application/json');
  res.end(answer);
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
