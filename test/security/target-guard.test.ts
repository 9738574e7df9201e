import { postEvent } from '../../lib/providers/http';
import { nodeTransport } from '../../lib/providers/http-node';
import type { HttpTransport } from '../../lib/providers/http-transport';
import { createHttpAgent, undiciTransport } from '../../lib/providers/http-undici';
import { TargetError } from '../../lib/providers/provider';
import { lambdaProvider } from '../../lib/providers/awslambda';
import { defaultProviderDeps } from '../../lib/providers/index';
import { guardedNodeAgents, type TargetNetworkPolicy } from '../../lib/providers/target-network';
import { call, startTestGateway, subscribe, type TestGateway } from '../support/gateway';
import { capturedLogger, waitForLog } from '../support/logs';
import { TestTarget } from '../support/target';

/** A transport guarded by a policy, and how to let go of its connections. */
interface GuardedTransport {
  transport: HttpTransport;
  close(): Promise<void>;
}

/** Both transports: undici (the local server's) and node:http (the Lambda handlers'). */
const transports: Array<[string, (policy?: TargetNetworkPolicy) => GuardedTransport]> = [
  [
    'undici',
    (policy) => {
      const agent = createHttpAgent(policy);
      return { transport: undiciTransport(agent), close: () => agent.close() };
    },
  ],
  [
    'node:http',
    (policy) => {
      const agents = guardedNodeAgents(policy);
      const close = async () => {
        agents.httpAgent.destroy();
        agents.httpsAgent.destroy();
      };
      return { transport: nodeTransport(agents), close };
    },
  ],
];

const event = (id: string) => JSON.stringify({ eventType: 'guarded.event', cloudEventsVersion: '0.1', source: '/guard', eventID: id });

describe('the target network guard', () => {
  let target: TestTarget;
  let port: string;
  beforeAll(async () => {
    target = await TestTarget.start();
    port = new URL(target.url).port;
  });
  afterAll(() => target.close());
  beforeEach(() => target.received.splice(0));

  describe.each(transports)('through the %s transport', (_name, makeTransport) => {
    const options = (guarded: GuardedTransport) => ({ transport: guarded.transport, timeoutMs: 5_000, maxResponseBytes: 1024 });

    it('refuses loopback in every spelling, at connection time, without retry', async () => {
      const guarded = makeTransport();
      try {
        for (const host of ['127.0.0.1', '2130706433', '0x7f.1', '127.1', '[::ffff:127.0.0.1]', '[::1]', 'localhost']) {
          const err = await postEvent(`http://${host}:${port}/hook`, '{}', {}, options(guarded)).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect([host, err]).toEqual([host, expect.any(TargetError)]);
          expect((err as TargetError).reason).toBe('refused');
          expect((err as TargetError).retryable).toBe(false);
          expect((err as TargetError).message).toMatch(/refused: .* is a loopback address/);
        }
      } finally {
        await guarded.close();
      }
      expect(target.received).toHaveLength(0);
    });

    it('refuses the cloud metadata address even where private networks are allowed', async () => {
      const guarded = makeTransport({ allowPrivate: true, allowLoopback: true });
      try {
        const err = await postEvent('http://169.254.169.254/latest/meta-data/', '{}', {}, options(guarded)).catch((e: unknown) => e);
        expect((err as TargetError).reason).toBe('refused');
        expect((err as TargetError).message).toContain('169.254.169.254 is a metadata address');
        const v6 = await postEvent('http://[fd00:ec2::254]/latest/meta-data/', '{}', {}, options(guarded)).catch((e: unknown) => e);
        expect((v6 as TargetError).reason).toBe('refused');
      } finally {
        await guarded.close();
      }
    });

    it('calls a loopback target once its network is allowed', async () => {
      const guarded = makeTransport({ allowNetworks: ['127.0.0.0/8'] });
      try {
        await postEvent(`http://localhost:${port}/hook`, '{"ok":1}', {}, options(guarded));
        await postEvent(`http://2130706433:${port}/hook`, '{"ok":2}', {}, options(guarded));
      } finally {
        await guarded.close();
      }
      expect(target.received.map((r) => r.body)).toEqual(['{"ok":1}', '{"ok":2}']);
    });
  });

  it('applies to AWS SDK calls with an endpoint override, the metadata address included', async () => {
    const deps = defaultProviderDeps({ timeoutMs: 2_000, maxAttempts: 1 });
    try {
      for (const endpoint of [`http://127.0.0.1:${port}`, 'http://169.254.169.254', `http://localhost:${port}`]) {
        const lambda = lambdaProvider(
          { arn: 'arn:aws:lambda:us-east-1:123456789012:function:f', region: 'us-east-1', endpoint, awsAccessKeyId: 'AKIDEXAMPLE', awsSecretAccessKey: 'secret' },
          deps.aws,
        );
        const err = await lambda.invoke('{}').then(
          () => undefined,
          (e: unknown) => e,
        );
        expect([endpoint, (err as TargetError).reason]).toEqual([endpoint, 'refused']);
      }
    } finally {
      await deps.close();
    }
    expect(target.received).toHaveLength(0);
  });

  describe('in a gateway with the production default', () => {
    let gw: TestGateway;
    const logs = capturedLogger();
    beforeAll(async () => {
      gw = await startTestGateway({ targetNetworks: {}, logger: logs.logger });
    });
    afterAll(() => gw.stop());

    it('answers a sync event for a loopback target with the function-call error, and logs the refusal', async () => {
      await subscribe(gw, { type: 'sync', eventType: 'http.request', functionId: 'local', url: `http://0x7f.1:${port}/`, path: '/sync', method: 'GET' });
      const res = await fetch(`${gw.eventsUrl}/sync`);
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ errors: [{ message: 'Function call failed. Please check logs.' }] });
      const line = await waitForLog(logs.lines, (l) => l.msg === 'function call failed' && l.functionId === 'local');
      expect(line.err).toMatch(/refused: 127\.0\.0\.1 is a loopback address/);
      expect(target.received).toHaveLength(0);
    });

    it('does not deliver async events to a metadata-address target, and logs it', async () => {
      await subscribe(gw, { type: 'async', eventType: 'guarded.event', functionId: 'metadata', url: 'http://169.254.169.254/latest/meta-data/' });
      const res = await fetch(gw.eventsUrl, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: event('m-1') });
      expect(res.status).toBe(202);
      const line = await waitForLog(logs.lines, (l) => l.msg === 'function call failed' && l.functionId === 'metadata');
      expect(line.err).toContain('169.254.169.254 is a metadata address');
      expect((await call('GET', `${gw.space()}/functions/metadata`)).status).toBe(200);
    });
  });
});
