import type { Logger } from '../logger';
import type { RegistryStore } from '../registry/store';
import { RoutingTable, type ProviderSource } from '../routing/table';

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

  constructor(
    private readonly store: RegistryStore,
    private readonly providerFor: ProviderSource,
    private readonly logger: Logger,
    private readonly options: RoutingCacheOptions = {},
  ) {}

  /** Marks the table stale; the next lookup rebuilds it. */
  invalidate(): void {
    this.generation++;
  }

  /** The current table: synchronously when fresh, otherwise after a rebuild. */
  current(): RoutingTable | Promise<RoutingTable> {
    if (this.table && this.builtGeneration === this.generation && !this.dueForVersionCheck()) return this.table;
    // A build started before the latest local write may miss it: only share one started since.
    if (this.building && this.building.generation === this.generation) return this.building.table;
    const building = { generation: this.generation, table: this.refreshOrKeep() };
    this.building = building;
    void building.table.finally(() => {
      if (this.building === building) this.building = undefined;
    });
    return building.table;
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
      return await this.refresh();
    } catch (err) {
      const table = this.table;
      if (!table) throw err;
      this.checkedAt = Date.now();
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
