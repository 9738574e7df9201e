import { compileFilters, type EventPredicate } from '../events/filter';
import { validatorFor, type DataValidator } from '../events/schema';
import { compileTransform, type CompiledTransform } from '../events/transform';
import type { Provider } from '../providers/provider';
import type { CorsConfig, EventType, FunctionRecord, RegistrySnapshot, Subscription } from '../registry/types';
import { pathSegments } from './path-tree';
import { SpacedPathIndex, type SpacedValue } from './spaced-index';

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
  /** The subscription's transform, compiled once with the table; absent when it has none. */
  transform?: CompiledTransform;
}

/** Whether a route's subscriber gets an event: no filters, or filters that match. */
export function routeAccepts(route: Route, event: Parameters<EventPredicate>[0]): boolean {
  return route.filter === undefined || route.filter(event);
}

/** The sync route a request selected, with its space and the path parameters it matched. */
export interface SyncMatch {
  space: string;
  route: Route;
  params: Record<string, string>;
}

/** The async subscribers of one space that an event reaches by its method, path and type. */
export interface SpaceRoutes {
  space: string;
  routes: readonly Route[];
}

/** Makes (or reuses) the provider of a function. */
export type ProviderSource = (fn: FunctionRecord) => Provider;

/** An async route's lookup key: exact path after normalisation. */
function asyncKey(method: string, path: string, eventType: string): string {
  return `${method} ${normalisedPath(path)} ${eventType}`;
}

/** `/a//b/` as `/a/b`; a path already in that form (the usual case) is returned without splitting it. */
function normalisedPath(path: string): string {
  const plain = path.length === 1 ? path === '/' : path.charCodeAt(0) === 47 && path.charCodeAt(path.length - 1) !== 47 && !path.includes('//');
  return plain ? path : `/${pathSegments(path).join('/')}`;
}

/** What a space holds that is looked up by space: its records and routes by ID, and system-event subscribers. */
interface SpaceRecords {
  eventTypes: Map<string, EventType>;
  /** Data validators of the event types that have a schema, compiled with the table. */
  schemas: Map<string, DataValidator>;
  functions: Map<string, RoutedFunction>;
  /** Async routes by event type alone, for system events. */
  asyncByType: Map<string, Route[]>;
  /** Every route by subscription ID, for queued deliveries. */
  bySubscription: Map<string, Route>;
}

function emptySpace(): SpaceRecords {
  return { eventTypes: new Map(), schemas: new Map(), functions: new Map(), asyncByType: new Map(), bySubscription: new Map() };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function indexOf<K1, K2, V>(map: Map<K1, Map<K2, V>>, k1: K1, k2: K2, make: () => V): V {
  let inner = map.get(k1);
  if (!inner) map.set(k1, (inner = new Map()));
  let value = inner.get(k2);
  if (!value) inner.set(k2, (value = make()));
  return value;
}

/** Orders records by space name, the rule that decides between spaces (see `RoutingTable`). */
function bySpace<R extends { space: string }>(records: readonly R[]): R[] {
  return [...records].sort((a, b) => (a.space < b.space ? -1 : a.space > b.space ? 1 : 0));
}

const NO_ROUTES: readonly Route[] = Object.freeze([]);
const NO_SPACE_ROUTES: readonly SpaceRoutes[] = Object.freeze([]);

/**
 * The router's read model: everything registered, compiled for lookups that never touch the store.
 * Built whole from a snapshot; a change in the registry builds a new one.
 *
 * Events have no space: lookups go through indexes across spaces (a path index per method and event
 * type for sync routes and CORS, a map by method, path and type for async routes), so that an event
 * costs what it matches, not the number of spaces. Where several spaces match, they are taken in name
 * order (JavaScript string order, i.e. UTF-16 code units): the first space with a sync route answers.
 */
export class RoutingTable {
  private readonly spaces = new Map<string, SpaceRecords>();
  /** method → event type → sync routes of every space. */
  private readonly sync = new Map<string, Map<string, SpacedPathIndex<Route>>>();
  /** asyncKey → the async routes of each space, in space order. */
  private readonly async = new Map<string, SpaceRoutes[]>();
  /** system event type → spaces with async subscribers to it. */
  private readonly typeSubscribers = new Map<string, string[]>();
  /** method → CORS configurations of every space. */
  private readonly corsIndex = new Map<string, SpacedPathIndex<CorsConfig>>();
  private readonly ranks = new Map<string, number>();

  constructor(snapshot: RegistrySnapshot, providerFor: ProviderSource, onSkipped?: (what: string, err: unknown) => void) {
    const names = new Set<string>();
    for (const list of [snapshot.eventTypes, snapshot.functions, snapshot.subscriptions, snapshot.cors]) for (const r of list) names.add(r.space);
    for (const name of [...names].sort()) {
      this.ranks.set(name, this.ranks.size);
      this.spaces.set(name, emptySpace());
    }
    const space = (name: string) => this.spaces.get(name) as SpaceRecords;
    for (const et of snapshot.eventTypes) {
      const routes = space(et.space);
      routes.eventTypes.set(et.name, et);
      if (et.schema === undefined) continue;
      try {
        routes.schemas.set(et.name, validatorFor(et.schema));
      } catch (err) {
        // Schemas are checked at registration; one that no longer compiles (another ajv, another instance) is skipped.
        onSkipped?.(`schema of event type ${et.name}`, err);
      }
    }
    for (const fn of snapshot.functions) space(fn.space).functions.set(fn.functionId, { record: fn, provider: providerFor(fn) });
    for (const sub of bySpace(snapshot.subscriptions)) {
      const records = space(sub.space);
      const fn = records.functions.get(sub.functionId);
      if (!fn) continue;
      const filter = compileFilters(sub.filters);
      const route: Route = { subscription: sub, function: fn };
      if (filter) route.filter = filter;
      if (sub.transform) route.transform = compileTransform(sub.transform);
      records.bySubscription.set(sub.subscriptionId, route);
      if (sub.type === 'async') this.addAsync(sub.space, records, route);
      else this.addSpaced(indexOf(this.sync, sub.method, sub.eventType, () => new SpacedPathIndex<Route>()), sub.space, sub.path, route, `sync subscription ${sub.subscriptionId}`, onSkipped);
    }
    for (const cors of bySpace(snapshot.cors)) {
      let index = this.corsIndex.get(cors.method);
      if (!index) this.corsIndex.set(cors.method, (index = new SpacedPathIndex<CorsConfig>()));
      this.addSpaced(index, cors.space, cors.path, cors, `CORS configuration ${cors.corsId}`, onSkipped);
    }
  }

  private addAsync(space: string, records: SpaceRecords, route: Route): void {
    const sub = route.subscription;
    const key = asyncKey(sub.method, sub.path, sub.eventType);
    let bySpaceList = this.async.get(key);
    if (!bySpaceList) this.async.set(key, (bySpaceList = []));
    const last = bySpaceList.at(-1);
    // Subscriptions arrive in space order, so a space's routes are always the last entry.
    if (last?.space === space) (last.routes as Route[]).push(route);
    else bySpaceList.push({ space, routes: [route] });
    if (!records.asyncByType.has(sub.eventType)) push(this.typeSubscribers, sub.eventType, space);
    push(records.asyncByType, sub.eventType, route);
  }

  private addSpaced<T>(index: SpacedPathIndex<T>, space: string, path: string, value: T, what: string, onSkipped?: (what: string, err: unknown) => void): void {
    try {
      index.add(space, this.ranks.get(space) ?? 0, path, value);
    } catch (err) {
      // Invalid paths are refused at registration; one here comes from an older store or another writer.
      onSkipped?.(what, err);
    }
  }

  /** The spaces that have anything registered, in name order. */
  spaceNames(): readonly string[] {
    return (this.names ??= [...this.spaces.keys()]);
  }

  private names?: string[];

  eventType(space: string, name: string): EventType | undefined {
    return this.spaces.get(space)?.eventTypes.get(name);
  }

  /** The data validator of an event type of a space, when the type has a schema. */
  dataValidator(space: string, eventType: string): DataValidator | undefined {
    return this.spaces.get(space)?.schemas.get(eventType);
  }

  function(space: string, functionId: string): RoutedFunction | undefined {
    return this.spaces.get(space)?.functions.get(functionId);
  }

  /**
   * The sync routes of every space for a request's method, path and event type, first space first.
   * Within a space paths never conflict (refused at registration), so each space has at most one.
   */
  syncRoutes(method: string, path: string, eventType: string): readonly SyncMatch[] {
    return this.sync.get(method)?.get(eventType)?.matchAs(path, toSyncMatch) ?? NO_SYNC;
  }

  /** The async subscriptions of every space for an exact method, path and event type, by space. */
  asyncRoutes(method: string, path: string, eventType: string): readonly SpaceRoutes[] {
    return this.async.get(asyncKey(method, path, eventType)) ?? NO_SPACE_ROUTES;
  }

  /** Every async subscription of a space to an event type, whatever its path: for system events. */
  asyncRoutesOfType(space: string, eventType: string): readonly Route[] {
    return this.spaces.get(space)?.asyncByType.get(eventType) ?? NO_ROUTES;
  }

  /** The spaces with an async subscription to an event type, in name order: where a system event goes. */
  spacesSubscribedTo(eventType: string): readonly string[] {
    return this.typeSubscribers.get(eventType) ?? NO_SPACES;
  }

  /** A subscription's route by its ID. */
  route(space: string, subscriptionId: string): Route | undefined {
    return this.spaces.get(space)?.bySubscription.get(subscriptionId);
  }

  /** The CORS configuration of a space for a method and path. */
  cors(space: string, method: string, path: string): CorsConfig | undefined {
    return this.corsIndex.get(method)?.match(path).find((m) => m.space === space)?.value;
  }

  /** The CORS configuration of the first space, in name order, that has one for a method and path. */
  firstCors(method: string, path: string): CorsConfig | undefined {
    return this.corsIndex.get(method)?.match(path)[0]?.value;
  }
}

const NO_SYNC: readonly SyncMatch[] = Object.freeze([]);

function toSyncMatch(entry: SpacedValue<Route>, params: Record<string, string>): SyncMatch {
  return { space: entry.space, route: entry.value, params };
}
const NO_SPACES: readonly string[] = Object.freeze([]);
