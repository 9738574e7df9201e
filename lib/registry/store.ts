import type { RecordKind, RecordKinds } from './types';

/** Identifies one record in the registry. */
export interface RecordKey {
  space: string;
  kind: RecordKind;
  id: string;
}

/** A record to write, with the records it refers to (which must exist, and cannot be deleted while it does). */
export interface RecordWrite<K extends RecordKind = RecordKind> {
  key: RecordKey & { kind: K };
  value: RecordKinds[K];
  references: RecordKey[];
}

/** The record to create exists already. */
export class RecordExistsError extends Error {
  constructor(readonly key: RecordKey) {
    super(`${key.kind} ${key.space}/${key.id} exists`);
    this.name = 'RecordExistsError';
  }
}

/** The record to update or delete does not exist. */
export class RecordMissingError extends Error {
  constructor(readonly key: RecordKey) {
    super(`${key.kind} ${key.space}/${key.id} does not exist`);
    this.name = 'RecordMissingError';
  }
}

/** A record refers to one that does not exist. */
export class MissingReferenceError extends Error {
  constructor(readonly reference: RecordKey) {
    super(`referenced ${reference.kind} ${reference.space}/${reference.id} does not exist`);
    this.name = 'MissingReferenceError';
  }
}

/** The record to delete is still referred to by another. */
export class ReferencedRecordError extends Error {
  constructor(
    readonly key: RecordKey,
    readonly referrer: RecordKey,
  ) {
    super(`${key.kind} ${key.space}/${key.id} is referenced by ${referrer.kind} ${referrer.id}`);
    this.name = 'ReferencedRecordError';
  }
}

/**
 * The storage port of the registry. Each write is atomic together with its referential checks, so
 * that rules hold under concurrent writers (a subscription needs its function; a subscribed function
 * cannot be deleted). Business rules and messages live in the registry service, not here.
 */
export interface RegistryStore {
  get<K extends RecordKind>(key: RecordKey & { kind: K }): Promise<RecordKinds[K] | undefined>;
  list<K extends RecordKind>(space: string, kind: K): Promise<Array<RecordKinds[K]>>;
  /** How many records of a kind a space holds; optional, the service falls back to `list`. */
  count?(space: string, kind: RecordKind): Promise<number>;
  /** Every record of a kind across all spaces. */
  listAll<K extends RecordKind>(kind: K): Promise<Array<RecordKinds[K]>>;
  /** Throws RecordExistsError or MissingReferenceError. */
  create(write: RecordWrite): Promise<void>;
  /** Replaces a record and its references; throws RecordMissingError or MissingReferenceError. */
  update(write: RecordWrite): Promise<void>;
  /** Throws RecordMissingError or ReferencedRecordError. */
  delete(key: RecordKey): Promise<void>;
  /** A number that changes with every successful write, so that caches can tell they are stale. */
  version(): Promise<number>;
  close(): Promise<void>;
}

/** Key of a record as one string, for maps and primary keys. */
export function keyString(key: RecordKey): string {
  return `${key.space}\u0000${key.kind}\u0000${key.id}`;
}
