import { createRegistryTable, DynamoDbStore } from '../../lib/stores/dynamodb';
import { localDynamoDbConfig, uniqueTableName } from '../support/dynamodb-local';
import { registryStoreContract } from './registry-store.contract';

/** A fresh table on the test's DynamoDB Local, and a store on it. */
async function freshStore(): Promise<DynamoDbStore> {
  const options = { tableName: uniqueTableName(), ...localDynamoDbConfig() };
  await createRegistryTable(options);
  return new DynamoDbStore(options);
}

registryStoreContract('DynamoDB (DynamoDB Local)', async () => {
  return freshStore();
});

describe('DynamoDB store specifics', () => {
  it('names an event type as the referrer that blocks deleting its authorizer function', async () => {
    const store = await freshStore();
    await store.create({ key: { space: 's', kind: 'function', id: 'auth' }, value: { space: 's', functionId: 'auth' } as never, references: [] });
    await store.create({
      key: { space: 's', kind: 'eventType', id: 'e' },
      value: { space: 's', name: 'e', authorizerId: 'auth' },
      references: [{ space: 's', kind: 'function', id: 'auth' }],
    });
    const err = await store.delete({ space: 's', kind: 'function', id: 'auth' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ReferencedRecordError', referrer: { space: 's', kind: 'eventType', id: 'e' } });
  });

  it('lists every record of a space even past one query page', async () => {
    const store = await freshStore();
    const big = 'x'.repeat(50_000);
    for (let i = 0; i < 25; i++) {
      await store.create({ key: { space: 'p', kind: 'eventType', id: `e${i}` }, value: { space: 'p', name: `e${i}`, metadata: { big } }, references: [] });
    }
    expect(await store.list('p', 'eventType')).toHaveLength(25);
  });

  it('keeps spaces whose names are prefixes of each other apart', async () => {
    const store = await freshStore();
    await store.create({ key: { space: 'a', kind: 'eventType', id: 'x' }, value: { space: 'a', name: 'x' }, references: [] });
    await store.create({ key: { space: 'ab', kind: 'eventType', id: 'y' }, value: { space: 'ab', name: 'y' }, references: [] });
    expect((await store.list('a', 'eventType')).map((e) => e.name)).toEqual(['x']);
  });
});
