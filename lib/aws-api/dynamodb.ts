import { randomUUID } from 'node:crypto';
import { marshall, unmarshall, type NativeAttributeValue } from '@aws-sdk/util-dynamodb';
import { AwsApi, type AwsApiOptions } from './client';

/** An item or key as plain JavaScript values (the SDK's "document" form). */
export type Doc = Record<string, NativeAttributeValue>;

/** The fields of a DynamoDB request that hold attribute values; each is marshalled on the way out. */
const VALUE_FIELDS = ['Item', 'Key', 'ExpressionAttributeValues', 'ExclusiveStartKey'] as const;

export interface ExpressionFields {
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Doc;
}

export type TransactItem =
  | { Put: { TableName: string; Item: Doc } & ExpressionFields }
  | { Update: { TableName: string; Key: Doc; UpdateExpression: string } & ExpressionFields }
  | { Delete: { TableName: string; Key: Doc } & ExpressionFields };

export interface QueryInput extends ExpressionFields {
  TableName: string;
  KeyConditionExpression: string;
  ProjectionExpression?: string;
  ConsistentRead?: boolean;
  ExclusiveStartKey?: Doc | undefined;
}

/**
 * DynamoDB's JSON API in document form, the way lib-dynamodb's DocumentClient offers it: plain values
 * in and out, marshalled with the SDK's own util-dynamodb. Only the calls the registry uses.
 */
export class DynamoDbDocuments {
  readonly api: AwsApi;

  constructor(options: Omit<AwsApiOptions, 'service'>) {
    this.api = new AwsApi({ ...options, service: 'dynamodb' });
  }

  async get(input: { TableName: string; Key: Doc; ConsistentRead?: boolean }): Promise<Doc | undefined> {
    const out = await this.call<{ Item?: Record<string, unknown> }>('GetItem', input);
    return out.Item ? unmarshall(out.Item as never) : undefined;
  }

  async query(input: QueryInput): Promise<{ items: Doc[]; lastKey?: Doc }> {
    const out = await this.call<{ Items?: Array<Record<string, unknown>>; LastEvaluatedKey?: Record<string, unknown> }>('Query', input);
    const items = (out.Items ?? []).map((item) => unmarshall(item as never));
    return out.LastEvaluatedKey ? { items, lastKey: unmarshall(out.LastEvaluatedKey as never) } : { items };
  }

  /**
   * One TransactWriteItems; a refused transaction throws AwsServiceError `TransactionCanceledException`
   * with `fields.CancellationReasons`. The token makes the client's retries idempotent, as the SDK's
   * are: a transaction that committed but whose answer was lost is not applied (or refused) twice.
   */
  async transactWrite(items: TransactItem[]): Promise<void> {
    const marshalled = items.map((item) => Object.fromEntries(Object.entries(item).map(([op, request]) => [op, marshalFields(request as Doc)])));
    await this.api.json('DynamoDB_20120810.TransactWriteItems', { TransactItems: marshalled, ClientRequestToken: randomUUID() });
  }

  /** Any other call, in DynamoDB's own (marshalled) form. */
  raw<T>(operation: string, input: unknown): Promise<T> {
    return this.api.json<T>(`DynamoDB_20120810.${operation}`, input);
  }

  destroy(): void {
    this.api.destroy();
  }

  private call<T>(operation: string, input: Doc): Promise<T> {
    return this.raw<T>(operation, marshalFields(input));
  }
}

function marshalFields(request: Doc): Doc {
  const out: Doc = { ...request };
  for (const field of VALUE_FIELDS) {
    if (out[field] === undefined) delete out[field];
    else out[field] = marshall(out[field] as Doc, { removeUndefinedValues: true, convertClassInstanceToMap: false });
  }
  return out;
}
