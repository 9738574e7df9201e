import { call } from '../support/gateway';
import type { GatewayProcess } from '../support/process';
import { startSqsGateway } from '../support/sqs-gateway';
import type { SqsLoopback } from '../support/sqs-loopback';
import type { TestTarget } from '../support/target';
import { eventually } from '../support/waiting';

const TRACEPARENT = '00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01';

describe('trace context through the SQS delivery queue', () => {
  let sqs: SqsLoopback;
  let target: TestTarget;
  let gw: GatewayProcess;
  let stop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ sqs, target, gw, stop } = await startSqsGateway('eg-sqs-trace-'));
  });
  afterAll(async () => {
    await stop?.();
  });

  it('sends the trace context as message attributes and keeps it when a dead letter is replayed', async () => {
    const space = `${gw.configUrl}/v1/spaces/default`;
    target.behaviour = () => ({ status: 422, body: 'not now' });
    await call('POST', `${space}/eventtypes`, { name: 'order.placed' });
    await call('POST', `${space}/functions`, { functionId: 'orders', type: 'http', provider: { url: target.url } });
    await call('POST', `${space}/subscriptions`, { type: 'async', eventType: 'order.placed', functionId: 'orders', path: '/' });
    const event = { eventType: 'order.placed', cloudEventsVersion: '0.1', source: '/shop', eventID: 'o-1', data: {} };

    const emitted = await fetch(`${gw.eventsUrl}/`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json', traceparent: TRACEPARENT, tracestate: 'shop=1' }, body: JSON.stringify(event) });

    expect(emitted.status).toBe(202);
    const sent = sqs.calls.find((c) => c.target === 'AmazonSQS.SendMessageBatch')?.body.Entries[0];
    expect(sent.MessageAttributes).toEqual({ traceparent: { DataType: 'String', StringValue: TRACEPARENT }, tracestate: { DataType: 'String', StringValue: 'shop=1' } });
    const [letter] = await eventually(async () => {
      const list = (await call('GET', `${space}/deadletters`)).body.deadLetters as Array<{ deliveryId: string }>;
      return list.length > 0 ? list : undefined;
    }, 'the dead letter');
    target.behaviour = () => ({ status: 200, body: '{}' });
    await call('POST', `${space}/deadletters/${String(letter?.deliveryId)}/replay`);
    await target.waitFor(2);
    expect(target.received.map((r) => [r.headers.traceparent, r.headers.tracestate])).toEqual([
      [TRACEPARENT, 'shop=1'],
      [TRACEPARENT, 'shop=1'],
    ]);
  });
});
