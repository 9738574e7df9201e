import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MemoryStore } from '../../lib/stores/memory';
import { SqliteStore } from '../../lib/stores/sqlite';
import { tempDir } from '../support/gateway';
import { registryStoreContract } from './registry-store.contract';

registryStoreContract('memory', async () => new MemoryStore());

const dirs: string[] = [];
registryStoreContract('embedded (SQLite)', async () => {
  const dir = tempDir('eg-store-');
  dirs.push(dir);
  return new SqliteStore(dir);
});

describe('embedded store persistence', () => {
  it('keeps records across a reopen of the same directory', async () => {
    const dir = tempDir('eg-store-');
    dirs.push(dir);
    const first = new SqliteStore(dir);
    await first.create({
      key: { space: 'space1', kind: 'eventType', id: 'kept' },
      value: { space: 'space1', name: 'kept' },
      references: [],
    });
    await first.close();
    const second = new SqliteStore(dir);
    expect(await second.get({ space: 'space1', kind: 'eventType', id: 'kept' })).toEqual({ space: 'space1', name: 'kept' });
    await second.close();
  });
});

describe('embedded store counts', () => {
  it('counts a registry written before it kept counts', async () => {
    const dir = tempDir('eg-store-');
    dirs.push(dir);
    const first = new SqliteStore(dir);
    for (const id of ['a', 'b', 'c']) await first.create({ key: { space: 's', kind: 'eventType', id }, value: { space: 's', name: id }, references: [] });
    await first.close();
    const raw = new Database(join(dir, 'registry.db'));
    raw.exec('DROP TABLE counts');
    raw.close();
    const reopened = new SqliteStore(dir);
    expect(await reopened.count('s', 'eventType')).toBe(3);
    await reopened.close();
  });
});

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
