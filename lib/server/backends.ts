import { SqsQueue } from '../delivery/sqs';
import { regionOfQueueUrl } from '../delivery/sqs-client';
import { SqsDeadLetters } from '../delivery/sqs-dead-letters';
import type { DeadLetters, DeliveryQueue } from '../delivery/queue';
import type { Logger } from '../logger';
import type { RegistryStore } from '../registry/store';
import { DynamoDbStore } from '../stores/dynamodb';
import { SqliteStore } from '../stores/sqlite';
import type { ConfigAccessOptions } from '../http/config-access';
import type { CliOptions } from './cli';
import type { Tracing } from '../tracing/tracing';
import type { Plugin } from '../plugins/plugin';
import type { GatewayOptions } from './gateway';

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
  // One SQS client for the queue and its dead letters.
  const deadLetters = new SqsDeadLetters({ sqs: queue.sqs, deadLetterQueueUrl, queueUrl });
  return { queue, deadLetters };
}

/** The registry table as start-up errors name it: table, endpoint and region, as far as they are known here. */
function describeTable(dynamodb: NonNullable<CliOptions['dynamodb']>): string {
  const region = dynamodb.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "the SDK's default";
  return `DynamoDB table "${dynamodb.table}" (endpoint ${dynamodb.endpoint ?? "the region's"}, region ${region})`;
}

/** The gateway's options from the command line; `deliveriesFile` names this process's delivery database in a cluster. */
export function gatewayOptionsOf(
  options: CliOptions,
  configAccess: ConfigAccessOptions,
  logger: Logger,
  sqs: SqsDelivery | undefined,
  { deliveriesFile, plugins = [], tracing }: { deliveriesFile?: string; plugins?: readonly Plugin[]; tracing?: Tracing } = {},
): GatewayOptions {
  return {
    store: openStore(options),
    logger,
    host: options.host,
    eventsPort: options.eventsPort,
    configPort: options.configPort,
    workers: options.workers,
    workersBacklog: options.workersBacklog,
    eventsBodyLimit: options.eventsBodyLimit,
    delivery: sqs
      ? { mode: 'queue', queue: sqs.queue, ...(sqs.deadLetters ? { deadLetters: sqs.deadLetters } : {}) }
      : options.delivery === 'durable'
        ? {
            mode: 'durable',
            dataDir: options.embedDataDir,
            defaultRetry: { maxAttempts: options.retryMaxAttempts, maxAgeSeconds: options.retryMaxAgeSeconds },
            ...(deliveriesFile ? { file: deliveriesFile } : {}),
          }
        : { mode: 'memory' },
    configBodyLimit: options.configBodyLimit,
    maxHeaderSize: options.maxHeaderSize,
    maxRecordsPerSpace: options.maxRecordsPerSpace,
    targetTimeoutMs: options.targetTimeoutMs,
    configAccess,
    targetNetworks: { allowNetworks: options.allowTargetNetworks, allowPrivate: options.allowPrivateTargets, allowLoopback: options.dev },
    ...(options.eventsTls ? { eventsTls: options.eventsTls } : {}),
    ...(options.configTls ? { configTls: options.configTls } : {}),
    ...(options.dynamodb ? { registryRefreshMs: options.registryRefreshMs, registryDescription: describeTable(options.dynamodb) } : {}),
    ...(plugins.length > 0 ? { plugins, pluginTimeoutMs: options.pluginTimeoutMs } : {}),
    ...(tracing ? { tracing } : {}),
  };
}
