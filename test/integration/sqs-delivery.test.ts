import { call } from '../support/gateway';
import { runCli, type GatewayProcess } from '../support/process';
import { startSqsGateway } from '../support/sqs-gateway';
import type { SqsLoopback } from '../support/sqs-loopback';
import type { TestTarget } from '../support/target';
import { eventually } from '../support/waiting';

describe.each([
  ['one process', [] as string[]],
  ['--processes 2', ['--processes=2']],
])('the local server delivering through SQS, with a dead-letter queue, %s', (_mode, extraArgs) => {
  let sqs: SqsLoopback;
  let target: TestTarget;
  let gw: GatewayProcess;
  let stop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ sqs, target, gw, stop } = await startSqsGateway('eg-sqs-', extraArgs));
  });
  afterAll(async () => {
    await stop?.();
  });

  it('dead-letters a delivery its target refuses, lists it with the error, and delivers it once replayed', async () => {
    const space = `${gw.configUrl}/v1/spaces/default`;
    target.behaviour = () => ({ status: 422, body: 'unknown customer' });
    expect((await call('POST', `${space}/eventtypes`, { name: 'order.placed' })).status).toBe(201);
    expect((await call('POST', `${space}/functions`, { functionId: 'orders', type: 'http', provider: { url: target.url } })).status).toBe(201);
    expect((await call('POST', `${space}/subscriptions`, { type: 'async', eventType: 'order.placed', functionId: 'orders', path: '/' })).status).toBe(201);
    const event = { eventType: 'order.placed', cloudEventsVersion: '0.1', source: '/shop', eventID: 'o-1', data: { id: 1 } };
    const emitted = await fetch(`${gw.eventsUrl}/`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(event) });
    expect(emitted.status).toBe(202);

    const [letter] = await eventually(async () => {
      const list = (await call('GET', `${space}/deadletters`)).body.deadLetters as Array<Record<string, unknown>>;
      return list.length > 0 ? list : undefined;
    }, 'the dead letter');
    expect(letter).toMatchObject({ functionId: 'orders', eventType: 'order.placed', eventId: 'o-1', attempts: 1, error: expect.stringContaining('422') });
    expect(target.received).toHaveLength(1);

    target.behaviour = () => ({ status: 200, body: '{}' });
    const replayed = await call('POST', `${space}/deadletters/${String(letter?.deliveryId)}/replay`);
    expect([replayed.status, replayed.body]).toEqual([202, { replayed: 1 }]);
    await target.waitFor(2);
    expect(target.received[1]?.json()).toMatchObject({ eventID: 'o-1' });
    expect(sqs.calls.every((c) => c.signature === 'valid')).toBe(true);
  });

  it('refuses the SQS flags without --sqs-queue-url', async () => {
    const run = await runCli(['--sqs-dead-letter-queue-url=https://sqs.us-east-1.amazonaws.com/1/dlq']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('need --sqs-queue-url');
  });
});
