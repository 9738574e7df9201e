import { SqsQueue } from '../../lib/delivery/sqs';
import { silentLogger } from '../../lib/logger';
import { call, startTestGateway, subscribe, type TestGateway } from '../support/gateway';
import { SqsLoopback } from '../support/sqs-loopback';
import { TestTarget } from '../support/target';
import { eventually } from '../support/waiting';

/** The value of one sample in the Prometheus text, 0 when absent. */
async function metric(gw: TestGateway, name: string, labels: string): Promise<number> {
  const text = (await call('GET', `${gw.configUrl}/v1/metrics`)).body as string;
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && labels.split(',').every((label) => l.includes(label)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

const deliveryIds = (target: TestTarget) => new Set(target.received.map((r) => String(r.headers['event-gateway-delivery-id'])));

describe('the circuit breaker of the local server polling SQS', () => {
  const EVENTS = 30;
  let sqs: SqsLoopback;
  let down: TestTarget;
  let healthy: TestTarget;
  let gw: TestGateway;
  let queueUrl: string;
  const dlq = () => sqs.queue(sqs.queueUrl('dlq'));
  const redriven = () => sqs.queue(sqs.queueUrl('redriven'));

  beforeAll(async () => {
    // SQS with its clock: visibility timeouts, message delays, and a redrive policy after 5 receives.
    sqs = await SqsLoopback.start({ visibilityTimeoutSeconds: 30, redrive: { maxReceiveCount: 5, deadLetterQueue: 'redriven' } });
    queueUrl = sqs.queueUrl('deliveries');
    [down, healthy] = await Promise.all([TestTarget.start(), TestTarget.start()]);
    const queue = new SqsQueue({
      queueUrl,
      deadLetterQueueUrl: sqs.queueUrl('dlq'),
      connection: { endpoint: sqs.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'k', secretAccessKey: 's' } },
      logger: silentLogger,
      poll: true,
      waitTimeSeconds: 1,
      // Five attempts per delivery: without the breaker, an outage of a few backoffs would use them up.
      defaultRetry: { maxAttempts: 5, maxAgeSeconds: 3600 },
    });
    gw = await startTestGateway({ delivery: { mode: 'queue', queue } });
    await subscribe(gw, { type: 'async', eventType: 'order.placed', functionId: 'down', url: down.url, path: '/down' });
    await subscribe(gw, { type: 'async', eventType: 'order.placed', functionId: 'healthy', url: healthy.url, path: '/healthy' });
  });
  afterAll(async () => {
    await gw.stop();
    await Promise.all([sqs.close(), down.close(), healthy.close()]);
  });

  it('parks the down target’s messages without spending their attempts, keeps serving the other target, and delivers everything once it is back', async () => {
    down.behaviour = () => ({ status: 503, body: 'down' });
    for (let i = 0; i < EVENTS; i++) {
      for (const path of ['/down', '/healthy']) {
        const res = await fetch(`${gw.eventsUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents+json' },
          body: JSON.stringify({ eventType: 'order.placed', cloudEventsVersion: '0.1', source: '/shop', eventID: `o-${i}`, data: { i } }),
        });
        expect(res.status).toBe(202);
      }
    }

    // The healthy target gets every delivery while the other is down.
    await eventually(async () => (deliveryIds(healthy).size === EVENTS ? true : undefined), 'every delivery to the healthy target', 30_000);
    // The down target's circuit opens, and fails its probe twice more: a few seconds of outage.
    await eventually(async () => ((await metric(gw, 'eventgateway_target_circuit_state', 'function="down"')) === 2 ? true : undefined), 'the circuit to open', 30_000);
    await eventually(
      async () => ((await metric(gw, 'eventgateway_target_circuit_transitions_total', 'function="down",state="open"')) >= 3 ? true : undefined),
      'two failed probes',
      30_000,
    );

    // While open, deliveries wait unattempted: fewer attempts than deliveries (without the breaker each is tried at once, and again after each backoff).
    expect(down.received.length).toBeLessThan(EVENTS);
    // Their messages were parked as new delayed messages carrying the attempts spent so far…
    const parks = sqs.calls.filter((c) => c.target === 'AmazonSQS.SendMessage' && c.body.QueueUrl === queueUrl);
    expect(parks.length).toBeGreaterThan(0);
    for (const park of parks) {
      expect(park.body.DelaySeconds).toBeGreaterThanOrEqual(1);
      expect(Number(park.body.MessageAttributes['eg-prior-attempts'].StringValue)).toBeLessThan(5);
      expect(Number(park.body.MessageAttributes['eg-accepted-at'].StringValue)).toBeGreaterThan(0);
    }
    // …so that nothing was dead-lettered, by the gateway or by the queue's redrive.
    expect(dlq()).toEqual([]);
    expect(redriven()).toEqual([]);
    expect(healthy.received).toHaveLength(EVENTS);

    // The target comes back: the next probe closes the circuit and every waiting delivery follows.
    down.behaviour = () => ({ status: 200, body: '{}' });
    await eventually(async () => (deliveryIds(down).size === EVENTS ? true : undefined), 'every delivery to the recovered target', 60_000);
    await eventually(async () => ((await metric(gw, 'eventgateway_target_circuit_state', 'function="down"')) === 0 ? true : undefined), 'the circuit to close', 10_000);
    await eventually(async () => (sqs.undeleted(queueUrl) === 0 ? true : undefined), 'the queue to empty', 10_000);
    expect(dlq()).toEqual([]);
    expect(redriven()).toEqual([]);
    expect(deliveryIds(healthy).size).toBe(EVENTS);
  });
});
