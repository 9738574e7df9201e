import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { call, tempDir } from '../support/gateway';
import { OtlpReceiver, SPAN_KIND } from '../support/otlp-receiver';
import { BIN, startGatewayProcess } from '../support/process';
import { TestTarget } from '../support/target';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const TRACEPARENT = `00-${TRACE_ID}-b7ad6b7169203331-01`;

describe('tracing from the command line', () => {
  let receiver: OtlpReceiver;
  let target: TestTarget;
  let dataDir: string;
  beforeEach(async () => {
    receiver = await OtlpReceiver.start();
    target = await TestTarget.start();
    target.respondWith({ statusCode: 200, body: 'traced' });
    dataDir = tempDir('eg-trace-cli-');
  });
  afterEach(async () => {
    await target.close();
    await receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Runs the gateway, makes one traced sync call through it, stops it with SIGTERM (which exports what is left). */
  async function oneTracedCall(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
    const gw = await startGatewayProcess(['--dev', `--embed-data-dir=${dataDir}`, ...args], env);
    try {
      const base = `${gw.configUrl}/v1/spaces/default`;
      await call('POST', `${base}/eventtypes`, { name: 'http.request' });
      await call('POST', `${base}/functions`, { functionId: 'hello', type: 'http', provider: { url: target.url } });
      await call('POST', `${base}/subscriptions`, { type: 'sync', eventType: 'http.request', functionId: 'hello', path: '/hello', method: 'GET' });
      const res = await fetch(`${gw.eventsUrl}/hello`, { headers: { traceparent: TRACEPARENT } });
      expect(await res.text()).toBe('traced');
    } finally {
      gw.child.kill('SIGTERM');
    }
    expect(await gw.exited).toBe(0);
    return gw.output();
  }

  it('exports spans over OTLP/protobuf to --otlp-endpoint, named by OTEL_SERVICE_NAME, before it exits', async () => {
    const output = await oneTracedCall([`--otlp-endpoint=${receiver.endpoint}`], { OTEL_SERVICE_NAME: 'edge-gateway' });

    const spans = receiver.trace(TRACE_ID);
    expect(spans.map((span) => span.kind).sort()).toEqual([SPAN_KIND.server, SPAN_KIND.client]);
    expect(spans.every((span) => span.serviceName === 'edge-gateway')).toBe(true);
    expect(receiver.contentTypes.every((type) => type === 'application/x-protobuf')).toBe(true);
    expect(output).toContain('"tracing":"otlp"');
  });

  it('exports the spans of the workers of a cluster (--processes 2)', async () => {
    await oneTracedCall([`--otlp-endpoint=${receiver.endpoint}`, '--processes=2'], {});

    expect(receiver.trace(TRACE_ID).map((span) => span.kind).sort()).toEqual([SPAN_KIND.server, SPAN_KIND.client]);
  });

  it('exports over OTLP/JSON when OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_PROTOCOL say so', async () => {
    await oneTracedCall([], { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });

    expect(receiver.trace(TRACE_ID)).toHaveLength(2);
    expect(receiver.contentTypes.every((type) => type === 'application/json')).toBe(true);
  });

  it('starts no SDK without an endpoint, and still passes the trace context on', async () => {
    const output = await oneTracedCall([], { OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_SERVICE_NAME: 'edge-gateway' });

    expect(receiver.spans).toHaveLength(0);
    expect(target.received[0]?.headers.traceparent).toBe(TRACEPARENT);
    expect(output).toContain('"tracing":"propagation only"');
  });

  it('refuses to start with the gRPC protocol, which it cannot export', async () => {
    const child = spawn(process.execPath, [BIN, '--dev', `--embed-data-dir=${dataDir}`, '--otlp-endpoint=http://127.0.0.1:4317'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));

    expect(code).toBe(2);
    expect(stderr).toContain('OTLP protocol "grpc" is not supported: use http/protobuf');
  });
});
