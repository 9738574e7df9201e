import { regionOfQueueUrl } from '../aws-api/sqs';
import { SqsQueue } from '../delivery/sqs';
import type { DeliveryQueue } from '../delivery/queue';
import type { Logger } from '../logger';
import type { RegistryStore } from '../registry/store';
import { DynamoDbStore } from '../stores/dynamodb';
import { SqliteStore } from '../stores/sqlite';
import type { CliOptions } from './cli';

/** The registry store the command line asks for: a shared DynamoDB table, or the embedded store. */
export function openStore(options: CliOptions): RegistryStore {
  const dynamodb = options.dynamodb;
  if (!dynamodb) return new SqliteStore(options.embedDataDir);
  return new DynamoDbStore({
    tableName: dynamodb.table,
    ...(dynamodb.region ? { region: dynamodb.region } : {}),
    ...(dynamodb.endpoint ? { endpoint: dynamodb.endpoint } : {}),
  });
}

/** An SQS queue (polled by this server) when asked for; otherwise the gateway's in-process default. */
export function openQueue(options: CliOptions, logger: Logger): DeliveryQueue | undefined {
  if (!options.sqsQueueUrl) return undefined;
  const region = regionOfQueueUrl(options.sqsQueueUrl) ?? options.dynamodb?.region;
  return new SqsQueue({ queueUrl: options.sqsQueueUrl, logger, poll: true, ...(region ? { connection: { region } } : {}) });
}
