import { CloudEvent, emitterFor, HTTP, httpTransport, Mode } from 'cloudevents';
import { decodeHeaderValue } from '../../lib/events/http-binding';
import { errorOf, call, sharedGateway, subscribe, type TestGateway } from '../support/gateway';
import { TestTarget, type ReceivedRequest } from '../support/target';

/** What a target received, read back with the CloudEvents SDK as a real receiver would. */
const asSdkEvent = (req: ReceivedRequest) => HTTP.toEvent({ headers: req.headers, body: req.body }) as CloudEvent<any>;

describe('CloudEvents 1.0 over HTTP', () => {
  let gw: TestGateway;
  let target: TestTarget;
  let space: string;
  sharedGateway('ce', (fixture) => ({ gw, target, space } = fixture));

  const url = () => `${gw.eventsUrl}/${space}`;
  const send = (message: { headers: Record<string, unknown>; body: unknown }) =>
    fetch(url(), { method: 'POST', headers: message.headers as Record<string, string>, body: message.body as string });
  const sdkEvent = (type: string, extra: Record<string, unknown> = {}) =>
    new CloudEvent({ type, source: 'https://shop.example/orders', data: { total: 9 }, subject: 'order 42', tenant: 'acme', ...extra });

  describe('receiving from the CloudEvents SDK', () => {
    it('takes a binary-mode event from the SDK emitter and delivers it in 1.0, structured', async () => {
      await subscribe(gw, { space, type: 'async', eventType: 'order.placed', functionId: 'f', url: target.url, path: `/${space}` });
      const sent = sdkEvent('order.placed');
      await emitterFor(httpTransport(url()), { mode: Mode.BINARY })(sent);
      await target.waitFor(1);
      const delivered = target.received[0] as ReceivedRequest;
      expect(delivered.headers['content-type']).toBe('application/cloudevents+json');
      expect(delivered.json()).toMatchObject({ specversion: '1.0', id: sent.id, type: 'order.placed', subject: 'order 42', tenant: 'acme', data: { total: 9 } });
      const received = asSdkEvent(delivered);
      expect([received.id, received.type, received.source, received.tenant]).toEqual([sent.id, sent.type, sent.source, 'acme']);
      expect(received.data).toEqual({ total: 9 });
    });

    it('answers 202 to a structured-mode event from the SDK message builder', async () => {
      await subscribe(gw, { space, type: 'async', eventType: 'order.placed', functionId: 'f', url: target.url, path: `/${space}` });
      const sent = sdkEvent('order.placed');
      const res = await send(HTTP.structured(sent));
      expect(res.status).toBe(202);
      await target.waitFor(1);
      expect(asSdkEvent(target.received[0] as ReceivedRequest).id).toBe(sent.id);
    });

    it('lets a sync subscriber answer a binary-mode event', async () => {
      await subscribe(gw, { space, type: 'sync', eventType: 'price.asked', functionId: 'f', url: target.url, path: `/${space}` });
      target.respondWith({ statusCode: 200, body: '{"price":3}', headers: { 'content-type': 'application/json' } });
      const res = await send(HTTP.binary(sdkEvent('price.asked')));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ price: 3 });
      expect(target.received[0]?.json()).toMatchObject({ specversion: '1.0', type: 'price.asked' });
    });

    it('routes each event of a batch on its own and says which were accepted', async () => {
      const other = await TestTarget.start();
      try {
        await subscribe(gw, { space, type: 'async', eventType: 'order.placed', functionId: 'orders', url: target.url, path: `/${space}` });
        await subscribe(gw, { space, type: 'async', eventType: 'user.created', functionId: 'users', url: other.url, path: `/${space}` });
        const events = [sdkEvent('order.placed').toJSON(), sdkEvent('user.created').toJSON(), { specversion: '1.0', type: 'order.placed', source: '/x' }];
        const res = await fetch(url(), { method: 'POST', headers: { 'content-type': 'application/cloudevents-batch+json' }, body: JSON.stringify(events) });
        expect(res.status).toBe(202);
        const answer = (await res.json()) as any;
        expect(answer).toMatchObject({ accepted: 2, rejected: 1 });
        expect(answer.results[0]).toEqual({ index: 0, id: events[0]?.id, type: 'order.placed', accepted: true });
        expect(answer.results[1]).toEqual({ index: 1, id: events[1]?.id, type: 'user.created', accepted: true });
        expect(answer.results[2]).toMatchObject({ index: 2, type: 'order.placed', accepted: false, error: expect.stringMatching(/'CloudEvent.id'.*required/) });
        await target.waitFor(1);
        await other.waitFor(1);
        expect((target.received[0]?.json() as any).id).toBe(events[0]?.id);
        expect((other.received[0]?.json() as any).id).toBe(events[1]?.id);
      } finally {
        await other.close();
      }
    });

    it.each([
      ['an empty batch', '[]', /the batch is empty/],
      ['a batch of only invalid events', '[{"specversion":"1.0"}]', /no event of the batch is valid/],
    ])('refuses %s with 400 and the JSON error body', async (_name, body, message) => {
      const res = await fetch(url(), { method: 'POST', headers: { 'content-type': 'application/cloudevents-batch+json' }, body });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(errorOf(await res.json())).toMatch(message);
    });

    it.each([
      ['a binary event without ce-id', { 'ce-specversion': '1.0', 'ce-type': 't', 'ce-source': '/s' }, '', /'CloudEvent.id'.*'required'/],
      [
        'a structured event without specversion',
        { 'content-type': 'application/cloudevents+json' },
        JSON.stringify({ type: 't', source: '/s', id: '1' }),
        /'CloudEvent.specversion'.*'required'/,
      ],
    ])('answers 400 to %s', async (_name, headers, body, message) => {
      const res = await fetch(url(), { method: 'POST', headers, body });
      expect(res.status).toBe(400);
      expect(errorOf(await res.json())).toMatch(new RegExp(`^CloudEvent doesn't validate: .*${message.source}`));
    });
  });

  describe('delivery modes', () => {
    const subscribeWith = async (eventType: string, delivery: unknown, type: 'async' | 'sync' = 'async', extra: Record<string, unknown> = {}) => {
      await subscribe(gw, { space, type, eventType, functionId: 'f', url: target.url, path: `/${space}`, ...extra });
      const id = (await call('GET', `${gw.space(space)}/subscriptions`)).body.subscriptions[0].subscriptionId;
      const body = { type, eventType, functionId: 'f', path: (extra.path as string | undefined) ?? `/${space}`, method: (extra.method as string | undefined) ?? 'POST', delivery };
      const updated = await call('PUT', `${gw.space(space)}/subscriptions/${id}`, body);
      expect(updated.status).toBe(200);
      expect(updated.body.delivery).toEqual(delivery);
    };

    it('sends a 1.0 event in binary mode: percent-encoded ce- headers and the data as body', async () => {
      await subscribeWith('order.placed', { mode: 'binary' });
      const sent = sdkEvent('order.placed', { subject: 'Euro € 😀' });
      const message = HTTP.structured(sent);
      expect((await send(message)).status).toBe(202);
      await target.waitFor(1);
      const delivered = target.received[0] as ReceivedRequest;
      expect(delivered.headers['ce-specversion']).toBe('1.0');
      expect(delivered.headers['ce-id']).toBe(sent.id);
      expect(delivered.headers['ce-subject']).toBe('Euro%20%E2%82%AC%20%F0%9F%98%80');
      expect(decodeHeaderValue(delivered.headers['ce-subject'] as string)).toBe('Euro € 😀');
      expect(delivered.headers['content-type']).toBe('application/json');
      expect(delivered.json()).toEqual({ total: 9 });
      const received = asSdkEvent(delivered);
      expect([received.type, received.tenant, received.data]).toEqual(['order.placed', 'acme', { total: 9 }]);
    });

    it('sends binary data of a binary-mode event back as the same bytes', async () => {
      await subscribeWith('file.uploaded', { mode: 'binary' });
      const bytes = Buffer.from([0, 1, 2, 250, 255]);
      const headers = { 'ce-specversion': '1.0', 'ce-type': 'file.uploaded', 'ce-source': '/files', 'ce-id': 'f1', 'content-type': 'application/octet-stream' };
      expect((await fetch(url(), { method: 'POST', headers, body: bytes })).status).toBe(202);
      await target.waitFor(1);
      expect(target.received[0]?.headers['content-type']).toBe('application/octet-stream');
      expect(target.received[0]?.raw).toEqual(bytes);
    });

    it('turns an http.request into 1.0 for a sync subscription that asks for 1.0 in binary mode', async () => {
      await subscribeWith('http.request', { mode: 'binary', specversion: '1.0' }, 'sync', { method: 'GET', path: `/${space}/users/:id` });
      target.respondWith({ body: 'hello' });
      const res = await fetch(`${gw.eventsUrl}/${space}/users/7`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('hello');
      const delivered = target.received[0] as ReceivedRequest;
      expect(delivered.headers).toMatchObject({ 'ce-specversion': '1.0', 'ce-type': 'http.request', 'ce-eventgatewaytransformed': 'true' });
      expect(delivered.json()).toMatchObject({ method: 'GET', path: `/${space}/users/7`, params: { id: '7' } });
    });

    it('keeps a 0.1 event 0.1 unless the subscription asks for 1.0', async () => {
      await subscribe(gw, { space, type: 'async', eventType: 'legacy', functionId: 'f', url: target.url, path: `/${space}` });
      const event = { eventType: 'legacy', cloudEventsVersion: '0.1', source: '/old', eventID: 'L1', data: { a: 1 } };
      await fetch(url(), { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(event) });
      await target.waitFor(1);
      expect(target.received[0]?.json()).toEqual(event);
      const id = (await call('GET', `${gw.space(space)}/subscriptions`)).body.subscriptions[0].subscriptionId;
      await call('PUT', `${gw.space(space)}/subscriptions/${id}`, { type: 'async', eventType: 'legacy', functionId: 'f', path: `/${space}`, delivery: { specversion: '1.0' } });
      await fetch(url(), { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify({ ...event, eventID: 'L2' }) });
      await target.waitFor(2);
      expect(target.received[1]?.json()).toEqual({ specversion: '1.0', type: 'legacy', source: '/old', id: 'L2', data: { a: 1 } });
    });

    it('attaches an authorizer answer to a 1.0 event as the eventgatewayauthorization extension', async () => {
      const authorizer = await TestTarget.start();
      try {
        authorizer.respondWith({ authorization: { principalId: 'alice' } });
        const base = gw.space(space);
        await call('POST', `${base}/functions`, { functionId: 'auth', type: 'http', provider: { url: authorizer.url } });
        await call('POST', `${base}/functions`, { functionId: 'work', type: 'http', provider: { url: target.url } });
        await call('POST', `${base}/eventtypes`, { name: 'guarded', authorizerId: 'auth' });
        await call('POST', `${base}/subscriptions`, { type: 'async', eventType: 'guarded', functionId: 'work', path: `/${space}` });
        expect((await send(HTTP.binary(sdkEvent('guarded')))).status).toBe(202);
        await target.waitFor(1);
        expect((authorizer.received[0]?.json() as any).event).toMatchObject({ specversion: '1.0', type: 'guarded' });
        expect(JSON.parse((target.received[0]?.json() as any).eventgatewayauthorization)).toEqual({ principalId: 'alice' });
      } finally {
        await authorizer.close();
      }
    });

    it('refuses an unknown delivery mode', async () => {
      await subscribe(gw, { space, type: 'async', eventType: 'x', functionId: 'f', url: target.url, path: `/${space}` });
      const res = await call('POST', `${gw.space(space)}/subscriptions`, { type: 'async', eventType: 'x', functionId: 'f', path: '/other', delivery: { mode: 'smoke' } });
      expect(res.status).toBe(400);
      expect(errorOf(res.body)).toBe("Subscription doesn't validate. Validation error: delivery.mode must be one of structured, binary");
    });
  });
});
