import { connect } from 'node:net';
import { call, errorOf, sharedGateway, startTestGateway, type TestGateway } from '../support/gateway';
import { openTail, type TestTail } from '../support/tail';
import { TestTarget } from '../support/target';
import { eventually } from '../support/waiting';

const structured = (type: string, id: string, data: unknown = { n: 1 }) =>
  JSON.stringify({ specversion: '1.0', type, source: '/shop', id, data });

describe('live tail', () => {
  describe('of a space', () => {
    let gw: TestGateway;
    let target: TestTarget;
    let space: string;
    let tail: TestTail | undefined;
    sharedGateway('tail', (fixture) => ({ gw, target, space } = fixture));
    afterEach(() => tail?.close());

    const typeName = (suffix = 'order') => `${space}.${suffix}`;
    const register = async (type: string, sub: Record<string, unknown> = {}) => {
      await call('POST', `${gw.space(space)}/eventtypes`, { name: type });
      await call('POST', `${gw.space(space)}/functions`, { functionId: 'f', type: 'http', provider: { url: target.url } });
      const res = await call('POST', `${gw.space(space)}/subscriptions`, { type: 'async', eventType: type, functionId: 'f', path: `/${space}`, ...sub });
      expect(res.status).toBe(201);
    };
    const emit = async (type: string, id: string, data?: unknown) => {
      const res = await fetch(`${gw.eventsUrl}/${space}`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: structured(type, id, data) });
      expect(res.status).toBe(202);
    };

    it('streams the events a space receives and their deliveries as Server-Sent Events', async () => {
      await register(typeName());
      tail = await openTail(`${gw.space(space)}/tail`);
      expect(tail.status).toBe(200);
      expect(tail.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      await emit(typeName(), 'e1', { amount: 5 });
      const received = await tail.next();
      expect(received.event).toBe('event.received');
      expect(received.data).toMatchObject({ kind: 'event.received', space, eventType: typeName(), eventId: 'e1', source: '/shop', routed: true });
      expect(received.data.event).toEqual({ specversion: '1.0', type: typeName(), source: '/shop', id: 'e1', data: { amount: 5 } });
      expect(received.data.size).toBe(Buffer.byteLength(JSON.stringify(received.data.event)));
      const delivered = await tail.next();
      expect(delivered.event).toBe('delivery.succeeded');
      expect(delivered.data).toMatchObject({ space, eventType: typeName(), eventId: 'e1', functionId: 'f', mode: 'async', attempt: 1 });
      expect(delivered.data.latencyMs).toEqual(expect.any(Number));
    });

    it('shows failed attempts and the dead letter with their attempt and error', async () => {
      target.behaviour = () => ({ status: 503, body: 'down' });
      await register(typeName(), { retry: { maxAttempts: 2 } });
      tail = await openTail(`${gw.space(space)}/tail`);
      await emit(typeName(), 'e1');
      const frames = [await tail.next(), await tail.next(), await tail.next(), await tail.next()];
      expect(frames.map((f) => [f.event, f.data.attempt])).toEqual([
        ['event.received', undefined],
        ['delivery.failed', 1],
        ['delivery.failed', 2],
        ['delivery.deadlettered', 2],
      ]);
      expect(frames[1]?.data.error).toMatch(/503/);
      expect(frames[3]?.data).toMatchObject({ functionId: 'f', error: expect.stringMatching(/503/), deliveryId: expect.any(String) });
    });

    it('shows sync calls with mode sync', async () => {
      await call('POST', `${gw.space(space)}/eventtypes`, { name: typeName() });
      await call('POST', `${gw.space(space)}/functions`, { functionId: 'f', type: 'http', provider: { url: target.url } });
      await call('POST', `${gw.space(space)}/subscriptions`, { type: 'sync', eventType: typeName(), functionId: 'f', path: `/${space}/sync` });
      tail = await openTail(`${gw.space(space)}/tail`);
      const res = await fetch(`${gw.eventsUrl}/${space}/sync`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: structured(typeName(), 's1') });
      expect(res.status).toBe(200);
      expect((await tail.next()).event).toBe('event.received');
      expect((await tail.next()).data).toMatchObject({ kind: 'delivery.succeeded', mode: 'sync', attempt: 1, eventId: 's1', functionId: 'f' });
    });

    it('shows an event of a registered type that no subscriber matched, as not routed', async () => {
      await register(typeName());
      tail = await openTail(`${gw.space(space)}/tail`);
      const res = await fetch(`${gw.eventsUrl}/${space}/wrong-path`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: structured(typeName(), 'lost') });
      expect(res.status).toBe(202);
      expect((await tail.next()).data).toMatchObject({ kind: 'event.received', eventId: 'lost', routed: false });
    });

    it('filters on ?eventType=', async () => {
      await register(typeName('a'));
      await call('POST', `${gw.space(space)}/eventtypes`, { name: typeName('b') });
      tail = await openTail(`${gw.space(space)}/tail?eventType=${typeName('b')}`);
      await emit(typeName('a'), 'skipped');
      await emit(typeName('b'), 'shown');
      const first = await tail.next();
      expect(first.data).toMatchObject({ kind: 'event.received', eventType: typeName('b'), eventId: 'shown' });
    });

    it('shows only its own space', async () => {
      const other = `${space}-other`;
      await call('POST', `${gw.space(other)}/eventtypes`, { name: `${other}.order` });
      await register(typeName());
      tail = await openTail(`${gw.space(space)}/tail`);
      await emit(`${other}.order`, 'elsewhere');
      await emit(typeName(), 'here');
      expect((await tail.next()).data).toMatchObject({ space, eventId: 'here' });
    });

    it('announces a large event without its body, and an invalid one with its error', async () => {
      await call('POST', `${gw.space(space)}/eventtypes`, { name: typeName(), schema: { type: 'object', properties: { n: { type: 'number' } } } });
      await call('POST', `${gw.space(space)}/functions`, { functionId: 'f', type: 'http', provider: { url: target.url } });
      await call('POST', `${gw.space(space)}/subscriptions`, { type: 'async', eventType: typeName(), functionId: 'f', path: `/${space}` });
      tail = await openTail(`${gw.space(space)}/tail`);
      await emit(typeName(), 'big', { n: 1, text: 'x'.repeat(5000) });
      const big = await tail.next();
      expect(big.data).toMatchObject({ kind: 'event.received', eventId: 'big', truncated: true });
      expect(big.data.size).toBeGreaterThan(5000);
      await tail.next(); // its delivery
      expect('event' in big.data).toBe(false);
      const refused = await fetch(`${gw.eventsUrl}/${space}`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: structured(typeName(), 'bad', { n: 'one' }) });
      expect(refused.status).toBe(400);
      expect((await tail.next()).data).toMatchObject({ kind: 'event.invalid', eventId: 'bad', error: "Event doesn't validate: data/n must be number" });
    });
  });

  describe('limits', () => {
    let gw: TestGateway;
    const tails: TestTail[] = [];
    afterEach(async () => {
      for (const t of tails.splice(0)) t.close();
      await gw.stop();
    });

    it('refuses more tails than the limit with 429, and accepts one again once a tail closes', async () => {
      gw = await startTestGateway({ tail: { maxTails: 2 } });
      tails.push(await openTail(`${gw.space()}/tail`), await openTail(`${gw.space()}/tail`));
      const third = await openTail(`${gw.space()}/tail`);
      expect(third.status).toBe(429);
      expect(errorOf(third.body)).toBe('Too many live tails: at most 2 per gateway process. Close one and try again.');
      tails[0]?.close();
      const again = await eventually(async () => {
        const t = await openTail(`${gw.space()}/tail`);
        if (t.status === 200) return t;
        return undefined;
      }, 'a free tail');
      tails.push(again);
      expect(again.status).toBe(200);
    });

    it('drops a client that does not read, while events keep being accepted', async () => {
      gw = await startTestGateway({ tail: { maxTails: 1, maxBufferedBytes: 64 * 1024 } });
      await call('POST', `${gw.space()}/eventtypes`, { name: 'bulk' });
      // A client that sends its request and never reads a byte of the answer.
      const slow = connect(gw.configPort, '127.0.0.1');
      slow.pause();
      slow.write(`GET /v1/spaces/default/tail HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`);
      await eventually(async () => {
        const probe = await openTail(`${gw.space()}/tail`);
        probe.close();
        return probe.status === 429 ? true : undefined;
      }, 'the slow tail to be open');
      const batch = JSON.stringify(Array.from({ length: 50 }, (_, i) => JSON.parse(structured('bulk', `b${i}`, { pad: 'x'.repeat(3500) }))));
      const statuses: number[] = [];
      // Enough bytes to fill the kernel's socket buffers and then the tail's own limit.
      const free = await eventually(async () => {
        const res = await fetch(gw.eventsUrl, { method: 'POST', headers: { 'content-type': 'application/cloudevents-batch+json' }, body: batch });
        statuses.push(res.status);
        const t = await openTail(`${gw.space()}/tail`);
        if (t.status === 200) return t;
        return undefined;
      }, 'the slow tail to be dropped', 60_000);
      tails.push(free);
      expect(new Set(statuses)).toEqual(new Set([202]));
      slow.destroy();
    });

    it('ends open tails when the gateway stops', async () => {
      gw = await startTestGateway();
      const t = await openTail(`${gw.space()}/tail`);
      const ended = t.next(30_000).then(
        () => 'frame',
        (err: Error) => err.message,
      );
      await gw.stop();
      expect(await ended).toBe('the tail ended');
      gw = await startTestGateway();
    });
  });

  describe('access keys', () => {
    let gw: TestGateway;
    const full = 'full-access-key-0123456789';
    const limited = 'space-a-only-key-0123456789';
    beforeAll(async () => {
      gw = await startTestGateway({ configAccess: { keys: [{ key: full }, { key: limited, spaces: ['space-a'], readOnly: true }], withoutKeys: 'read-only' } });
    });
    afterAll(() => gw.stop());
    const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

    it('needs a key', async () => {
      const t = await openTail(`${gw.space('space-a')}/tail`);
      expect(t.status).toBe(401);
    });

    it('lets a space-limited (even read-only) key follow its space and nothing else', async () => {
      const other = await openTail(`${gw.space('space-b')}/tail`, bearer(limited));
      expect(other.status).toBe(403);
      expect(errorOf(other.body)).toBe('This access key may not use space "space-b".');
      const own = await openTail(`${gw.space('space-a')}/tail`, bearer(limited));
      try {
        expect(own.status).toBe(200);
        for (const space of ['space-b', 'space-a']) {
          const res = await fetch(`${gw.space(space)}/eventtypes`, { method: 'POST', headers: { ...bearer(full), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'shared.type' }) });
          expect(res.status).toBe(201);
        }
        // Both spaces know the type, so one event is received by both; the tail shows only space-a's.
        await fetch(gw.eventsUrl, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: structured('shared.type', 'one') });
        const first = await own.next();
        expect(first.data).toMatchObject({ space: 'space-a', eventId: 'one' });
        await fetch(gw.eventsUrl, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: structured('shared.type', 'two') });
        expect((await own.next()).data).toMatchObject({ space: 'space-a', eventId: 'two' });
      } finally {
        own.close();
      }
    });
  });
});
