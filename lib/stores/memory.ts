import {
  keyString,
  MissingReferenceError,
  RecordExistsError,
  RecordMissingError,
  ReferencedRecordError,
  type RecordKey,
  type RecordWrite,
  type RegistryStore,
} from '../registry/store';
import type { RecordKind, RecordKinds } from '../registry/types';

interface Entry {
  key: RecordKey;
  value: unknown;
  references: RecordKey[];
}

/** A registry store held in memory: for unit tests and throwaway runs. Nothing survives the process. */
export class MemoryStore implements RegistryStore {
  private readonly records = new Map<string, Entry>();
  /** For each referenced record, the records that refer to it. */
  private readonly referrers = new Map<string, Map<string, RecordKey>>();
  private counter = 0;

  async get<K extends RecordKind>(key: RecordKey & { kind: K }): Promise<RecordKinds[K] | undefined> {
    return this.records.get(keyString(key))?.value as RecordKinds[K] | undefined;
  }

  async list<K extends RecordKind>(space: string, kind: K): Promise<Array<RecordKinds[K]>> {
    return this.select((key) => key.space === space && key.kind === kind);
  }

  async count(space: string, kind: RecordKind): Promise<number> {
    let n = 0;
    for (const entry of this.records.values()) if (entry.key.space === space && entry.key.kind === kind) n++;
    return n;
  }

  async listAll<K extends RecordKind>(kind: K): Promise<Array<RecordKinds[K]>> {
    return this.select((key) => key.kind === kind);
  }

  async create(write: RecordWrite): Promise<void> {
    if (this.records.has(keyString(write.key))) throw new RecordExistsError(write.key);
    this.checkReferences(write.references);
    this.put(write);
  }

  async update(write: RecordWrite): Promise<void> {
    const existing = this.records.get(keyString(write.key));
    if (!existing) throw new RecordMissingError(write.key);
    this.checkReferences(write.references);
    this.unlinkReferences(existing);
    this.put(write);
  }

  async delete(key: RecordKey): Promise<void> {
    const id = keyString(key);
    const existing = this.records.get(id);
    if (!existing) throw new RecordMissingError(key);
    const referrer = this.referrers.get(id)?.values().next().value;
    if (referrer) throw new ReferencedRecordError(key, referrer);
    this.unlinkReferences(existing);
    this.records.delete(id);
    this.counter++;
  }

  async version(): Promise<number> {
    return this.counter;
  }

  async close(): Promise<void> {}

  private select<K extends RecordKind>(predicate: (key: RecordKey) => boolean): Array<RecordKinds[K]> {
    const out: Array<RecordKinds[K]> = [];
    for (const entry of this.records.values()) if (predicate(entry.key)) out.push(structuredClone(entry.value) as RecordKinds[K]);
    return out;
  }

  private checkReferences(references: RecordKey[]): void {
    const missing = references.find((ref) => !this.records.has(keyString(ref)));
    if (missing) throw new MissingReferenceError(missing);
  }

  private put(write: RecordWrite): void {
    const id = keyString(write.key);
    this.records.set(id, { key: write.key, value: structuredClone(write.value), references: write.references });
    for (const ref of write.references) {
      const target = keyString(ref);
      let set = this.referrers.get(target);
      if (!set) this.referrers.set(target, (set = new Map()));
      set.set(id, write.key);
    }
    this.counter++;
  }

  private unlinkReferences(entry: Entry): void {
    const id = keyString(entry.key);
    for (const ref of entry.references) this.referrers.get(keyString(ref))?.delete(id);
  }
}
