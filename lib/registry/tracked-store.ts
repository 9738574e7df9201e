import { RegistryUnavailableError } from '../errors';
import type { DependencyHealth } from '../health';
import type { RecordKind, RecordKinds } from './types';
import {
  MissingReferenceError,
  RecordExistsError,
  RecordMissingError,
  ReferencedRecordError,
  type RecordKey,
  type RecordWrite,
  type RegistryStore,
} from './store';

/** The store's answers about the registry's own rules: the store worked. */
function isRegistryRule(err: unknown): boolean {
  return err instanceof RecordExistsError || err instanceof RecordMissingError || err instanceof MissingReferenceError || err instanceof ReferencedRecordError;
}

/**
 * The registry store as the gateway uses it: any failure other than the registry's own rules means the
 * store is unavailable (whichever database and client are behind the port), reported to `health` and
 * raised as RegistryUnavailableError (a 503 with Retry-After at the edge). Every success reports the
 * store available again.
 */
export class TrackedStore implements RegistryStore {
  constructor(
    private readonly store: RegistryStore,
    readonly health: DependencyHealth,
  ) {
    if (store.count) this.count = (space, kind) => this.track(() => (store.count as NonNullable<RegistryStore['count']>)(space, kind));
  }

  count?: RegistryStore['count'];

  get<K extends RecordKind>(key: RecordKey & { kind: K }): Promise<RecordKinds[K] | undefined> {
    return this.track(() => this.store.get(key));
  }

  list<K extends RecordKind>(space: string, kind: K): Promise<Array<RecordKinds[K]>> {
    return this.track(() => this.store.list(space, kind));
  }

  listAll<K extends RecordKind>(kind: K): Promise<Array<RecordKinds[K]>> {
    return this.track(() => this.store.listAll(kind));
  }

  create(write: RecordWrite): Promise<void> {
    return this.track(() => this.store.create(write));
  }

  update(write: RecordWrite): Promise<void> {
    return this.track(() => this.store.update(write));
  }

  delete(key: RecordKey): Promise<void> {
    return this.track(() => this.store.delete(key));
  }

  version(): Promise<number> {
    return this.track(() => this.store.version());
  }

  close(): Promise<void> {
    this.health.close();
    return this.store.close();
  }

  private async track<T>(operation: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await operation();
    } catch (err) {
      if (isRegistryRule(err)) {
        this.health.succeeded();
        throw err;
      }
      this.health.failed(err);
      throw new RegistryUnavailableError({ cause: err });
    }
    this.health.succeeded();
    return result;
  }
}
