import { InProcessQueue } from '../../lib/delivery/in-process';
import { RoutingCache } from '../../lib/gateway/routing-cache';
import { EventRouter } from '../../lib/gateway/router';
import { noMetrics } from '../../lib/gateway/metrics';
import { silentLogger } from '../../lib/logger';
import type { Provider } from '../../lib/providers/provider';
import type { RegistryStore } from '../../lib/registry/store';
import { MemoryStore } from '../../lib/stores/memory';
import { eventually } from '../support/waiting';

const provider: Provider = { invoke: async () => Buffer.from('{}') };

async function addEventType(store: RegistryStore, name: string): Promise<void> {
  await store.create({ key: { space: 'space1', kind: 'eventType', id: name }, value: { space: 'space1', name }, references: [] });
}

describe('RoutingCache', () => {
  it('keeps serving the last table when the store fails, without making lookups wait, and picks changes up once it recovers', async () => {
    const store = new MemoryStore();
    await addEventType(store, 'first');
    let failing = false;
    const flaky: RegistryStore = Object.assign(Object.create(store) as RegistryStore, {
      version: () => (failing ? Promise.reject(new Error('store down')) : store.version()),
    });
    const cache = new RoutingCache(flaky, () => provider, silentLogger, { versionCheckMs: 0 });
    expect((await cache.current()).eventType('space1', 'first')).toBeDefined();
    failing = true;
    await addEventType(store, 'second');
    const during = await cache.current();
    expect(during.eventType('space1', 'first')).toBeDefined();
    // The store failed its last check: the table comes at once (not a promise), the next check runs in the background.
    expect(cache.current()).toBe(during);
    failing = false;
    const recovered = await eventually(async () => {
      const table = await cache.current();
      return table.eventType('space1', 'second') ? table : undefined;
    }, 'the change picked up');
    expect(recovered.eventType('space1', 'first')).toBeDefined();
  });

  it('fails a first load without leaving a rejection behind, answers fast while the store just failed, and loads once it works', async () => {
    const store = new MemoryStore();
    await addEventType(store, 'first');
    let reads = 0;
    let failing = true;
    const down: RegistryStore = Object.assign(Object.create(store) as RegistryStore, {
      version: () => (reads++, failing ? Promise.reject(new Error('no table')) : store.version()),
    });
    const cache = new RoutingCache(down, () => provider, silentLogger);
    await expect(cache.current()).rejects.toThrow('no table');
    // Asked again at once: the same failure, without another read of the store.
    await expect(cache.current()).rejects.toThrow('no table');
    expect(reads).toBe(1);
    expect(await cache.warm()).toBe(false);
    failing = false;
    // A write (or the store's recovery) lets the next lookup read at once.
    cache.invalidate();
    expect(await cache.warm()).toBe(true);
    expect((await cache.current()).eventType('space1', 'first')).toBeDefined();
  });

  it('does not hand a build started before a write to a lookup made after it', async () => {
    const store = new MemoryStore();
    const gates: Array<() => void> = [];
    const release = () => gates.splice(0).forEach((open) => open());
    let slow = true;
    const gated: RegistryStore = Object.assign(Object.create(store) as RegistryStore, {
      // Reads now, answers later: the build sees the store as it was when it started.
      listAll: async (kind: never) => {
        const records = await store.listAll(kind);
        if (slow) await new Promise<void>((resolve) => gates.push(resolve));
        return records;
      },
    });
    const cache = new RoutingCache(gated, () => provider, silentLogger);
    const early = cache.current();
    await new Promise((resolve) => setImmediate(resolve));
    slow = false;
    await addEventType(store, 'late');
    cache.invalidate();
    const after = cache.current();
    release();
    await early;
    expect((await after).eventType('space1', 'late')).toBeDefined();
  });

  it('looks again, at once, for a function its table does not know yet, before a delivery gives up on it', async () => {
    const store = new MemoryStore();
    const calls: string[] = [];
    const cache = new RoutingCache(store, () => ({ invoke: async (payload) => (calls.push(payload), Buffer.from('{}')) }), silentLogger, { versionCheckMs: 60_000 });
    const router = new EventRouter({ routing: cache, queue: new InProcessQueue({ workers: 1, backlog: 10 }), metrics: noMetrics, logger: silentLogger });
    await cache.current();
    // Another instance registers the function after this one built its table.
    await store.create({ key: { space: 'space1', kind: 'function', id: 'late' }, value: { space: 'space1', functionId: 'late', type: 'http', provider: { url: 'http://127.0.0.1:9/' } } as never, references: [] });
    const delivery = { deliveryId: 'd', space: 'space1', subscriptionId: 's', functionId: 'late', eventType: 'e', eventId: 'i', payload: '{"eventID":"i"}' };
    await router.deliver(delivery);
    expect(calls).toEqual(['{"eventID":"i"}']);
    await expect(router.deliver({ ...delivery, functionId: 'never' })).rejects.toMatchObject({ name: 'DeliveryFailure', retryable: false });
  });

  it('retries, rather than dead-letters, a delivery to a function its table lacks while the store cannot be read', async () => {
    const store = new MemoryStore();
    let failing = false;
    const flaky: RegistryStore = Object.assign(Object.create(store) as RegistryStore, {
      version: () => (failing ? Promise.reject(new Error('store down')) : store.version()),
    });
    const cache = new RoutingCache(flaky, () => provider, silentLogger, { versionCheckMs: 60_000 });
    const router = new EventRouter({ routing: cache, queue: new InProcessQueue({ workers: 1, backlog: 10 }), metrics: noMetrics, logger: silentLogger });
    await cache.current();
    const delivery = { deliveryId: 'd', space: 'space1', subscriptionId: 's', functionId: 'late', eventType: 'e', eventId: 'i', payload: '{"eventID":"i"}' };
    failing = true;
    await expect(router.deliver(delivery)).rejects.toMatchObject({ name: 'DeliveryFailure', retryable: true, message: expect.stringContaining('registry is unavailable') });
    expect(cache.stale).toBe(true);
    failing = false;
    // Once a check in the background reached the store again, a miss means the function is gone.
    await eventually(async () => (await cache.latest(), cache.stale ? undefined : true), 'the store read again');
    await expect(router.deliver(delivery)).rejects.toMatchObject({ name: 'DeliveryFailure', retryable: false, message: expect.stringContaining('not registered any more') });
  });
});
