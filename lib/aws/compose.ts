import { SqsQueue } from '../delivery/sqs';
import { TrackedQueue } from '../delivery/tracked-queue';
import type { GatewayMetrics } from '../gateway/metrics';
import { EventRouter } from '../gateway/router';
import { xrayTracing } from '../tracing/xray';
import { RoutingCache } from '../gateway/routing-cache';
import { accessKeysFromEnv, type AccessKey } from '../http/config-access';
import { DependencyHealth } from '../health';
import type { Logger } from '../logger';
import { ProviderCache } from '../providers/cache';
import { connectorsCalledElsewhere, createProviderFactories, nodeProviderDeps, type ConnectorFactories, type ProviderDeps } from '../providers/factories';
import type { TargetNetworkPolicy } from '../providers/target-network';
import { TrackedStore } from '../registry/tracked-store';
import { DynamoDbStore } from '../stores/dynamodb';
import { coreLogger, lambdaLogger } from './logging';
import { lambdaMetrics, PowertoolsGatewayMetrics } from './metrics';
import { PluginHost } from '../plugins/host';
import type { Plugin } from '../plugins/plugin';

/** Everything the Lambda handlers are configured with, read once from the environment. */
export interface AwsConfig {
  tableName: string;
  /** Needed by the handlers that enqueue (events, worker) and by the config handler's dead-letter replays. */
  queueUrl?: string;
  /** The delivery queue's dead-letter queue, behind the Config API's dead-letter endpoints. */
  deadLetterQueueUrl?: string;
  /** How often the routing cache checks the registry's version. */
  versionCheckMs: number;
  logLevel: string;
  /** Local stand-ins (DynamoDB Local, a loopback SQS) for `sam local` and tests. */
  dynamoDbEndpoint?: string;
  sqsEndpoint?: string;
  /** Config API access keys (EG_CONFIG_ACCESS_KEYS, same forms as EVENT_GATEWAY_ACCESS_KEYS): for local runs; the stack never sets it. */
  accessKeys: AccessKey[];
  /**
   * Key mode on AWS (EG_CONFIG_KEYS_SECRET): the name or ARN of the Secrets Manager secret holding the
   * Config API's access keys, read at cold start and every `configKeysTtlMs` (EG_CONFIG_KEYS_TTL_MS).
   */
  configKeysSecret?: string;
  configKeysTtlMs?: number;
  /** A local Secrets Manager stand-in (EG_SECRETS_MANAGER_ENDPOINT). */
  secretsManagerEndpoint?: string;
  /** Longest wait for a sync plugin's reaction, in ms (EG_PLUGIN_TIMEOUT_MS, default 1000). */
  pluginTimeoutMs?: number;
  /** Which addresses targets may have beyond public ones (EG_ALLOW_TARGET_NETWORKS, EG_ALLOW_PRIVATE_TARGETS). */
  targetNetworks: TargetNetworkPolicy;
}

/** The default delay before a config change reaches running Events API / worker instances. */
export const DEFAULT_VERSION_CHECK_MS = 3000;

/** The handlers' configuration from environment variables (the stack sets them); throws when one is missing. */
export function readAwsConfig(env: NodeJS.ProcessEnv): AwsConfig {
  const tableName = env.EG_TABLE_NAME;
  if (!tableName) throw new Error('EG_TABLE_NAME is not set');
  const check = Number(env.EG_VERSION_CHECK_MS ?? DEFAULT_VERSION_CHECK_MS);
  return {
    tableName,
    versionCheckMs: Number.isFinite(check) && check >= 0 ? check : DEFAULT_VERSION_CHECK_MS,
    logLevel: env.EG_LOG_LEVEL ?? 'info',
    ...(env.EG_QUEUE_URL ? { queueUrl: env.EG_QUEUE_URL } : {}),
    ...(env.EG_DEAD_LETTER_QUEUE_URL ? { deadLetterQueueUrl: env.EG_DEAD_LETTER_QUEUE_URL } : {}),
    ...(env.EG_DYNAMODB_ENDPOINT ? { dynamoDbEndpoint: env.EG_DYNAMODB_ENDPOINT } : {}),
    ...(env.EG_SQS_ENDPOINT ? { sqsEndpoint: env.EG_SQS_ENDPOINT } : {}),
    accessKeys: accessKeysFromEnv(env.EG_CONFIG_ACCESS_KEYS),
    ...(env.EG_CONFIG_KEYS_SECRET ? { configKeysSecret: env.EG_CONFIG_KEYS_SECRET } : {}),
    ...(Number(env.EG_CONFIG_KEYS_TTL_MS) >= 0 && env.EG_CONFIG_KEYS_TTL_MS ? { configKeysTtlMs: Number(env.EG_CONFIG_KEYS_TTL_MS) } : {}),
    ...(env.EG_SECRETS_MANAGER_ENDPOINT ? { secretsManagerEndpoint: env.EG_SECRETS_MANAGER_ENDPOINT } : {}),
    ...(env.EG_PLUGIN_TIMEOUT_MS ? { pluginTimeoutMs: Number(env.EG_PLUGIN_TIMEOUT_MS) } : {}),
    targetNetworks: {
      allowNetworks: (env.EG_ALLOW_TARGET_NETWORKS ?? '').split(',').map((n) => n.trim()).filter((n) => n !== ''),
      allowPrivate: env.EG_ALLOW_PRIVATE_TARGETS === 'true',
    },
  };
}

/** What the handlers are composed with besides the environment. */
export interface ComposeOptions {
  /** Plugins bundled into the handler (the stack's `plugins`, see lib/infra/plugin-entry.ts). */
  plugins?: readonly Plugin[];
}

/** What every handler shares: Powertools' logger (and the core's view of it), metrics, the registry store. */
export function composeBase(config: AwsConfig) {
  const log = lambdaLogger(config.logLevel);
  const logger = coreLogger(log);
  const metrics = new PowertoolsGatewayMetrics(lambdaMetrics(log));
  const table = new DynamoDbStore({ tableName: config.tableName, ...(config.dynamoDbEndpoint ? { endpoint: config.dynamoDbEndpoint } : {}) });
  // No background probe on Lambda (an environment is frozen between invocations): after a short backoff the next invocation tries again.
  const registryHealth = new DependencyHealth({ name: 'registry', logger, description: `DynamoDB table "${config.tableName}"` });
  const store = new TrackedStore(table, registryHealth);
  return { log, logger, metrics, store, registryHealth };
}

/** Makes the connectors' factories of a handler (see composeRouter). */
export type ConnectorsMaker = (deps: ProviderDeps) => ConnectorFactories;

/**
 * The router of the Events API and the worker: routing table cached across invocations, refreshed by
 * version check. HTTP targets are called through node:http, which keeps undici out of the bundle.
 */
export function composeRouter(config: AwsConfig, options: ComposeOptions, connectors: ConnectorsMaker) {
  const base = composeBase(config);
  if (!config.queueUrl) throw new Error('EG_QUEUE_URL is not set');
  const deps = nodeProviderDeps({ targetNetworks: config.targetNetworks });
  const providers = new ProviderCache(createProviderFactories(deps, connectors(deps)));
  const routing = new RoutingCache(base.store, providers.providerFor, base.logger, { versionCheckMs: config.versionCheckMs });
  const sqs = new SqsQueue({ queueUrl: config.queueUrl, logger: base.logger, ...(config.sqsEndpoint ? { connection: { endpoint: config.sqsEndpoint } } : {}) });
  const queue = new TrackedQueue(sqs, new DependencyHealth({ name: 'queue', logger: base.logger, description: 'the SQS delivery queue' }));
  // Tracing on Lambda is X-Ray's (one path, no OpenTelemetry SDK): targets get W3C trace context, the client's or the invocation's X-Ray trace.
  const router = new EventRouter({ routing, queue, metrics: base.metrics, logger: base.logger, ...pluginsOf(config, options, base), tracing: xrayTracing() });
  // The delivery queue's SQS client, for the worker's retries: one SQS client per handler.
  return { ...base, router, queue, sqsClient: sqs.sqs };
}

/**
 * The plugin host of a handler, when it has plugins. Async reactions are awaited before the handler
 * returns: Lambda freezes whatever still runs after that.
 */
function pluginsOf(config: AwsConfig, options: ComposeOptions, base: { logger: Logger; metrics: GatewayMetrics }): { plugins?: PluginHost } {
  if (!options.plugins?.length) return {};
  const timeoutMs = config.pluginTimeoutMs !== undefined && Number.isInteger(config.pluginTimeoutMs) && config.pluginTimeoutMs > 0 ? config.pluginTimeoutMs : 1000;
  return { plugins: new PluginHost(options.plugins, { timeoutMs, logger: base.logger, metrics: base.metrics, trackAsync: true }) };
}

/**
 * The Events API handler's parts. Its async deliveries go to SQS and the worker makes them; connectors
 * cannot answer sync subscriptions, so it never calls one and its bundle carries none of their clients.
 */
export function composeEvents(config: AwsConfig, options: ComposeOptions = {}) {
  return composeRouter(config, options, () => connectorsCalledElsewhere('the worker'));
}
