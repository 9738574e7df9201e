import { compileFilters, type EventPredicate } from '../events/filter';
import type { Provider } from '../providers/provider';
import type { CorsConfig, EventType, FunctionRecord, RegistrySnapshot, Subscription } from '../registry/types';
import { PathTree, pathSegments } from './path-tree';

/** A function ready to call: its record and its provider. */
export interface RoutedFunction {
  record: FunctionRecord;
  provider: Provider;
}

/** A subscription with its function resolved. */
export interface Route {
  subscription: Subscription;
  function: RoutedFunction;
  /** The subscription's filters, compiled once with the table; absent when it has none. */
  filter?: EventPredicate;
}

/** Whether a route's subscriber gets an event: no filters, or filters that match. */
export function routeAccepts(route: Route, event: Parameters<EventPredicate>[0]): boolean {
  return route.filter === undefined || route.filter(event);
}

/** The sync route a request selected, with the path parameters it matched. */
export interface SyncMatch {
  route: Route;
  params: Record<string, string>;
}

/** Makes (or reuses) the provider of a function. */
export type ProviderSource = (fn: FunctionRecord) => Provider;

/** An async route's lookup key: exact path after normalisation. */
function asyncKey(method: string, path: string, eventType: string): string {
  return `${method} /${pathSegments(path).join('/')} ${eventType}`;
}

interface SpaceRoutes {
  name: string;
  eventTypes: Map<string, EventType>;
  functions: Map<string, RoutedFunction>;
  /** method → event type → path tree of sync routes. */
  sync: Map<string, Map<string, PathTree<Route>>>;
  async: Map<string, Route[]>;
  /** Async routes by event type alone, for system events. */
  asyncByType: Map<string, Route[]>;
  /** method → path tree of CORS configurations. */
  cors: Map<string, PathTree<CorsConfig>>;
  /** Every route by subscription ID, for queued deliveries. */
  bySubscription: Map<string, Route>;
}

function emptySpace(name: string): SpaceRoutes {
  return { name, eventTypes: new Map(), functions: new Map(), sync: new Map(), async: new Map(), asyncByType: new Map(), cors: new Map(), bySubscription: new Map() };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * The router's read model: everything registered, compiled for lookups that never touch the store.
 * Built whole from a snapshot; a change in the registry builds a new one.
 */
export class RoutingTable {
  private readonly spaces = new Map<string, SpaceRoutes>();

  constructor(snapshot: RegistrySnapshot, providerFor: ProviderSource, onSkipped?: (what: string, err: unknown) => void) {
    const space = (name: string) => {
      let routes = this.spaces.get(name);
      if (!routes) this.spaces.set(name, (routes = emptySpace(name)));
      return routes;
    };
    for (const et of snapshot.eventTypes) space(et.space).eventTypes.set(et.name, et);
    for (const fn of snapshot.functions) space(fn.space).functions.set(fn.functionId, { record: fn, provider: providerFor(fn) });
    for (const sub of snapshot.subscriptions) {
      const routes = space(sub.space);
      const fn = routes.functions.get(sub.functionId);
      if (!fn) continue;
      const filter = compileFilters(sub.filters);
      const route: Route = filter ? { subscription: sub, function: fn, filter } : { subscription: sub, function: fn };
      routes.bySubscription.set(sub.subscriptionId, route);
      if (sub.type === 'async') {
        push(routes.async, asyncKey(sub.method, sub.path, sub.eventType), route);
        push(routes.asyncByType, sub.eventType, route);
        continue;
      }
      let byType = routes.sync.get(sub.method);
      if (!byType) routes.sync.set(sub.method, (byType = new Map()));
      let tree = byType.get(sub.eventType);
      if (!tree) byType.set(sub.eventType, (tree = new PathTree<Route>()));
      try {
        tree.add(sub.path, route);
      } catch (err) {
        // Conflicts are refused at registration; one here comes from concurrent writers. First wins.
        onSkipped?.(`sync subscription ${sub.subscriptionId}`, err);
      }
    }
    for (const cors of snapshot.cors) {
      const routes = space(cors.space);
      let tree = routes.cors.get(cors.method);
      if (!tree) routes.cors.set(cors.method, (tree = new PathTree<CorsConfig>()));
      try {
        tree.add(cors.path, cors);
      } catch (err) {
        onSkipped?.(`CORS configuration ${cors.corsId}`, err);
      }
    }
  }

  /** The spaces that have anything registered. */
  spaceNames(): readonly string[] {
    return (this.names ??= [...this.spaces.keys()]);
  }

  private names?: string[];

  eventType(space: string, name: string): EventType | undefined {
    return this.spaces.get(space)?.eventTypes.get(name);
  }

  function(space: string, functionId: string): RoutedFunction | undefined {
    return this.spaces.get(space)?.functions.get(functionId);
  }

  /** The sync subscription of a space for a request's method, path and event type. */
  syncRoute(space: string, method: string, path: string, eventType: string): SyncMatch | undefined {
    const tree = this.spaces.get(space)?.sync.get(method)?.get(eventType);
    const match = tree?.match(path);
    return match ? { route: match.value, params: match.params } : undefined;
  }

  /** The async subscriptions of a space for an exact method, path and event type. */
  asyncRoutes(space: string, method: string, path: string, eventType: string): readonly Route[] {
    return this.spaces.get(space)?.async.get(asyncKey(method, path, eventType)) ?? [];
  }

  /** Every async subscription of a space to an event type, whatever its path: for system events. */
  asyncRoutesOfType(space: string, eventType: string): readonly Route[] {
    return this.spaces.get(space)?.asyncByType.get(eventType) ?? [];
  }

  /** A subscription's route by its ID. */
  route(space: string, subscriptionId: string): Route | undefined {
    return this.spaces.get(space)?.bySubscription.get(subscriptionId);
  }

  /** The CORS configuration of a space for a method and path. */
  cors(space: string, method: string, path: string): CorsConfig | undefined {
    return this.spaces.get(space)?.cors.get(method)?.match(path)?.value;
  }
}
