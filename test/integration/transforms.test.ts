import { call, errorOf, sharedGateway, type TestGateway } from '../support/gateway';
import type { TestTarget } from '../support/target';
import { eventually } from '../support/waiting';

describe('subscription transforms', () => {
  let gw: TestGateway;
  let target: TestTarget;
  let space: string;
  sharedGateway('transforms', (fixture) => ({ gw, target, space } = fixture));

  const base = () => gw.space(space);
  const register = async () => {
    await call('POST', `${base()}/eventtypes`, { name: 'user.created' });
    await call('POST', `${base()}/eventtypes`, { name: 'http.request' });
    await call('POST', `${base()}/functions`, { functionId: 'f', type: 'http', provider: { url: target.url } });
  };
  const asyncSubscription = (extra: Record<string, unknown>) => ({ type: 'async', eventType: 'user.created', functionId: 'f', path: `/${space}`, ...extra });
  const subscribeWith = async (extra: Record<string, unknown>) => {
    await register();
    const res = await call('POST', `${base()}/subscriptions`, asyncSubscription(extra));
    expect(res.status).toBe(201);
    return res.body;
  };
  const emit = async (event: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const res = await fetch(`${gw.eventsUrl}/${space}`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json', ...headers },
      body: JSON.stringify(event),
    });
    expect(res.status).toBe(202);
  };
  const v01 = (data: unknown, id = '1') => ({ eventType: 'user.created', cloudEventsVersion: '0.1', source: '/users', eventID: id, contentType: 'application/json', data });
  const deadLetters = async (count: number) =>
    eventually(async () => {
      const letters = (await call('GET', `${base()}/deadletters`)).body.deadLetters as any[];
      return letters.length >= count ? letters : undefined;
    }, `${count} dead letters`);
  const transformFailures = async (): Promise<number> => {
    const text = await (await fetch(`${gw.configUrl}/v1/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`eventgateway_transform_failures_total{space="${space}",type="user.created"}`));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  describe('on the Config API', () => {
    it('stores a transform with replace spelled out and returns it on create, get and list', async () => {
      const created = await subscribeWith({ transform: { jsonata: '{"name": data.name}' } });
      const stored = { jsonata: '{"name": data.name}', replace: 'data' };
      expect(created.transform).toEqual(stored);
      expect((await call('GET', `${base()}/subscriptions/${created.subscriptionId}`)).body.transform).toEqual(stored);
      expect((await call('GET', `${base()}/subscriptions`)).body.subscriptions[0].transform).toEqual(stored);
    });

    it('omits transform from a subscription that has none', async () => {
      const created = await subscribeWith({});
      expect('transform' in created).toBe(false);
      expect('transform' in (await call('GET', `${base()}/subscriptions/${created.subscriptionId}`)).body).toBe(false);
    });

    it.each([
      ['a syntax error, with jsonata message and position', { jsonata: '{"name": data.name' }, 'transform: Expected "}" before end of expression at position 18'],
      ['an unterminated string', { jsonata: '"Hello ' }, 'transform: String literal must be terminated by a matching quote at position 7'],
      ['an empty expression', { jsonata: ' ' }, 'transform.jsonata must be a non-empty string'],
      ['an unknown replace target', { jsonata: 'data', replace: 'body' }, 'transform.replace must be one of data, event'],
      ['an unknown field', { jsonata: 'data', language: 'jq' }, 'transform has unknown field "language" (use jsonata, replace)'],
    ])('refuses %s with 400', async (_name, transform, detail) => {
      await register();
      const res = await call('POST', `${base()}/subscriptions`, asyncSubscription({ transform }));
      expect(res.status).toBe(400);
      expect(errorOf(res.body)).toBe(`Subscription doesn't validate. Validation error: ${detail}`);
    });

    it('refuses a transform that is not an object in the JSON decoder words', async () => {
      await register();
      const res = await call('POST', `${base()}/subscriptions`, asyncSubscription({ transform: 'data.name' }));
      expect(res.status).toBe(400);
      expect(errorOf(res.body)).toBe(
        "Subscription doesn't validate. Validation error: json: cannot unmarshal string into Go struct field Subscription.transform of type map[string]interface {}",
      );
    });

    it('lets an update change the transform, keeping the ID, and refuses an update with a syntax error', async () => {
      const created = await subscribeWith({ transform: { jsonata: '{"v": 1}' } });
      const updated = await call('PUT', `${base()}/subscriptions/${created.subscriptionId}`, asyncSubscription({ transform: { jsonata: '{"v": 2}' } }));
      expect(updated.status).toBe(200);
      expect(updated.body.subscriptionId).toBe(created.subscriptionId);
      expect(updated.body.transform).toEqual({ jsonata: '{"v": 2}', replace: 'data' });
      await emit(v01({}));
      await target.waitFor(1);
      expect((target.received[0]?.json() as any).data).toEqual({ v: 2 });

      const broken = await call('PUT', `${base()}/subscriptions/${created.subscriptionId}`, asyncSubscription({ transform: { jsonata: '{"v": ' } }));
      expect(broken.status).toBe(400);
      expect(errorOf(broken.body)).toMatch(/^Subscription doesn't validate\. Validation error: transform: .+ at position \d+$/);
      const removed = await call('PUT', `${base()}/subscriptions/${created.subscriptionId}`, asyncSubscription({}));
      expect('transform' in removed.body).toBe(false);
      await emit(v01({ kept: true }, '2'));
      await target.waitFor(2);
      expect((target.received[1]?.json() as any).data).toEqual({ kept: true });
    });
  });

  describe('async deliveries', () => {
    it('replaces data and keeps the envelope (0.1), with a JSON content type', async () => {
      await subscribeWith({ transform: { jsonata: '{"greeting": "Hello " & data.name, "letters": $length(data.name)}' } });
      await emit({ ...v01({ name: 'Ada', password: 'x' }), contentType: 'text/plain' });
      await target.waitFor(1);
      const got = target.received[0];
      expect(got?.headers['content-type']).toBe('application/cloudevents+json');
      expect(got?.json()).toEqual({ ...v01({ greeting: 'Hello Ada', letters: 3 }), contentType: 'application/json' });
    });

    it('replaces data_base64 of a 1.0 event with JSON data', async () => {
      await subscribeWith({ transform: { jsonata: '{"type": type, "bytes": data_base64}' } });
      await emit({ specversion: '1.0', type: 'user.created', source: '/users', id: 'b1', datacontenttype: 'application/octet-stream', data_base64: 'AAEC' });
      await target.waitFor(1);
      const got = target.received[0]?.json() as any;
      expect(got).toEqual({ specversion: '1.0', type: 'user.created', source: '/users', id: 'b1', datacontenttype: 'application/json', data: { type: 'user.created', bytes: 'AAEC' } });
    });

    it('sends the whole result as application/json with replace "event" (a Slack incoming-webhook body)', async () => {
      await subscribeWith({ transform: { jsonata: '{"text": "New user " & data.name & " (" & source & ")"}', replace: 'event' } });
      await emit(v01({ name: 'Ada' }));
      await target.waitFor(1);
      const got = target.received[0];
      expect(got?.headers['content-type']).toBe('application/json');
      expect(got?.json()).toEqual({ text: 'New user Ada (/users)' });
      expect(got?.headers['event-gateway-delivery-id']).toEqual(expect.any(String));
    });

    it('sends transformed data in binary mode when the subscription asks for it', async () => {
      await subscribeWith({ delivery: { mode: 'binary' }, transform: { jsonata: '{"upper": $uppercase(data.name)}' } });
      await emit(v01({ name: 'Ada' }));
      await target.waitFor(1);
      const got = target.received[0];
      expect(got?.headers['content-type']).toBe('application/json');
      expect(got?.headers['ce-eventtype']).toBe('user.created');
      expect(got?.json()).toEqual({ upper: 'ADA' });
    });

    it('evaluates against the event in the form delivered (1.0 when the subscription asks for it)', async () => {
      await subscribeWith({ delivery: { specversion: '1.0' }, transform: { jsonata: '{"id": id, "spec": specversion}' } });
      await emit(v01({}, 'e-7'));
      await target.waitFor(1);
      expect((target.received[0]?.json() as any).data).toEqual({ id: 'e-7', spec: '1.0' });
    });

    it('dead-letters a delivery whose transform fails at run time, without retrying it, and counts it', async () => {
      await subscribeWith({ transform: { jsonata: '$notAFunction(data)' } });
      await emit(v01({ name: 'Ada' }));
      const [letter] = await deadLetters(1);
      expect(letter.attempts).toBe(1);
      expect(letter.error).toBe('Transform failed: Attempted to invoke a non-function');
      expect(letter.event).toEqual(v01({ name: 'Ada' }));
      expect(target.received).toHaveLength(0);
      expect(await transformFailures()).toBe(1);
    });

    it('dead-letters a delivery whose transform gives no result', async () => {
      await subscribeWith({ transform: { jsonata: 'data.missing' } });
      await emit(v01({ name: 'Ada' }));
      const [letter] = await deadLetters(1);
      expect(letter.error).toBe('Transform failed: the expression returned nothing (undefined)');
      expect(target.received).toHaveLength(0);
    });

    it('stops an endless loop at the time limit and dead-letters the delivery', async () => {
      await subscribeWith({ transform: { jsonata: '($loop := function($n) { $loop($n + 1) }; $loop(0))' } });
      await emit(v01({}));
      const [letter] = await deadLetters(1);
      expect(letter.error).toBe('Transform failed: Evaluation timeout after 100 milliseconds. Check for infinite loop');
    });

    it('delivers a dead letter replayed after the transform was fixed', async () => {
      const created = await subscribeWith({ transform: { jsonata: 'data.missing' } });
      await emit(v01({ name: 'Ada' }));
      const [letter] = await deadLetters(1);
      await call('PUT', `${base()}/subscriptions/${created.subscriptionId}`, asyncSubscription({ transform: { jsonata: 'data.name' } }));
      const replay = await call('POST', `${base()}/deadletters/${letter.deliveryId}/replay`);
      expect(replay.status).toBe(202);
      await target.waitFor(1);
      expect((target.received[0]?.json() as any).data).toBe('Ada');
    });
  });

  describe('sync subscriptions', () => {
    const subscribeSync = async (transform: unknown) => {
      await register();
      const res = await call('POST', `${base()}/subscriptions`, { type: 'sync', eventType: 'http.request', functionId: 'f', path: `/${space}/users/:id`, method: 'GET', transform });
      expect(res.status).toBe(201);
    };

    it('calls the function with the transformed event and answers with its result', async () => {
      await subscribeSync({ jsonata: '{"userId": data.params.id, "q": data.query.q[0]}' });
      target.respondWith({ statusCode: 200, body: 'ok' });
      const res = await fetch(`${gw.eventsUrl}/${space}/users/42?q=find`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('ok');
      expect((target.received[0]?.json() as any).data).toEqual({ userId: '42', q: 'find' });
    });

    it('answers 500 "Transform failed: <reason>" and calls nothing when the transform fails', async () => {
      await subscribeSync({ jsonata: '$error("no user")', replace: 'event' });
      const res = await fetch(`${gw.eventsUrl}/${space}/users/42`);
      expect(res.status).toBe(500);
      expect(errorOf(await res.json())).toBe('Transform failed: no user');
      expect(target.received).toHaveLength(0);
      expect(
        (await (await fetch(`${gw.configUrl}/v1/metrics`)).text()).includes(`eventgateway_transform_failures_total{space="${space}",type="http.request"} 1`),
      ).toBe(true);
    });
  });
});
