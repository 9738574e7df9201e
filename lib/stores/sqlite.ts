import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  MissingReferenceError,
  RecordExistsError,
  RecordMissingError,
  ReferencedRecordError,
  type RecordKey,
  type RecordWrite,
  type RegistryStore,
} from '../registry/store';
import type { RecordKind, RecordKinds } from '../registry/types';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  space TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (space, kind, id)
);
CREATE TABLE IF NOT EXISTS refs (
  space TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,
  ref_kind TEXT NOT NULL, ref_id TEXT NOT NULL,
  PRIMARY KEY (space, kind, id, ref_kind, ref_id)
);
CREATE INDEX IF NOT EXISTS refs_target ON refs (space, ref_kind, ref_id);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (name, value) VALUES ('version', 0);
CREATE TABLE IF NOT EXISTS counts (space TEXT NOT NULL, kind TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (space, kind));
`;

/**
 * The embedded registry store: one SQLite file in the data directory. Each write and its
 * referential checks run in one transaction; WAL keeps reads cheap while a write commits.
 */
export class SqliteStore implements RegistryStore {
  private readonly db: Database.Database;
  private readonly statements;

  /** Opens (creating if missing) the store in `dataDir`. */
  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(join(dataDir, 'registry.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    // Counted afresh on every open (one index scan), so a registry written without the counts, by an
    // older version, is right too; from here on every write keeps them current.
    this.db.transaction(() => {
      this.db.exec('DELETE FROM counts');
      this.db.exec('INSERT INTO counts (space, kind, n) SELECT space, kind, COUNT(*) FROM records GROUP BY space, kind');
    })();
    this.statements = {
      get: this.db.prepare<[string, string, string], { value: string }>('SELECT value FROM records WHERE space = ? AND kind = ? AND id = ?'),
      list: this.db.prepare<[string, string], { value: string }>('SELECT value FROM records WHERE space = ? AND kind = ? ORDER BY id'),
      count: this.db.prepare<[string, string], { n: number }>('SELECT n FROM counts WHERE space = ? AND kind = ?'),
      countUp: this.db.prepare('INSERT INTO counts (space, kind, n) VALUES (?, ?, 1) ON CONFLICT (space, kind) DO UPDATE SET n = n + 1'),
      countDown: this.db.prepare('UPDATE counts SET n = n - 1 WHERE space = ? AND kind = ?'),
      listAll: this.db.prepare<[string], { value: string }>('SELECT value FROM records WHERE kind = ? ORDER BY space, id'),
      insert: this.db.prepare('INSERT INTO records (space, kind, id, value) VALUES (?, ?, ?, ?)'),
      replace: this.db.prepare('UPDATE records SET value = ? WHERE space = ? AND kind = ? AND id = ?'),
      remove: this.db.prepare('DELETE FROM records WHERE space = ? AND kind = ? AND id = ?'),
      addRef: this.db.prepare('INSERT OR IGNORE INTO refs (space, kind, id, ref_kind, ref_id) VALUES (?, ?, ?, ?, ?)'),
      dropRefs: this.db.prepare('DELETE FROM refs WHERE space = ? AND kind = ? AND id = ?'),
      referrer: this.db.prepare<[string, string, string], { kind: RecordKind; id: string }>(
        'SELECT kind, id FROM refs WHERE space = ? AND ref_kind = ? AND ref_id = ? LIMIT 1',
      ),
      bump: this.db.prepare("UPDATE meta SET value = value + 1 WHERE name = 'version'"),
      version: this.db.prepare<[], { value: number }>("SELECT value FROM meta WHERE name = 'version'"),
    };
  }

  async get<K extends RecordKind>(key: RecordKey & { kind: K }): Promise<RecordKinds[K] | undefined> {
    const row = this.statements.get.get(key.space, key.kind, key.id);
    return row ? (JSON.parse(row.value) as RecordKinds[K]) : undefined;
  }

  async list<K extends RecordKind>(space: string, kind: K): Promise<Array<RecordKinds[K]>> {
    return this.statements.list.all(space, kind).map((row) => JSON.parse(row.value) as RecordKinds[K]);
  }

  async count(space: string, kind: RecordKind): Promise<number> {
    return this.statements.count.get(space, kind)?.n ?? 0;
  }

  async listAll<K extends RecordKind>(kind: K): Promise<Array<RecordKinds[K]>> {
    return this.statements.listAll.all(kind).map((row) => JSON.parse(row.value) as RecordKinds[K]);
  }

  async create(write: RecordWrite): Promise<void> {
    this.db.transaction(() => {
      if (this.exists(write.key)) throw new RecordExistsError(write.key);
      this.checkReferences(write.references);
      this.statements.insert.run(write.key.space, write.key.kind, write.key.id, JSON.stringify(write.value));
      this.statements.countUp.run(write.key.space, write.key.kind);
      this.linkReferences(write);
      this.statements.bump.run();
    })();
  }

  async update(write: RecordWrite): Promise<void> {
    this.db.transaction(() => {
      if (!this.exists(write.key)) throw new RecordMissingError(write.key);
      this.checkReferences(write.references);
      this.statements.replace.run(JSON.stringify(write.value), write.key.space, write.key.kind, write.key.id);
      this.statements.dropRefs.run(write.key.space, write.key.kind, write.key.id);
      this.linkReferences(write);
      this.statements.bump.run();
    })();
  }

  async delete(key: RecordKey): Promise<void> {
    this.db.transaction(() => {
      if (!this.exists(key)) throw new RecordMissingError(key);
      const referrer = this.statements.referrer.get(key.space, key.kind, key.id);
      if (referrer) throw new ReferencedRecordError(key, { space: key.space, kind: referrer.kind, id: referrer.id });
      this.statements.remove.run(key.space, key.kind, key.id);
      this.statements.countDown.run(key.space, key.kind);
      this.statements.dropRefs.run(key.space, key.kind, key.id);
      this.statements.bump.run();
    })();
  }

  async version(): Promise<number> {
    return this.statements.version.get()?.value ?? 0;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private exists(key: RecordKey): boolean {
    return this.statements.get.get(key.space, key.kind, key.id) !== undefined;
  }

  private checkReferences(references: RecordKey[]): void {
    const missing = references.find((ref) => !this.exists(ref));
    if (missing) throw new MissingReferenceError(missing);
  }

  private linkReferences(write: RecordWrite): void {
    for (const ref of write.references) {
      this.statements.addRef.run(write.key.space, write.key.kind, write.key.id, ref.kind, ref.id);
    }
  }
}
