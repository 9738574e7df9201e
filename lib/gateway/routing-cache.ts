import type { Logger } from '../logger';
import type { RegistryStore } from '../registry/store';
import { RoutingTable, type ProviderSource } from '../routing/table';

/** How soon a lookup without a table asks a store that just failed again: doubling from the first, up to the max. */
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 2000;

/** Options of the routing cache. */
export interface RoutingCacheOptions {
  /**
   * When set, the store's version is checked at most this often and the table rebuilt when it moved:
   * for instances that share a store with other writers. Without it only `invalidate` refreshes.
   */
  versionCheckMs?: number;
}

/**
 * Holds the compiled routing table. Local writes invalidate it at once; the next event rebuilds it
 * from one snapshot of the store, so steady-state events never read the store.
 */
export class RoutingCache {
  private table?: RoutingTable;
  private building?: { generation: number; table: Promise<RoutingTable> };
  private generation = 0;
  private builtGeneration = -1;
  private builtVersion = -1;
  private checkedAt = 0;
  /** The last failed load while there was no table: lookups before `retryAt` fail at once with its error. */
  private failure?: { error: unknown; retryAt: number; count: number };
  /** Set while the store fails its version checks: lookups then never wait for one. */
  private serveStale = false;

  constructor(
    private readonly store: RegistryStore,
    private readonly providerFor: ProviderSource,
    private readonly logger: Logger,
    private readonly options: RoutingCacheOptions = {},
  ) {}

  /** True while the store fails and the last table is served instead (see RoutingSource.stale). */
  get stale(): boolean {
    return this.serveStale;
  }

  /** Marks the table stale; the next lookup rebuilds it. */
  invalidate(): void {
    this.generation++;
    // The store was just written to (or recovered): ask it again at once.
    if (this.failure) this.failure.retryAt = 0;
  }

  /**
   * The current table: synchronously when fresh, otherwise after a rebuild. Without any table, a store
   * that just failed is not asked again at once: lookups fail fast (a 503) until a short backoff passed.
   */
  current(): RoutingTable | Promise<RoutingTable> {
    const table = this.table;
    if (table && this.builtGeneration === this.generation) {
      if (!this.dueForVersionCheck()) return table;
      // The last check failed (the store is down): route by the table at once, check again in the background.
      if (this.serveStale) {
        if (!this.building) void this.build();
        return table;
      }
    }
    // A build started before the latest local write may miss it: only share one started since.
    if (this.building && this.building.generation === this.generation) return this.building.table;
    if (!table && this.failure && Date.now() < this.failure.retryAt) return Promise.reject(this.failure.error);
    return this.build();
  }

  /** Starts a refresh that later lookups of the same generation share. */
  private build(): Promise<RoutingTable> {
    const building = { generation: this.generation, table: this.refreshOrKeep() };
    this.building = building;
    const done = () => {
      if (this.building === building) this.building = undefined;
    };
    // Both branches handled: the caller gets the rejection, this bookkeeping never leaves one behind.
    building.table.then(done, done);
    return building.table;
  }

  /** Loads the table now if there is none (at start, after the store recovered); failures are only logged. */
  async warm(): Promise<boolean> {
    try {
      await this.current();
      return true;
    } catch (err) {
      this.logger.debug({ err }, 'routing table not loaded yet');
      return false;
    }
  }

  /**
   * The table after checking the store's version now, for a lookup that missed: another instance may
   * have just registered what was looked for. Without version checks (one writer) the table is current.
   */
  latest(): RoutingTable | Promise<RoutingTable> {
    if (this.options.versionCheckMs !== undefined) this.checkedAt = 0;
    return this.current();
  }

  /** A refresh; when the store fails and a table exists, the table keeps serving and the check is retried later. */
  private async refreshOrKeep(): Promise<RoutingTable> {
    try {
      const table = await this.refresh();
      this.failure = undefined;
      this.serveStale = false;
      return table;
    } catch (err) {
      const table = this.table;
      if (!table) {
        const count = (this.failure?.count ?? 0) + 1;
        this.failure = { error: err, count, retryAt: Date.now() + Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (count - 1)) };
        throw err;
      }
      this.checkedAt = Date.now();
      this.serveStale = true;
      this.logger.warn({ err }, 'could not refresh the routing table; serving the last one');
      return table;
    }
  }

  private dueForVersionCheck(): boolean {
    const interval = this.options.versionCheckMs;
    return interval !== undefined && Date.now() - this.checkedAt >= interval;
  }

  private async refresh(): Promise<RoutingTable> {
    const generation = this.generation;
    const version = await this.store.version();
    this.checkedAt = Date.now();
    if (this.table && this.builtGeneration === generation && version === this.builtVersion) return this.table;
    const [eventTypes, functions, subscriptions, cors] = await Promise.all([
      this.store.listAll('eventType'),
      this.store.listAll('function'),
      this.store.listAll('subscription'),
      this.store.listAll('cors'),
    ]);
    const table = new RoutingTable({ eventTypes, functions, subscriptions, cors }, this.providerFor, (what, err) =>
      this.logger.warn({ err }, `skipped ${what} while building the routing table`),
    );
    this.table = table;
    this.builtGeneration = generation;
    this.builtVersion = version;
    return table;
  }
}
