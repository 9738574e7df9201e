import { errorOf, call, sharedGateway, startTestGateway, subscribe, type TestGateway } from '../support/gateway';
import { TestTarget } from '../support/target';

describe('Events API', () => {
  let gw: TestGateway;
  let target: TestTarget;
  let space: string;
  sharedGateway('events', (fixture) => ({ gw, target, space } = fixture));

  const emit = (path: string, init: RequestInit = {}) => fetch(`${gw.eventsUrl}${path}`, init);
  const cloudEvent = (eventType: string, data: unknown = { ok: true }) =>
    JSON.stringify({ eventType, cloudEventsVersion: '0.1', source: '/tests', eventID: `id-${Math.random()}`, data });

  describe('sync subscriptions', () => {
    it('let the function answer an http.request, with path parameters and query', async () => {
      await subscribe(gw, { space, type: 'sync', eventType: 'http.request', functionId: 'users', url: target.url, path: `/${space}/users/:id`, method: 'GET' });
      target.respondWith({ statusCode: 201, headers: { 'x-served-by': 'users' }, body: 'user 42' });
      const res = await emit(`/${space}/users/42?fields=name&fields=age`);
      expect(res.status).toBe(201);
      expect(res.headers.get('x-served-by')).toBe('users');
      expect(await res.text()).toBe('user 42');
      const event = target.received[0]?.json() as any;
      expect(target.received[0]?.headers['content-type']).toBe('application/cloudevents+json');
      expect(event).toMatchObject({ eventType: 'http.request', cloudEventsVersion: '0.1' });
      expect(event.data).toMatchObject({ path: `/${space}/users/42`, method: 'GET', params: { id: '42' }, query: { fields: ['name', 'age'] } });
    });

    it('give a wildcard the rest of the path', async () => {
      await subscribe(gw, { space, type: 'sync', eventType: 'http.request', functionId: 'files', url: target.url, path: `/${space}/files/*path`, method: 'GET' });
      target.respondWith({ body: 'file' });
      expect((await emit(`/${space}/files/a/b/c.txt`)).status).toBe(200);
      expect((target.received[0]?.json() as any).data.params).toEqual({ path: 'a/b/c.txt' });
    });

    it('answer a custom event emitted by the official client shape', async () => {
      await subscribe(gw, { space, type: 'sync', eventType: 'user.created', functionId: 'f', url: target.url, path: `/${space}` });
      target.respondWith({ body: '{"done":true}', headers: { 'content-type': 'application/json' } });
      const res = await emit(`/${space}`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: cloudEvent('user.created') });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ done: true });
    });

    it('answer 500 with the contract message when the target fails or is unreachable', async () => {
      await subscribe(gw, { space, type: 'sync', eventType: 'http.request', functionId: 'broken', url: target.url, path: `/${space}/broken`, method: 'GET' });
      target.behaviour = () => ({ status: 500, body: 'boom' });
      const failed = await emit(`/${space}/broken`);
      expect(failed.status).toBe(500);
      expect(errorOf(await failed.json())).toBe('Function call failed. Please check logs.');
      await target.close();
      const unreachable = await emit(`/${space}/broken`);
      expect(unreachable.status).toBe(500);
      expect(errorOf(await unreachable.json())).toBe('Function call failed. Please check logs.');
    });

    it('use the response object of a function that answers with a 4xx status, as the original did', async () => {
      await subscribe(gw, { space, type: 'sync', eventType: 'http.request', functionId: 'lookup', url: target.url, path: `/${space}/items/:id`, method: 'GET' });
      target.behaviour = () => ({ status: 404, body: JSON.stringify({ statusCode: 404, body: 'no such item' }) });
      const res = await emit(`/${space}/items/7`);
      expect(res.status).toBe(404);
      expect(await res.text()).toBe('no such item');
      target.behaviour = () => ({ status: 503, body: JSON.stringify({ statusCode: 503, body: 'busy' }) });
      const failed = await emit(`/${space}/items/7`);
      expect(failed.status).toBe(500);
      expect(errorOf(await failed.json())).toBe('Function call failed. Please check logs.');
    });

    it('answer 500 "HTTP response object malformed" when the result is not a response object', async () => {
      await subscribe(gw, { space, type: 'sync', eventType: 'http.request', functionId: 'odd', url: target.url, path: `/${space}/odd`, method: 'GET' });
      target.behaviour = () => ({ status: 200, body: 'plain text' });
      const res = await emit(`/${space}/odd`);
      expect(res.status).toBe(500);
      expect(errorOf(await res.json())).toBe('HTTP response object malformed');
    });

    it('see a config change at once', async () => {
      const sub = await subscribe(gw, { space, type: 'sync', eventType: 'http.request', functionId: 'f', url: target.url, path: `/${space}/live`, method: 'GET' });
      target.respondWith({ body: 'here' });
      expect((await emit(`/${space}/live`)).status).toBe(200);
      await call('DELETE', `${gw.space(space)}/subscriptions/${sub.subscriptionId}`);
      expect((await emit(`/${space}/live`)).status).toBe(202);
    });
  });

  describe('async subscriptions', () => {
    it('fan an event out to every subscriber and answer 202 at once', async () => {
      const second = await TestTarget.start();
      try {
        await subscribe(gw, { space, type: 'async', eventType: 'order.placed', functionId: 'a', url: target.url, path: `/${space}` });
        await call('POST', `${gw.space(space)}/functions`, { functionId: 'b', type: 'http', provider: { url: second.url } });
        await call('POST', `${gw.space(space)}/subscriptions`, { type: 'async', eventType: 'order.placed', functionId: 'b', path: `/${space}` });
        target.behaviour = () => 'hang';
        const res = await emit(`/${space}`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: cloudEvent('order.placed', { total: 9 }) });
        expect(res.status).toBe(202);
        expect(await res.text()).toBe('');
        await second.waitFor(1);
        await target.waitFor(1);
        expect((second.received[0]?.json() as any).data).toEqual({ total: 9 });
        expect(second.received[0]?.headers['event-gateway-delivery-id']).toMatch(/^[0-9a-f-]{36}$/);
      } finally {
        await second.close();
      }
    });

    it('deliver a legacy Event-header event wrapped as data', async () => {
      await subscribe(gw, { space, type: 'async', eventType: 'page.visited', functionId: 'a', url: target.url, path: `/${space}` });
      const res = await emit(`/${space}`, { method: 'POST', headers: { event: 'page.visited', 'content-type': 'application/json' }, body: '{"page":"/"}' });
      expect(res.status).toBe(202);
      await target.waitFor(1);
      expect(target.received[0]?.json()).toMatchObject({ eventType: 'page.visited', data: { page: '/' } });
    });

    it('deliver a binary CloudEvent', async () => {
      await subscribe(gw, { space, type: 'async', eventType: 'bin.event', functionId: 'a', url: target.url, path: `/${space}` });
      const headers = { 'ce-eventtype': 'bin.event', 'ce-cloudeventsversion': '0.1', 'ce-source': '/x', 'ce-eventid': '1', 'content-type': 'text/plain' };
      expect((await emit(`/${space}`, { method: 'POST', headers, body: 'hello' })).status).toBe(202);
      await target.waitFor(1);
      expect(target.received[0]?.json()).toMatchObject({ eventType: 'bin.event', eventID: '1', data: Buffer.from('hello').toString('base64') });
    });
  });

  describe('authorizers', () => {
    const setupGuarded = async (authorizer: TestTarget, type: 'sync' | 'async') => {
      const base = gw.space(space);
      await call('POST', `${base}/functions`, { functionId: 'auth', type: 'http', provider: { url: authorizer.url } });
      await call('POST', `${base}/functions`, { functionId: 'work', type: 'http', provider: { url: target.url } });
      await call('POST', `${base}/eventtypes`, { name: 'guarded', authorizerId: 'auth' });
      const sub = await call('POST', `${base}/subscriptions`, { type, eventType: 'guarded', functionId: 'work', path: `/${space}` });
      expect(sub.status).toBe(201);
    };

    it('let an allowed event through with its authorization attached', async () => {
      const authorizer = await TestTarget.start();
      try {
        authorizer.respondWith({ authorization: { principalId: 'alice', context: { role: 'admin' } } });
        await setupGuarded(authorizer, 'sync');
        target.respondWith({ body: 'ok' });
        const res = await emit(`/${space}?token=t`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json', authorization: 'secret' }, body: cloudEvent('guarded') });
        expect(res.status).toBe(200);
        const asked = authorizer.received[0]?.json() as any;
        expect(asked.event.eventType).toBe('guarded');
        expect(asked.request).toMatchObject({ path: `/${space}`, method: 'POST', query: { token: ['t'] } });
        expect(asked.request.headers.Authorization).toBe('secret');
        expect((target.received[0]?.json() as any).extensions.eventgateway.authorization).toEqual({ principalId: 'alice', context: { role: 'admin' } });
      } finally {
        await authorizer.close();
      }
    });

    it.each([
      ['an error answer', { status: 200, body: JSON.stringify({ error: { message: 'no entry' } }) }],
      ['an unparseable answer', { status: 200, body: 'yes please' }],
      ['a failed call', { status: 500, body: '' }],
    ])('deny a sync request on %s with 403', async (_name, answer) => {
      const authorizer = await TestTarget.start();
      try {
        authorizer.behaviour = () => answer;
        await setupGuarded(authorizer, 'sync');
        const res = await emit(`/${space}`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: cloudEvent('guarded') });
        expect(res.status).toBe(403);
        expect(typeof errorOf(await res.json())).toBe('string');
        expect(target.received).toHaveLength(0);
      } finally {
        await authorizer.close();
      }
    });

    it('skip async subscribers of a denied event', async () => {
      const authorizer = await TestTarget.start();
      const audit = await TestTarget.start();
      try {
        authorizer.respondWith({ error: { message: 'denied' } });
        await setupGuarded(authorizer, 'async');
        const res = await emit(`/${space}`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: cloudEvent('guarded') });
        expect(res.status).toBe(202);
        await authorizer.waitFor(1);
        // A later, unguarded event to the same space proves the queue ran past the denied one.
        await subscribe(gw, { space, type: 'async', eventType: 'open', functionId: 'audit', url: audit.url, path: `/${space}` });
        await emit(`/${space}`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: cloudEvent('open') });
        await audit.waitFor(1);
        expect(target.received).toHaveLength(0);
      } finally {
        await authorizer.close();
        await audit.close();
      }
    });
  });

  describe('CORS', () => {
    it('answers a preflight from the configuration and adds headers to the actual request', async () => {
      await subscribe(gw, { space, type: 'sync', eventType: 'http.request', functionId: 'api', url: target.url, path: `/${space}/api`, method: 'GET' });
      await call('POST', `${gw.space(space)}/cors`, { method: 'GET', path: `/${space}/api`, allowedOrigins: ['https://*.example.com'], allowCredentials: true });
      target.respondWith({ body: 'data' });
      const preflight = await emit(`/${space}/api`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET', 'access-control-request-headers': 'Content-Type' },
      });
      expect(preflight.status).toBe(200);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      expect(preflight.headers.get('access-control-allow-methods')).toBe('GET');
      expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
      expect(target.received).toHaveLength(0);
      const actual = await emit(`/${space}/api`, { headers: { origin: 'https://app.example.com' } });
      expect(actual.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      const stranger = await emit(`/${space}/api`, { method: 'OPTIONS', headers: { origin: 'https://evil.test', 'access-control-request-method': 'GET' } });
      expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('stays off without a configuration', async () => {
      await subscribe(gw, { space, type: 'sync', eventType: 'http.request', functionId: 'api', url: target.url, path: `/${space}/plain`, method: 'GET' });
      target.respondWith({ body: 'data' });
      const res = await emit(`/${space}/plain`, { headers: { origin: 'https://app.example.com' } });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  describe('system events', () => {
    it('tell subscribers that a function is being invoked and was invoked', async () => {
      const observer = await TestTarget.start();
      try {
        await subscribe(gw, { space, type: 'sync', eventType: 'http.request', functionId: 'api', url: target.url, path: `/${space}/sys`, method: 'GET' });
        const base = gw.space(space);
        await call('POST', `${base}/functions`, { functionId: 'observer', type: 'http', provider: { url: observer.url } });
        for (const type of ['eventgateway.event.received', 'eventgateway.function.invoking', 'eventgateway.function.invoked']) {
          await call('POST', `${base}/eventtypes`, { name: type });
          const res = await call('POST', `${base}/subscriptions`, { type: 'async', eventType: type, functionId: 'observer' });
          expect(res.status).toBe(201);
        }
        target.respondWith({ body: 'hi' });
        expect((await emit(`/${space}/sys`)).status).toBe(200);
        await observer.waitFor(3);
        const events = observer.received.map((r) => r.json() as any);
        expect(events.map((e) => e.eventType).sort()).toEqual(['eventgateway.event.received', 'eventgateway.function.invoked', 'eventgateway.function.invoking']);
        const invoked = events.find((e) => e.eventType === 'eventgateway.function.invoked');
        expect(invoked.data).toMatchObject({ space, functionId: 'api', event: { eventType: 'http.request' } });
        expect(invoked.source).toBe('https://serverless.com/event-gateway/#transformationVersion=0.1');
      } finally {
        await observer.close();
      }
    });

    it('reports a failed invocation', async () => {
      const observer = await TestTarget.start();
      try {
        await subscribe(gw, { space, type: 'sync', eventType: 'http.request', functionId: 'api', url: target.url, path: `/${space}/fail`, method: 'GET' });
        const base = gw.space(space);
        await call('POST', `${base}/functions`, { functionId: 'observer', type: 'http', provider: { url: observer.url } });
        await call('POST', `${base}/eventtypes`, { name: 'eventgateway.function.invocationFailed' });
        await call('POST', `${base}/subscriptions`, { type: 'async', eventType: 'eventgateway.function.invocationFailed', functionId: 'observer' });
        target.behaviour = () => ({ status: 503 });
        expect((await emit(`/${space}/fail`)).status).toBe(500);
        await observer.waitFor(1);
        const failed = observer.received[0]?.json() as any;
        expect(failed.data).toMatchObject({ functionId: 'api', error: { message: expect.stringContaining('503') } });
      } finally {
        await observer.close();
      }
    });

    it('refuses system events sent from outside', async () => {
      const res = await emit(`/${space}`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: cloudEvent('eventgateway.function.invoked') });
      expect(res.status).toBe(400);
      expect(errorOf(await res.json())).toContain('eventgateway.function.invoked');
    });
  });

  describe('bad input', () => {
    it.each([
      ['malformed JSON', '{"eventType":'],
      ['a CloudEvent without eventID', JSON.stringify({ eventType: 'x', cloudEventsVersion: '0.1', source: '/s' })],
      ['a JSON string', '"hello"'],
    ])('answers %s with a 400 JSON error', async (_name, body) => {
      const res = await emit('/', { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(errorOf(await res.json())).toMatch(/^CloudEvent doesn't validate: /);
    });

    it('answers an oversized event with 413', async () => {
      const res = await emit('/', { method: 'POST', body: 'x'.repeat(1024 * 1024 + 1) });
      expect(res.status).toBe(413);
      expect(typeof errorOf(await res.json())).toBe('string');
    });

    it('accepts a request no one subscribed to with 202', async () => {
      expect((await emit('/nobody/here', { method: 'DELETE' })).status).toBe(202);
    });
  });

  describe('several spaces', () => {
    it('let the first space in name order answer when two spaces register the same sync path', async () => {
      const other = await TestTarget.start();
      try {
        // Registered in the opposite order, so that the answer follows the names, not the registration.
        await subscribe(gw, { space: `${space}-b`, type: 'sync', eventType: 'http.request', functionId: 'f', url: other.url, path: `/${space}/shared/:id`, method: 'GET' });
        const first = await subscribe(gw, { space: `${space}-a`, type: 'sync', eventType: 'http.request', functionId: 'f', url: target.url, path: `/${space}/shared/:id`, method: 'GET' });
        target.respondWith({ body: 'from a' });
        other.respondWith({ body: 'from b' });
        expect(await (await emit(`/${space}/shared/1`)).text()).toBe('from a');
        expect((await call('DELETE', `${gw.space(`${space}-a`)}/subscriptions/${first.subscriptionId}`)).status).toBe(204);
        expect(await (await emit(`/${space}/shared/1`)).text()).toBe('from b');
      } finally {
        await other.close();
      }
    });

    it('count an event only in the spaces whose subscribers it matched', async () => {
      await subscribe(gw, { space: `${space}-sub`, type: 'async', eventType: 'spaced', functionId: 'a', url: target.url, path: `/${space}` });
      await call('POST', `${gw.space(`${space}-idle`)}/eventtypes`, { name: 'spaced' });
      await emit(`/${space}`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: cloudEvent('spaced') });
      await target.waitFor(1);
      const text = await (await fetch(`${gw.configUrl}/v1/metrics`)).text();
      expect(text).toContain(`eventgateway_events_received_total{space="${space}-sub",type="spaced"} 1`);
      expect(text).not.toContain(`eventgateway_events_received_total{space="${space}-idle"`);
    });
  });

  describe('metrics', () => {
    it('count received and processed events per space and type', async () => {
      await subscribe(gw, { space, type: 'async', eventType: 'counted', functionId: 'a', url: target.url, path: `/${space}` });
      for (let i = 0; i < 3; i++) {
        await emit(`/${space}`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: cloudEvent('counted') });
      }
      await target.waitFor(3);
      const text = await (await fetch(`${gw.configUrl}/v1/metrics`)).text();
      expect(text).toContain(`eventgateway_events_received_total{space="${space}",type="counted"} 3`);
      expect(text).toContain(`eventgateway_events_processed_total{space="${space}",type="counted"} 3`);
      expect(text).toContain(`eventgateway_functions_total{space="${space}"} 1`);
      expect(text).toContain(`eventgateway_subscriptions_total{space="${space}"} 1`);
      expect(text).toMatch(/eventgateway_events_custom_processing_seconds_count \d+/);
    });

    it('report an empty backlog once deliveries are done', async () => {
      // A gateway of its own: deliveries still retrying from other tests would count in the backlog.
      const own = await startTestGateway();
      try {
        await subscribe(own, { type: 'async', eventType: 'drained', functionId: 'a', url: target.url });
        await fetch(own.eventsUrl, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: cloudEvent('drained') });
        await target.waitFor(1);
        let text = '';
        for (let i = 0; i < 50 && !text.includes('eventgateway_events_backlog 0'); i++) {
          text = await (await fetch(`${own.configUrl}/v1/metrics`)).text();
          if (!text.includes('eventgateway_events_backlog 0')) await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expect(text).toContain('eventgateway_events_backlog 0');
      } finally {
        await own.stop();
      }
    });
  });
});
