import { CreateTableCommand, DynamoDBClient, ResourceInUseException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand, type NativeAttributeValue, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { sdkClientConfig, type AwsConnection } from '../aws/sdk-config';
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

/** Where the DynamoDB store keeps the registry: the table, and how to reach DynamoDB (region, endpoint, credentials). */
export interface DynamoDbStoreOptions extends AwsConnection {
  tableName: string;
}

type Doc = Record<string, NativeAttributeValue>;
type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];


/** A stored record: the value, the references it holds, a revision for optimistic updates, and per-kind referrer counters. */
interface RecordItem {
  pk: string;
  sk: string;
  value: unknown;
  refs: RecordKey[];
  rev: number;
  [counter: `refBy_${string}`]: number | undefined;
}

const VERSION_KEY = { pk: 'meta', sk: 'version' };
/** The kinds that may refer to another record; each has its own counter on the referenced item. */
const REFERRER_KINDS: RecordKind[] = ['subscription', 'eventType', 'function', 'cors'];
const CONFLICT_RETRIES = 8;

const enc = encodeURIComponent;
const recordPk = (kind: RecordKind) => `rec:${kind}`;
const recordSk = (space: string, id: string) => `${enc(space)}/${enc(id)}`;
const recordKey = (key: RecordKey) => ({ pk: recordPk(key.kind), sk: recordSk(key.space, key.id) });
const keyText = (key: RecordKey) => `${enc(key.space)}/${key.kind}/${enc(key.id)}`;
/** One item per reference, under the referenced record, so a refused delete can name its referrer. */
const referenceKey = (target: RecordKey, referrer: RecordKey) => ({ pk: `ref:${keyText(target)}`, sk: keyText(referrer) });
const counterOf = (kind: RecordKind) => `refBy_${kind}` as const;

/**
 * The registry in one DynamoDB table (`pk`/`sk` strings). Every write is one TransactWriteItems:
 * the record (conditional on existence), the referenced records' per-kind referrer counters (conditional
 * on the referenced record existing), reference items naming the referrer, and a version item bumped
 * by every write so that routing caches can poll one cheap GetItem.
 */
export class DynamoDbStore implements RegistryStore {
  /** The DynamoDB client (the DocumentClient sends through its middleware stack), e.g. for tracing. */
  readonly client: DynamoDBClient;
  /** Plain values in and out, marshalled by the SDK. */
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(options: DynamoDbStoreOptions) {
    const { tableName, ...connection } = options;
    this.table = tableName;
    this.client = new DynamoDBClient(sdkClientConfig(connection));
    this.doc = DynamoDBDocumentClient.from(this.client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async get<K extends RecordKind>(key: RecordKey & { kind: K }): Promise<RecordKinds[K] | undefined> {
    const item = await this.getItem(key);
    return item?.value as RecordKinds[K] | undefined;
  }

  async list<K extends RecordKind>(space: string, kind: K): Promise<Array<RecordKinds[K]>> {
    return this.query<K>(kind, `${enc(space)}/`);
  }

  async listAll<K extends RecordKind>(kind: K): Promise<Array<RecordKinds[K]>> {
    return this.query<K>(kind);
  }

  async create(write: RecordWrite): Promise<void> {
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.table,
          Item: { ...recordKey(write.key), value: write.value, refs: write.references, rev: 0 },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      ...write.references.flatMap((ref) => this.link(ref, write.key)),
      this.bumpVersion(),
    ];
    await this.transact(items, (index) => {
      if (index === 0) return new RecordExistsError(write.key);
      return this.missingReference(write.references, index - 1);
    });
  }

  async update(write: RecordWrite): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const existing = await this.getItem(write.key);
      if (!existing) throw new RecordMissingError(write.key);
      const removed = difference(existing.refs, write.references);
      const added = difference(write.references, existing.refs);
      const items: TransactItem[] = [
        {
          Update: {
            TableName: this.table,
            Key: recordKey(write.key),
            UpdateExpression: 'SET #value = :value, refs = :refs, rev = rev + :one',
            ConditionExpression: 'rev = :rev',
            ExpressionAttributeNames: { '#value': 'value' },
            ExpressionAttributeValues: { ':value': write.value, ':refs': write.references, ':one': 1, ':rev': existing.rev },
          },
        },
        ...added.flatMap((ref) => this.link(ref, write.key)),
        ...removed.flatMap((ref) => this.unlink(ref, write.key)),
        this.bumpVersion(),
      ];
      try {
        await this.transact(items, (index) => {
          if (index === 0) return new StaleRevision();
          return this.missingReference(added, index - 1);
        });
        return;
      } catch (err) {
        // Someone else changed the record between our read and our write: read it again.
        if (!(err instanceof StaleRevision) || attempt >= CONFLICT_RETRIES) throw err;
      }
    }
  }

  async delete(key: RecordKey): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const existing = await this.getItem(key);
      if (!existing) throw new RecordMissingError(key);
      const referrer = REFERRER_KINDS.find((kind) => (existing[counterOf(kind)] ?? 0) > 0);
      if (referrer) throw new ReferencedRecordError(key, await this.findReferrer(key, referrer));
      const names: Record<string, string> = {};
      const unreferenced = REFERRER_KINDS.map((kind, i) => {
        names[`#c${i}`] = counterOf(kind);
        return `(attribute_not_exists(#c${i}) OR #c${i} = :zero)`;
      });
      const items: TransactItem[] = [
        {
          Delete: {
            TableName: this.table,
            Key: recordKey(key),
            ConditionExpression: `rev = :rev AND ${unreferenced.join(' AND ')}`,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ':rev': existing.rev, ':zero': 0 },
          },
        },
        ...existing.refs.flatMap((ref) => this.unlink(ref, key)),
        this.bumpVersion(),
      ];
      try {
        await this.transact(items, () => new StaleRevision());
        return;
      } catch (err) {
        // A referrer arrived or the record changed since we read it: decide again from a fresh read.
        if (!(err instanceof StaleRevision) || attempt >= CONFLICT_RETRIES) throw err;
      }
    }
  }

  async version(): Promise<number> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: VERSION_KEY, ConsistentRead: true }));
    return (out.Item?.v as number | undefined) ?? 0;
  }

  async close(): Promise<void> {
    // The DocumentClient's destroy does nothing: the connections are the DynamoDB client's.
    this.client.destroy();
  }

  private async getItem(key: RecordKey): Promise<RecordItem | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: recordKey(key), ConsistentRead: true }));
    return out.Item as RecordItem | undefined;
  }

  private async query<K extends RecordKind>(kind: K, prefix?: string): Promise<Array<RecordKinds[K]>> {
    const values: Array<RecordKinds[K]> = [];
    let start: Doc | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: prefix ? 'pk = :pk AND begins_with(sk, :prefix)' : 'pk = :pk',
        ExpressionAttributeValues: prefix ? { ':pk': recordPk(kind), ':prefix': prefix } : { ':pk': recordPk(kind) },
        ProjectionExpression: '#value',
        ExpressionAttributeNames: { '#value': 'value' },
        ConsistentRead: true,
        ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) values.push(item.value as RecordKinds[K]);
      start = out.LastEvaluatedKey;
    } while (start);
    return values;
  }

  /** Counts `referrer` on `target` (which must exist) and records who it is. */
  private link(target: RecordKey, referrer: RecordKey): TransactItem[] {
    return [
      {
        Update: {
          TableName: this.table,
          Key: recordKey(target),
          UpdateExpression: 'ADD #count :one',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#count': counterOf(referrer.kind) },
          ExpressionAttributeValues: { ':one': 1 },
        },
      },
      { Put: { TableName: this.table, Item: { ...referenceKey(target, referrer), referrer } } },
    ];
  }

  private unlink(target: RecordKey, referrer: RecordKey): TransactItem[] {
    return [
      {
        Update: {
          TableName: this.table,
          Key: recordKey(target),
          UpdateExpression: 'ADD #count :minus',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#count': counterOf(referrer.kind) },
          ExpressionAttributeValues: { ':minus': -1 },
        },
      },
      { Delete: { TableName: this.table, Key: referenceKey(target, referrer) } },
    ];
  }

  private bumpVersion(): TransactItem {
    return { Update: { TableName: this.table, Key: VERSION_KEY, UpdateExpression: 'ADD v :one', ExpressionAttributeValues: { ':one': 1 } } };
  }

  /** The reference whose link (two items each: counter, reference item) sits at `linkItemIndex`. */
  private missingReference(references: RecordKey[], linkItemIndex: number): Error {
    const ref = references[Math.floor(linkItemIndex / 2)];
    return ref ? new MissingReferenceError(ref) : new Error('registry write refused for an unknown reason');
  }

  private async findReferrer(target: RecordKey, kind: RecordKind): Promise<RecordKey> {
    const out = await this.doc.send(
      new QueryCommand({ TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `ref:${keyText(target)}` }, ConsistentRead: true }),
    );
    const referrers = (out.Items ?? []).map((item) => item.referrer as RecordKey);
    return referrers.find((r) => r.kind === kind) ?? { space: target.space, kind, id: '' };
  }

  /**
   * Runs one transaction. A failed condition is turned into the error `refusal(index)` names; a clash
   * with a concurrent transaction is retried with jitter, since neither side's condition was checked.
   */
  private async transact(items: TransactItem[], refusal: (index: number) => Error): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        // The SDK sets a ClientRequestToken, so its own retries cannot apply a committed transaction twice.
        await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
        return;
      } catch (err) {
        if (!(err instanceof TransactionCanceledException)) throw err;
        const reasons = err.CancellationReasons ?? [];
        const failed = reasons.findIndex((r) => r.Code === 'ConditionalCheckFailed');
        if (failed >= 0) throw refusal(failed);
        const conflict = reasons.some((r) => r.Code === 'TransactionConflict');
        if (!conflict || attempt >= CONFLICT_RETRIES) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * 2 ** Math.min(attempt, 5)));
      }
    }
  }
}

/** The record changed between the read and the conditional write. */
class StaleRevision extends Error {
  constructor() {
    super('registry record changed concurrently; retries exhausted');
  }
}

function difference(a: RecordKey[], b: RecordKey[]): RecordKey[] {
  const other = new Set(b.map(keyText));
  return a.filter((key) => !other.has(keyText(key)));
}

/** Creates the registry table (on-demand) if it does not exist: for local runs and tests; on AWS the stack owns it. */
export async function createRegistryTable(options: DynamoDbStoreOptions): Promise<void> {
  const { tableName, ...connection } = options;
  const client = new DynamoDBClient(sdkClientConfig(connection));
  try {
    await client.send(
      new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  } finally {
    client.destroy();
  }
}
