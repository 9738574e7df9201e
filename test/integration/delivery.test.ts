import { errorOf, call, sharedGateway, startTestGateway, subscribe, type TestGateway } from '../support/gateway';
import { TestTarget } from '../support/target';
import { eventually } from '../support/waiting';

describe('durable async delivery', () => {
  let gw: TestGateway;
  let target: TestTarget;
  let space: string;
  sharedGateway('durable', (fixture) => ({ gw, target, space } = fixture));

  const emit = (eventType: string, eventID = `id-${Math.random()}`) =>
    fetch(`${gw.eventsUrl}/${space}`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({ eventType, cloudEventsVersion: '0.1', source: '/tests', eventID }),
    });
  const deadLetters = async () => (await call('GET', `${gw.space(space)}/deadletters`)).body.deadLetters as any[];
  const subscribeWithRetry = async (retry?: object) => {
    await subscribe(gw, { space, type: 'async', eventType: 'job', functionId: 'worker', url: target.url, path: `/${space}` });
    if (!retry) return;
    const subs = (await call('GET', `${gw.space(space)}/subscriptions`)).body.subscriptions;
    const updated = await call('PUT', `${gw.space(space)}/subscriptions/${subs[0].subscriptionId}`, { ...subs[0], retry });
    expect(updated.status).toBe(200);
  };

  it('retries a flaky target until it takes the event, with the same delivery ID each time', async () => {
    await subscribeWithRetry();
    let calls = 0;
    target.behaviour = () => (++calls <= 2 ? { status: 503 } : { status: 200, body: '{}' });
    expect((await emit('job', 'flaky-1')).status).toBe(202);
    await target.waitFor(3);
    const ids = target.received.map((r) => r.headers['event-gateway-delivery-id']);
    expect(new Set(ids).size).toBe(1);
    expect(target.received.map((r) => r.headers['event-gateway-event-id'])).toEqual(['flaky-1', 'flaky-1', 'flaky-1']);
    const metrics = await (await fetch(`${gw.configUrl}/v1/metrics`)).text();
    expect(metrics).toContain(`eventgateway_deliveries_retried_total{space="${space}",type="job"} 2`);
    expect(await deadLetters()).toEqual([]);
  });

  it('delivers to a target that was down once it is back', async () => {
    await subscribeWithRetry();
    const port = target.port;
    await target.close();
    expect((await emit('job', 'while-down')).status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const revived = await TestTarget.start(port);
    try {
      await revived.waitFor(1);
      expect(revived.received[0]?.json()).toMatchObject({ eventID: 'while-down' });
    } finally {
      await revived.close();
    }
  });

  it('dead-letters an always-failing delivery with its error, and replays it once the target is fixed', async () => {
    await subscribeWithRetry({ maxAttempts: 3 });
    target.behaviour = () => ({ status: 500, body: 'broken' });
    expect((await emit('job', 'doomed')).status).toBe(202);
    const letters = await eventually(async () => {
      const list = await deadLetters();
      return list.length > 0 ? list : undefined;
    }, 'a dead letter');
    expect(target.received).toHaveLength(3);
    expect(letters[0]).toMatchObject({ space, functionId: 'worker', eventType: 'job', eventId: 'doomed', attempts: 3, event: { eventID: 'doomed' } });
    expect(letters[0].error).toContain('500');
    const metrics = await (await fetch(`${gw.configUrl}/v1/metrics`)).text();
    expect(metrics).toContain(`eventgateway_deliveries_deadlettered_total{space="${space}",type="job"} 1`);

    target.behaviour = () => ({ status: 200, body: '{}' });
    const replay = await call('POST', `${gw.space(space)}/deadletters/${letters[0].deliveryId}/replay`);
    expect(replay.status).toBe(202);
    expect(replay.body).toEqual({ replayed: 1 });
    await target.waitFor(4);
    expect(target.received[3]?.headers['event-gateway-delivery-id']).toBe(letters[0].deliveryId);
    await eventually(async () => ((await deadLetters()).length === 0 ? true : undefined), 'the dead letter to go');
  });

  it('does not retry a target that refuses the event with a 4xx', async () => {
    await subscribeWithRetry();
    target.behaviour = () => ({ status: 400, body: 'bad event' });
    await emit('job', 'refused');
    const letters = await eventually(async () => {
      const list = await deadLetters();
      return list.length > 0 ? list : undefined;
    }, 'a dead letter');
    expect(letters[0].attempts).toBe(1);
    expect(target.received).toHaveLength(1);
  });

  it('replays all and deletes dead letters of a space', async () => {
    await subscribeWithRetry({ maxAttempts: 1 });
    target.behaviour = () => ({ status: 500 });
    await emit('job', 'a');
    await emit('job', 'b');
    await eventually(async () => ((await deadLetters()).length === 2 ? true : undefined), 'two dead letters');
    const replayed = await call('POST', `${gw.space(space)}/deadletters/replay`);
    expect(replayed.body).toEqual({ replayed: 2 });
    await eventually(async () => ((await deadLetters()).length === 2 ? true : undefined), 'two dead letters again');
    const deleted = await call('DELETE', `${gw.space(space)}/deadletters`);
    expect(deleted.body).toEqual({ deleted: 2 });
    expect(await deadLetters()).toEqual([]);
  });

  it('answers 404 for a dead letter that does not exist', async () => {
    const replay = await call('POST', `${gw.space(space)}/deadletters/nothing/replay`);
    expect([replay.status, errorOf(replay.body)]).toEqual([404, 'Dead letter "nothing" not found.']);
    const removal = await call('DELETE', `${gw.space(space)}/deadletters/nothing`);
    expect(removal.status).toBe(404);
  });

  it('validates and returns a subscription retry policy', async () => {
    await call('POST', `${gw.space(space)}/eventtypes`, { name: 'job' });
    await call('POST', `${gw.space(space)}/functions`, { functionId: 'worker', type: 'http', provider: { url: target.url } });
    const bad = await call('POST', `${gw.space(space)}/subscriptions`, { type: 'async', eventType: 'job', functionId: 'worker', retry: { maxAttempts: 0 } });
    expect(bad.status).toBe(400);
    expect(errorOf(bad.body)).toContain("Key: 'Subscription.Retry.MaxAttempts' Error:Field validation for 'Retry.MaxAttempts' failed on the 'min=1,max=1000' tag");
    const good = await call('POST', `${gw.space(space)}/subscriptions`, { type: 'async', eventType: 'job', functionId: 'worker', retry: { maxAttempts: 5 } });
    expect(good.status).toBe(201);
    expect(good.body.retry).toEqual({ maxAttempts: 5, maxAgeSeconds: 86400 });
  });
});

describe('in-memory delivery', () => {
  it('keeps no dead letters and says so', async () => {
    const gw = await startTestGateway({ delivery: { mode: 'memory' } });
    try {
      const res = await call('GET', `${gw.space()}/deadletters`);
      expect(res.status).toBe(501);
      expect(errorOf(res.body)).toContain('durable delivery');
    } finally {
      await gw.stop();
    }
  });
});
