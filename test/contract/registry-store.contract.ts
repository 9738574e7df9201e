import {
  MissingReferenceError,
  RecordExistsError,
  RecordMissingError,
  ReferencedRecordError,
  type RecordWrite,
  type RegistryStore,
} from '../../lib/registry/store';
import type { EventType, FunctionRecord, RecordKind, Subscription } from '../../lib/registry/types';

const fn = (space: string, functionId: string): RecordWrite<'function'> => ({
  key: { space, kind: 'function', id: functionId },
  value: { space, functionId, type: 'http', provider: { url: 'http://127.0.0.1:1/' } } as FunctionRecord,
  references: [],
});

const eventType = (space: string, name: string, authorizerId?: string): RecordWrite<'eventType'> => ({
  key: { space, kind: 'eventType', id: name },
  value: { space, name, ...(authorizerId ? { authorizerId } : {}) } as EventType,
  references: authorizerId ? [{ space, kind: 'function', id: authorizerId }] : [],
});

const subscription = (space: string, id: string, functionId: string, eventTypeName: string): RecordWrite<'subscription'> => ({
  key: { space, kind: 'subscription', id },
  value: { space, subscriptionId: id, type: 'async', eventType: eventTypeName, functionId, path: '/', method: 'POST' } as Subscription,
  references: [
    { space, kind: 'eventType', id: eventTypeName },
    { space, kind: 'function', id: functionId },
  ],
});

/** The behaviour every registry store must have, run against each implementation. */
export function registryStoreContract(name: string, open: () => Promise<RegistryStore>): void {
  describe(`registry store contract: ${name}`, () => {
    let store: RegistryStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    /**
     * How many records of a kind a space holds, by listing them; a store with the optional `count`
     * must give the same number, so the assertions below hold for every store, with or without it.
     */
    const countOf = async (space: string, kind: RecordKind): Promise<number> => {
      const listed = (await store.list(space, kind)).length;
      if (store.count) expect(await store.count(space, kind)).toBe(listed);
      return listed;
    };

    it('creates, reads, lists and deletes a record', async () => {
      await store.create(fn('space1', 'a'));
      expect(await store.get({ space: 'space1', kind: 'function', id: 'a' })).toMatchObject({ functionId: 'a' });
      expect((await store.list('space1', 'function')).map((f) => f.functionId)).toEqual(['a']);
      await store.delete({ space: 'space1', kind: 'function', id: 'a' });
      expect(await store.get({ space: 'space1', kind: 'function', id: 'a' })).toBeUndefined();
    });

    it('keeps spaces apart', async () => {
      await store.create(fn('space1', 'a'));
      await store.create(fn('space2', 'a'));
      expect(await countOf('space1', 'function')).toBe(1);
      expect((await store.listAll('function')).map((f) => f.space).sort()).toEqual(['space1', 'space2']);
    });

    it('counts a space\'s records of a kind through creates, a refused create and deletes', async () => {
      await store.create(fn('space1', 'a'));
      await store.create(fn('space1', 'b'));
      await expect(store.create(fn('space1', 'a'))).rejects.toBeInstanceOf(RecordExistsError);
      expect(await countOf('space1', 'function')).toBe(2);
      await store.delete({ space: 'space1', kind: 'function', id: 'a' });
      expect(await countOf('space1', 'function')).toBe(1);
      expect(await countOf('space1', 'eventType')).toBe(0);
      expect(await countOf('space2', 'function')).toBe(0);
    });

    it('refuses to create a record twice', async () => {
      await store.create(fn('space1', 'a'));
      await expect(store.create(fn('space1', 'a'))).rejects.toBeInstanceOf(RecordExistsError);
    });

    it('refuses to update or delete a missing record', async () => {
      await expect(store.update(fn('space1', 'ghost'))).rejects.toBeInstanceOf(RecordMissingError);
      await expect(store.delete({ space: 'space1', kind: 'function', id: 'ghost' })).rejects.toBeInstanceOf(RecordMissingError);
    });

    it('refuses a record whose reference is missing, and writes nothing', async () => {
      await store.create(eventType('space1', 'e'));
      const err = await store.create(subscription('space1', 's', 'missing', 'e')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MissingReferenceError);
      expect((err as MissingReferenceError).reference).toEqual({ space: 'space1', kind: 'function', id: 'missing' });
      expect(await store.list('space1', 'subscription')).toEqual([]);
    });

    it('refuses to delete a referenced record and says who refers to it', async () => {
      await store.create(fn('space1', 'f'));
      await store.create(eventType('space1', 'e'));
      await store.create(subscription('space1', 's', 'f', 'e'));
      const err = await store.delete({ space: 'space1', kind: 'function', id: 'f' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ReferencedRecordError);
      expect((err as ReferencedRecordError).referrer).toEqual({ space: 'space1', kind: 'subscription', id: 's' });
      await store.delete({ space: 'space1', kind: 'subscription', id: 's' });
      await store.delete({ space: 'space1', kind: 'function', id: 'f' });
      expect(await store.get({ space: 'space1', kind: 'function', id: 'f' })).toBeUndefined();
    });

    it('replaces references on update', async () => {
      await store.create(fn('space1', 'auth1'));
      await store.create(fn('space1', 'auth2'));
      await store.create(eventType('space1', 'e', 'auth1'));
      await store.update(eventType('space1', 'e', 'auth2'));
      await store.delete({ space: 'space1', kind: 'function', id: 'auth1' });
      await expect(store.delete({ space: 'space1', kind: 'function', id: 'auth2' })).rejects.toBeInstanceOf(ReferencedRecordError);
    });

    it('moves its version forward on every write and not on reads', async () => {
      const v0 = await store.version();
      await store.create(fn('space1', 'a'));
      const v1 = await store.version();
      await store.get({ space: 'space1', kind: 'function', id: 'a' });
      expect(await store.version()).toBe(v1);
      await store.delete({ space: 'space1', kind: 'function', id: 'a' });
      expect(v1).not.toBe(v0);
      expect(await store.version()).not.toBe(v1);
    });

    it('keeps exactly one of two concurrent creates of the same record', async () => {
      const results = await Promise.allSettled([store.create(fn('space1', 'race')), store.create(fn('space1', 'race'))]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    });
  });
}
