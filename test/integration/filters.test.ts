import { errorOf, call, sharedGateway, subscribe, type TestGateway } from '../support/gateway';
import { TestTarget } from '../support/target';

describe('subscription filters', () => {
  let gw: TestGateway;
  let target: TestTarget;
  let space: string;
  sharedGateway('filters', (fixture) => ({ gw, target, space } = fixture));

  const base = () => gw.space(space);
  const subscription = (filters: unknown, extra: Record<string, unknown> = {}) => ({
    type: 'async',
    eventType: 'order.placed',
    functionId: 'f',
    path: `/${space}`,
    filters,
    ...extra,
  });
  const register = async () => {
    await call('POST', `${base()}/eventtypes`, { name: 'order.placed' });
    await call('POST', `${base()}/functions`, { functionId: 'f', type: 'http', provider: { url: target.url } });
  };
  const subscribeFiltered = async (filters: unknown) => {
    await register();
    const res = await call('POST', `${base()}/subscriptions`, subscription(filters));
    expect(res.status).toBe(201);
    return res.body;
  };
  /** Emits a 1.0 event; filtering is decided before the 202, so a filtered event is never queued. */
  const emit = async (id: string, attributes: Record<string, unknown>, data: unknown) => {
    const event = { specversion: '1.0', type: 'order.placed', source: '/shop', id, ...attributes, data };
    const res = await fetch(`${gw.eventsUrl}/${space}`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(event) });
    expect(res.status).toBe(202);
  };
  const filteredCount = async (): Promise<number> => {
    const text = await (await fetch(`${gw.configUrl}/v1/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`eventgateway_events_filtered_total{space="${space}",type="order.placed"}`));
    return line ? Number(line.split(' ').pop()) : 0;
  };
  /** Sends events in order and returns the IDs the target received, once the last expected one is in. */
  const deliveredIds = async (events: Array<[string, Record<string, unknown>, unknown]>, expected: number): Promise<string[]> => {
    for (const [id, attributes, data] of events) await emit(id, attributes, data);
    await target.waitFor(expected);
    return target.received.map((r) => (r.json() as any).id as string).sort();
  };

  describe('on the Config API', () => {
    it('stores filters and returns them on create, get and list', async () => {
      const filters = [{ exact: { type: 'order.placed' } }, { any: [{ prefix: { 'data.sku': 'A-' } }, { not: { suffix: { source: '/test' } } }] }];
      const created = await subscribeFiltered(filters);
      expect(created.filters).toEqual(filters);
      expect((await call('GET', `${base()}/subscriptions/${created.subscriptionId}`)).body.filters).toEqual(filters);
      expect((await call('GET', `${base()}/subscriptions`)).body.subscriptions[0].filters).toEqual(filters);
    });

    it('omits filters from a subscription that has none', async () => {
      await register();
      const res = await call('POST', `${base()}/subscriptions`, { type: 'async', eventType: 'order.placed', functionId: 'f' });
      expect(res.status).toBe(201);
      expect('filters' in res.body).toBe(false);
    });

    it.each([
      ['an unknown operator', [{ equals: { type: 'x' } }], 'filters[0] has unknown operator "equals" (use exact, prefix, suffix, all, any, not)'],
      ['a number to compare with', [{ exact: { 'data.amount': 10 } }], 'filters[0].exact.data.amount must be a string'],
      ['filters that are not a list', { exact: { type: 'x' } }, 'filters must be an array of filter objects'],
    ])('refuses %s with 400', async (_name, filters, detail) => {
      await register();
      const res = await call('POST', `${base()}/subscriptions`, subscription(filters));
      expect(res.status).toBe(400);
      expect(errorOf(res.body)).toBe(`Subscription doesn't validate. Validation error: ${detail}`);
    });

    it('keeps the contract ID, so that subscriptions differing only in filters are the same one (409)', async () => {
      const created = await subscribeFiltered([{ exact: { tenant: 'a' } }]);
      const again = await call('POST', `${base()}/subscriptions`, subscription([{ exact: { tenant: 'b' } }]));
      expect(again.status).toBe(409);
      expect(errorOf(again.body)).toBe(`Subscription "${created.subscriptionId}" already exists.`);
    });

    it('lets an update change the filters, and the next event follows them', async () => {
      const created = await subscribeFiltered([{ exact: { tenant: 'a' } }]);
      const updated = await call('PUT', `${base()}/subscriptions/${created.subscriptionId}`, subscription([{ exact: { tenant: 'b' } }]));
      expect(updated.status).toBe(200);
      expect(updated.body.filters).toEqual([{ exact: { tenant: 'b' } }]);
      expect(await deliveredIds([['1', { tenant: 'a' }, {}], ['2', { tenant: 'b' }, {}]], 1)).toEqual(['2']);
      const removed = await call('PUT', `${base()}/subscriptions/${created.subscriptionId}`, subscription(undefined));
      expect('filters' in removed.body).toBe(false);
    });

    it('refuses an invalid filter on update, keeping the old ones', async () => {
      const created = await subscribeFiltered([{ exact: { tenant: 'a' } }]);
      const res = await call('PUT', `${base()}/subscriptions/${created.subscriptionId}`, subscription([{ all: [] }]));
      expect(res.status).toBe(400);
      expect((await call('GET', `${base()}/subscriptions/${created.subscriptionId}`)).body.filters).toEqual([{ exact: { tenant: 'a' } }]);
    });
  });

  describe('on the Events API', () => {
    it.each<[string, unknown[], Array<[string, Record<string, unknown>, unknown]>, string[]]>([
      ['exact on an extension', [{ exact: { tenant: 'acme' } }], [['1', { tenant: 'acme' }, {}], ['2', { tenant: 'other' }, {}], ['3', {}, {}]], ['1']],
      ['prefix on source', [{ prefix: { source: '/shop' } }], [['1', {}, {}], ['2', { source: '/warehouse' }, {}]], ['1']],
      ['suffix on subject', [{ suffix: { subject: '.pdf' } }], [['1', { subject: 'a.pdf' }, {}], ['2', { subject: 'a.png' }, {}]], ['1']],
      ['exact on a data number, compared as its JSON text', [{ exact: { 'data.amount': '10' } }], [['1', {}, { amount: 10 }], ['2', {}, { amount: '10' }], ['3', {}, { amount: 10.5 }]], ['1', '2']],
      ['all', [{ all: [{ exact: { tenant: 'acme' } }, { prefix: { 'data.sku': 'A-' } }] }], [['1', { tenant: 'acme' }, { sku: 'A-1' }], ['2', { tenant: 'acme' }, { sku: 'B-1' }]], ['1']],
      ['any', [{ any: [{ exact: { tenant: 'a' } }, { exact: { tenant: 'b' } }] }], [['1', { tenant: 'a' }, {}], ['2', { tenant: 'b' }, {}], ['3', { tenant: 'c' }, {}]], ['1', '2']],
      ['not', [{ not: { exact: { tenant: 'test' } } }], [['1', { tenant: 'test' }, {}], ['2', { tenant: 'live' }, {}]], ['2']],
      [
        'nesting of all, any and not',
        [{ any: [{ all: [{ exact: { tenant: 'a' } }, { not: { exact: { 'data.vip': 'true' } } }] }, { suffix: { subject: '!' } }] }],
        [['1', { tenant: 'a' }, { vip: false }], ['2', { tenant: 'a' }, { vip: true }], ['3', { subject: 'hey!' }, {}], ['4', {}, {}]],
        ['1', '3'],
      ],
    ])('deliver only matching events: %s', async (_name, filters, events, expected) => {
      await subscribeFiltered(filters);
      const before = await filteredCount();
      expect(await deliveredIds(events, expected.length)).toEqual(expected);
      expect(await filteredCount()).toBe(before + events.length - expected.length);
    });

    it('deliver nothing and count every event when nothing matches', async () => {
      await subscribeFiltered([{ exact: { tenant: 'nobody' } }]);
      await emit('1', { tenant: 'a' }, {});
      await emit('2', {}, {});
      expect(await filteredCount()).toBe(2);
      // An unfiltered subscriber of the same event, added afterwards, proves the queue ran.
      const other = await TestTarget.start();
      try {
        await subscribe(gw, { space, type: 'async', eventType: 'order.placed', functionId: 'g', url: other.url, path: `/${space}` });
        await emit('3', { tenant: 'a' }, {});
        await other.waitFor(1);
        expect(target.received).toHaveLength(0);
        expect(await filteredCount()).toBe(3);
      } finally {
        await other.close();
      }
    });

    it('filter 0.1 events by the same 1.0 names', async () => {
      await subscribeFiltered([{ exact: { type: 'order.placed', tenant: 'acme' } }]);
      const event = (id: string, tenant: string) =>
        JSON.stringify({ eventType: 'order.placed', cloudEventsVersion: '0.1', source: '/s', eventID: id, extensions: { tenant } });
      for (const [id, tenant] of [['1', 'other'], ['2', 'acme']] as const) {
        await fetch(`${gw.eventsUrl}/${space}`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: event(id, tenant) });
      }
      await target.waitFor(1);
      expect(target.received.map((r) => (r.json() as any).eventID)).toEqual(['2']);
      expect(await filteredCount()).toBe(1);
    });

    it('let a sync subscription whose filters refuse the event fall back to 202', async () => {
      await register();
      const res = await call('POST', `${base()}/subscriptions`, subscription([{ exact: { tenant: 'acme' } }], { type: 'sync' }));
      expect(res.status).toBe(201);
      target.respondWith({ body: 'answered' });
      const post = (tenant: string) =>
        fetch(`${gw.eventsUrl}/${space}`, {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents+json' },
          body: JSON.stringify({ specversion: '1.0', type: 'order.placed', source: '/s', id: tenant, tenant }),
        });
      const refused = await post('other');
      expect(refused.status).toBe(202);
      const answered = await post('acme');
      expect(answered.status).toBe(200);
      expect(await answered.text()).toBe('answered');
      expect(target.received).toHaveLength(1);
    });
  });
});
