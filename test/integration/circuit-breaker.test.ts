import { call, startTestGateway, subscribe, tempDir, type TestGateway } from '../support/gateway';
import { TestTarget } from '../support/target';
import { eventually } from '../support/waiting';

const emit = (gw: TestGateway, type: string, id: string) =>
  fetch(`${gw.eventsUrl}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify({ eventType: type, cloudEventsVersion: '0.1', source: '/breaker', eventID: id, data: {} }),
  });

/** The value of one sample in the Prometheus text, 0 when absent. */
async function metric(gw: TestGateway, name: string, labels: string): Promise<number> {
  const text = (await call('GET', `${gw.configUrl}/v1/metrics`)).body as string;
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && labels.split(',').every((label) => l.includes(label)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

const eventIds = (target: TestTarget) => new Set(target.received.map((r) => (r.json() as { eventID: string }).eventID));

describe('the circuit breaker per target', () => {
  let gw: TestGateway;
  let failing: TestTarget;
  let healthy: TestTarget;

  beforeAll(async () => {
    [failing, healthy] = await Promise.all([TestTarget.start(), TestTarget.start()]);
    const dataDir = tempDir();
    gw = await startTestGateway({
      dataDir,
      delivery: { mode: 'durable', dataDir, backoff: { baseMs: 20, capMs: 200 }, circuitBreaker: { failureThreshold: 5, openMs: 200, maxOpenMs: 400 } },
    });
    await subscribe(gw, { type: 'async', eventType: 'job.flaky', functionId: 'flaky', url: failing.url });
    await subscribe(gw, { type: 'async', eventType: 'job.steady', functionId: 'steady', url: healthy.url });
  });
  afterAll(async () => {
    await gw.stop();
    await Promise.all([failing.close(), healthy.close()]);
  });

  it('opens after repeated failures, holds the deliveries without attempting them, probes one at a time, and releases them all once the target is back', async () => {
    failing.behaviour = () => ({ status: 503, body: 'down' });
    const flaky: string[] = [];
    for (let i = 0; i < 10; i++) {
      expect((await emit(gw, 'job.flaky', `early-${i}`)).status).toBe(202);
      flaky.push(`early-${i}`);
    }
    await eventually(async () => ((await metric(gw, 'eventgateway_target_circuit_state', 'function="flaky"')) === 2 ? true : undefined), 'the circuit to open');

    // While open: the target only sees probes, one per half-open period; the other target is served as usual.
    const callsBefore = failing.received.length;
    const probesBefore = await metric(gw, 'eventgateway_target_circuit_transitions_total', 'function="flaky",state="half-open"');
    for (let i = 0; i < 40; i++) {
      expect((await emit(gw, 'job.flaky', `open-${i}`)).status).toBe(202);
      expect((await emit(gw, 'job.steady', `steady-${i}`)).status).toBe(202);
      flaky.push(`open-${i}`);
    }
    await eventually(async () => (eventIds(healthy).size === 40 ? true : undefined), 'every delivery to the healthy target');
    const probes = (await metric(gw, 'eventgateway_target_circuit_transitions_total', 'function="flaky",state="half-open"')) - probesBefore;
    const calls = failing.received.length - callsBefore;
    // An in-flight probe may have reached the target before its half-open count was read.
    expect(calls).toBeLessThanOrEqual(probes + 1);

    failing.behaviour = () => ({ status: 200, body: '{}' });
    await eventually(async () => (flaky.every((id) => eventIds(failing).has(id)) ? true : undefined), 'every held delivery released and delivered');
    expect(await metric(gw, 'eventgateway_target_circuit_state', 'function="flaky"')).toBe(0);
    expect(await metric(gw, 'eventgateway_target_circuit_transitions_total', 'function="flaky",state="closed"')).toBeGreaterThanOrEqual(1);
    expect(await metric(gw, 'eventgateway_target_circuit_state', 'function="steady"')).toBe(0);
    expect((await call('GET', `${gw.space()}/deadletters`)).body).toEqual({ deadLetters: [] });
  });
});
