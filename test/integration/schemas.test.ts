import { call, errorOf, sharedGateway, type TestGateway } from '../support/gateway';
import { TestTarget } from '../support/target';

const ORDER_SCHEMA = {
  type: 'object',
  properties: { amount: { type: 'number' }, email: { type: 'string', format: 'email' } },
  required: ['amount'],
};

describe('event schemas', () => {
  let gw: TestGateway;
  let target: TestTarget;
  let space: string;
  sharedGateway('schemas', (fixture) => ({ gw, target, space } = fixture));

  const base = () => gw.space(space);
  // Events reach every space that knows their type: each test has a type of its own.
  const typeName = () => `${space}.order`;
  const registerTyped = async (schema: unknown = ORDER_SCHEMA) => {
    const created = await call('POST', `${base()}/eventtypes`, { name: typeName(), schema });
    expect(created.status).toBe(201);
    await call('POST', `${base()}/functions`, { functionId: 'f', type: 'http', provider: { url: target.url } });
    const sub = await call('POST', `${base()}/subscriptions`, { type: 'async', eventType: typeName(), functionId: 'f', path: `/${space}` });
    expect(sub.status).toBe(201);
  };
  const structured = (id: string, data: unknown) => ({ specversion: '1.0', type: typeName(), source: '/shop', id, data });
  const emitStructured = (id: string, data: unknown) =>
    fetch(`${gw.eventsUrl}/${space}`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(structured(id, data)) });
  const invalidCount = async (): Promise<number> => {
    const text = await (await fetch(`${gw.configUrl}/v1/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`eventgateway_events_invalid_total{space="${space}",type="${typeName()}"}`));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  describe('on the Config API', () => {
    it('stores a schema and returns it on create, get and list', async () => {
      await registerTyped();
      expect((await call('GET', `${base()}/eventtypes/${typeName()}`)).body.schema).toEqual(ORDER_SCHEMA);
      expect((await call('GET', `${base()}/eventtypes`)).body.eventTypes[0].schema).toEqual(ORDER_SCHEMA);
    });

    it('omits the schema from an event type without one', async () => {
      const res = await call('POST', `${base()}/eventtypes`, { name: typeName() });
      expect(res.status).toBe(201);
      expect('schema' in res.body).toBe(false);
    });

    it.each([
      ['an unknown type name', { type: 'nope' }, 'schema: type must be equal to one of the allowed values'],
      ['a reference that leads nowhere', { $ref: '#/$defs/missing' }, "schema: can't resolve reference #/$defs/missing from id #"],
      ['a schema that is a string', 'object', 'schema: must be a JSON Schema object or a boolean'],
    ])('refuses %s with 400 on create and on update', async (_name, schema, detail) => {
      const created = await call('POST', `${base()}/eventtypes`, { name: typeName(), schema });
      expect(created.status).toBe(400);
      expect(errorOf(created.body)).toBe(`Event Type doesn't validate. Validation error: ${detail}`);
      await call('POST', `${base()}/eventtypes`, { name: typeName() });
      const updated = await call('PUT', `${base()}/eventtypes/${typeName()}`, { schema });
      expect(updated.status).toBe(400);
      expect(errorOf(updated.body)).toBe(`Event Type doesn't validate. Validation error: ${detail}`);
    });

    it('serves the schema as application/schema+json, and 404 for a type without one', async () => {
      await registerTyped();
      const res = await fetch(`${base()}/eventtypes/${typeName()}/schema`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/schema+json');
      expect(await res.json()).toEqual(ORDER_SCHEMA);
      await call('POST', `${base()}/eventtypes`, { name: 'plain' });
      const none = await call('GET', `${base()}/eventtypes/plain/schema`);
      expect(none.status).toBe(404);
      expect(errorOf(none.body)).toBe('Event Type "plain" has no schema.');
      expect(errorOf((await call('GET', `${base()}/eventtypes/missing/schema`)).body)).toBe('Event Type "missing" not found.');
    });

    it('applies a schema added by an update, and stops checking once it is removed', async () => {
      await registerTyped(true);
      expect((await emitStructured('a', { amount: 'ten' })).status).toBe(202);
      await call('PUT', `${base()}/eventtypes/${typeName()}`, { schema: ORDER_SCHEMA });
      expect((await emitStructured('b', { amount: 'ten' })).status).toBe(400);
      await call('PUT', `${base()}/eventtypes/${typeName()}`, {});
      expect((await emitStructured('c', { amount: 'ten' })).status).toBe(202);
    });
  });

  describe('on the Events API', () => {
    it("checks an event only in the spaces it is routed in: another space's schema does not refuse it", async () => {
      const other = `${space}-strict`;
      await call('POST', `${gw.space(other)}/eventtypes`, { name: typeName(), schema: { type: 'string' } });
      await call('POST', `${gw.space(other)}/functions`, { functionId: 'f', type: 'http', provider: { url: target.url } });
      await call('POST', `${gw.space(other)}/subscriptions`, { type: 'async', eventType: typeName(), functionId: 'f', path: `/${other}` });
      await registerTyped();
      expect((await emitStructured('mine', { amount: 1 })).status).toBe(202);
      const theirs = await fetch(`${gw.eventsUrl}/${other}`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(structured('theirs', { amount: 1 })) });
      expect(errorOf(await theirs.json())).toBe("Event doesn't validate: data must be string");
    });

    it('refuses a structured event whose data fails the schema with ajv\'s path and message, delivers a valid one', async () => {
      await registerTyped();
      const bad = await emitStructured('bad', { amount: 'ten' });
      expect(bad.status).toBe(400);
      expect(errorOf(await bad.json())).toBe("Event doesn't validate: data/amount must be number");
      const badFormat = await emitStructured('bad-email', { amount: 1, email: 'not-an-address' });
      expect(errorOf(await badFormat.json())).toBe('Event doesn\'t validate: data/email must match format "email"');
      expect((await emitStructured('good', { amount: 10 })).status).toBe(202);
      await target.waitFor(1);
      expect(target.received.map((r) => (r.json() as { id: string }).id)).toEqual(['good']);
      expect(await invalidCount()).toBe(2);
    });

    it('validates a binary-mode event (1.0 headers, the body is the data)', async () => {
      await registerTyped();
      const send = (id: string, body: unknown) =>
        fetch(`${gw.eventsUrl}/${space}`, {
          method: 'POST',
          headers: { 'ce-specversion': '1.0', 'ce-type': typeName(), 'ce-source': '/shop', 'ce-id': id, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const bad = await send('bad', { total: 3 });
      expect(bad.status).toBe(400);
      expect(errorOf(await bad.json())).toBe("Event doesn't validate: data must have required property 'amount'");
      expect((await send('good', { amount: 3 })).status).toBe(202);
      await target.waitFor(1);
      expect((target.received[0]?.json() as { id: string }).id).toBe('good');
    });

    it('validates a legacy event (Event header)', async () => {
      await registerTyped();
      const res = await fetch(`${gw.eventsUrl}/${space}`, { method: 'POST', headers: { event: typeName(), 'content-type': 'application/json' }, body: '{"amount":false}' });
      expect(res.status).toBe(400);
      expect(errorOf(await res.json())).toBe("Event doesn't validate: data/amount must be number");
    });

    it('rejects the invalid entries of a batch with the same text and routes the others', async () => {
      await registerTyped();
      const batch = [structured('one', { amount: 1 }), structured('two', { amount: '2' }), structured('three', { amount: 3 })];
      const res = await fetch(`${gw.eventsUrl}/${space}`, { method: 'POST', headers: { 'content-type': 'application/cloudevents-batch+json' }, body: JSON.stringify(batch) });
      expect(res.status).toBe(202);
      const body = (await res.json()) as { accepted: number; rejected: number; results: Array<{ id: string; accepted: boolean; error?: string }> };
      expect(body.accepted).toBe(2);
      expect(body.results[1]).toEqual({ index: 1, id: 'two', type: typeName(), accepted: false, error: "Event doesn't validate: data/amount must be number" });
      await target.waitFor(2);
      expect(target.received.map((r) => (r.json() as { id: string }).id).sort()).toEqual(['one', 'three']);
      expect(await invalidCount()).toBe(1);
    });

    it('refuses a batch whose every entry is invalid with 400', async () => {
      await registerTyped();
      const res = await fetch(`${gw.eventsUrl}/${space}`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents-batch+json' },
        body: JSON.stringify([structured('x', {}), structured('y', { amount: null })]),
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { results: Array<{ error: string }> };
      expect(body.results.map((r) => r.error)).toEqual(["Event doesn't validate: data must have required property 'amount'", "Event doesn't validate: data/amount must be number"]);
    });

    it('keeps two event types whose schemas share an $id apart', async () => {
      await call('POST', `${base()}/eventtypes`, { name: `${space}.a`, schema: { $id: 'https://example.com/order', type: 'string' } });
      const second = await call('POST', `${base()}/eventtypes`, { name: `${space}.b`, schema: { $id: 'https://example.com/order', type: 'number' } });
      expect(second.status).toBe(201);
      await call('POST', `${base()}/functions`, { functionId: 'f', type: 'http', provider: { url: target.url } });
      for (const type of [`${space}.a`, `${space}.b`]) await call('POST', `${base()}/subscriptions`, { type: 'async', eventType: type, functionId: 'f', path: `/${space}` });
      const send = (type: string, data: unknown) =>
        fetch(`${gw.eventsUrl}/${space}`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify({ specversion: '1.0', type, source: '/s', id: 'i', data }) });
      expect((await send(`${space}.a`, 'text')).status).toBe(202);
      expect((await send(`${space}.b`, 5)).status).toBe(202);
      expect((await send(`${space}.b`, 'text')).status).toBe(400);
    });
  });
});
