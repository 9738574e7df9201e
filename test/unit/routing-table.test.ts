import type { Provider } from '../../lib/providers/provider';
import type { EventType, FunctionRecord, RegistrySnapshot, Subscription } from '../../lib/registry/types';
import { SpacedPathIndex } from '../../lib/routing/spaced-index';
import { RoutingTable } from '../../lib/routing/table';

const provider: Provider = { invoke: () => Promise.resolve(Buffer.from('')) };

function sync(space: string, path: string, method = 'GET', eventType = 'http.request'): Subscription {
  return { space, subscriptionId: `${space}:${method}:${path}`, type: 'sync', eventType, functionId: 'f', path, method } as Subscription;
}

function async(space: string, path: string, eventType: string): Subscription {
  return { space, subscriptionId: `${space}:async:${path}:${eventType}`, type: 'async', eventType, functionId: 'f', path, method: 'POST' } as Subscription;
}

/** A table of spaces that each have the function `f` and the given subscriptions, listed in the given order. */
function tableOf(subscriptions: Subscription[]): RoutingTable {
  const spaces = [...new Set(subscriptions.map((s) => s.space))];
  const snapshot: RegistrySnapshot = {
    eventTypes: spaces.flatMap((space) => [...new Set(subscriptions.map((s) => s.eventType))].map((name) => ({ space, name }) as EventType)),
    functions: spaces.map((space) => ({ space, functionId: 'f', type: 'http', provider: { url: 'http://127.0.0.1:1/' } }) as FunctionRecord),
    subscriptions,
    cors: [],
  };
  return new RoutingTable(snapshot, () => provider);
}

describe('RoutingTable across spaces', () => {
  it('lets the first space in name order answer when two spaces register the same sync path', () => {
    const table = tableOf([sync('zeta', '/orders/:id'), sync('alpha', '/orders/:id'), sync('mid', '/orders/:id')]);
    expect(table.syncRoutes('GET', '/orders/7', 'http.request').map((m) => m.space)).toEqual(['alpha', 'mid', 'zeta']);
    expect(table.syncRoutes('GET', '/orders/7', 'http.request')[0]?.params).toEqual({ id: '7' });
  });

  it('keeps the name order when the spaces register conflicting paths', () => {
    // One path tree cannot hold both: the index keeps them in separate layers and still orders by space.
    const table = tableOf([sync('b', '/users/me'), sync('a', '/users/:id'), sync('c', '/users/:name/x'), sync('b', '/users/:id/x')]);
    expect(table.syncRoutes('GET', '/users/me', 'http.request').map((m) => m.space)).toEqual(['a', 'b']);
    expect(table.syncRoutes('GET', '/users/42', 'http.request').map((m) => m.space)).toEqual(['a']);
    expect(table.syncRoutes('GET', '/users/me/x', 'http.request').map((m) => [m.space, m.params])).toEqual([
      ['b', { id: 'me' }],
      ['c', { name: 'me' }],
    ]);
  });

  it('finds nothing for another method or event type', () => {
    const table = tableOf([sync('a', '/x')]);
    expect(table.syncRoutes('POST', '/x', 'http.request')).toEqual([]);
    expect(table.syncRoutes('GET', '/x', 'user.created')).toEqual([]);
  });

  it('groups async subscribers by space, in name order, for an exact path and type', () => {
    const table = tableOf([async('b', '/', 'user.created'), async('a', '/', 'user.created'), async('a', '/', 'user.created'), async('a', '/other', 'user.created')]);
    const matched = table.asyncRoutes('POST', '/', 'user.created');
    expect(matched.map((m) => [m.space, m.routes.length])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
    expect(table.asyncRoutes('POST', '/', 'user.deleted')).toEqual([]);
  });

  it('matches an async path with doubled or trailing slashes as the plain path', () => {
    const table = tableOf([async('a', '/x/y', 'user.created'), async('a', '/', 'user.created')]);
    for (const path of ['/x/y', '/x//y/', '/x/y/']) expect(table.asyncRoutes('POST', path, 'user.created').map((m) => m.space)).toEqual(['a']);
    expect(table.asyncRoutes('POST', '//', 'user.created').map((m) => m.space)).toEqual(['a']);
    expect(table.asyncRoutes('POST', '/x', 'user.created')).toEqual([]);
  });

  it('knows which spaces subscribe to a system event', () => {
    const table = tableOf([async('b', '/', 'eventgateway.event.received'), async('a', '/', 'user.created')]);
    expect(table.spacesSubscribedTo('eventgateway.event.received')).toEqual(['b']);
    expect(table.spacesSubscribedTo('eventgateway.function.invoked')).toEqual([]);
  });
});

describe('SpacedPathIndex', () => {
  it('needs one layer when the spaces do not conflict, however many there are', () => {
    const index = new SpacedPathIndex<number>();
    for (let i = 0; i < 1000; i++) index.add(`space-${i}`, i, `/team-${i}/items/:id`, i);
    expect(index.layerCount).toBe(1);
    expect(index.match('/team-500/items/9').map((m) => [m.space, m.value, m.params])).toEqual([['space-500', 500, { id: '9' }]]);
    expect(index.match('/team-x/items/9')).toEqual([]);
  });

  it('shares a node between spaces with an identical route and keeps them ordered by rank', () => {
    const index = new SpacedPathIndex<string>();
    index.add('c', 2, '/a/:id', 'c');
    index.add('a', 0, '/a/:id', 'a');
    index.add('b', 1, '/a/:id', 'b');
    expect(index.layerCount).toBe(1);
    expect(index.match('/a/1').map((m) => m.value)).toEqual(['a', 'b', 'c']);
  });
});
