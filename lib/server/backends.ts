import { regionOfQueueUrl, SqsApi } from '../aws-api/sqs';
import { SqsQueue } from '../delivery/sqs';
import { SqsDeadLetters } from '../delivery/sqs-dead-letters';
import type { DeadLetters, DeliveryQueue } from '../delivery/queue';
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

/** Delivery through SQS: the queue (polled by this server) and, with a dead-letter queue, its dead letters. */
export interface SqsDelivery {
  queue: DeliveryQueue;
  deadLetters?: DeadLetters;
}

/** SQS delivery when the command line asks for it; otherwise undefined (the gateway's own queue applies). */
export function openQueue(options: CliOptions, logger: Logger): SqsDelivery | undefined {
  const queueUrl = options.sqsQueueUrl;
  if (!queueUrl) return undefined;
  const region = regionOfQueueUrl(queueUrl) ?? options.dynamodb?.region;
  const connection = { ...(region ? { region } : {}), ...(options.sqsEndpoint ? { endpoint: options.sqsEndpoint } : {}) };
  const deadLetterQueueUrl = options.sqsDeadLetterQueueUrl;
  const queue = new SqsQueue({
    queueUrl,
    logger,
    poll: true,
    connection,
    defaultRetry: { maxAttempts: options.retryMaxAttempts, maxAgeSeconds: options.retryMaxAgeSeconds },
    ...(deadLetterQueueUrl ? { deadLetterQueueUrl } : {}),
  });
  if (!deadLetterQueueUrl) return { queue };
  const deadLetters = new SqsDeadLetters({ sqs: new SqsApi({ queueUrl: deadLetterQueueUrl, ...connection }), deadLetterQueueUrl, queueUrl });
  return { queue, deadLetters };
}
