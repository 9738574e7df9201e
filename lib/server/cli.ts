import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parseNetworks } from '../providers/target-network';

/** The command line of the local server, as in the original gateway (contract §6). */
export interface CliOptions {
  dev: boolean;
  configPort: number;
  eventsPort: number;
  host: string;
  embedDataDir: string;
  configTls?: { cert: string; key: string };
  eventsTls?: { cert: string; key: string };
  logLevel: string;
  logFormat: 'text' | 'json';
  workers: number;
  workersBacklog: number;
  eventsBodyLimit: number;
  delivery: 'durable' | 'memory';
  retryMaxAttempts: number;
  retryMaxAgeSeconds: number;
  configBodyLimit: number;
  maxHeaderSize: number;
  maxRecordsPerSpace: number;
  targetTimeoutMs: number;
  configKeysFile?: string;
  allowUnauthenticatedConfig: boolean;
  allowTargetNetworks: string[];
  allowPrivateTargets: boolean;
  /** A shared registry in DynamoDB instead of the embedded store (a cluster of local servers). */
  dynamodb?: { table: string; region?: string; endpoint?: string };
  /** Async deliveries through SQS instead of the in-process queue. */
  sqsQueueUrl?: string;
  /** Where deliveries out of retries go (and what the dead-letter endpoints show) with --sqs-queue-url. */
  sqsDeadLetterQueueUrl?: string;
  /** Another SQS endpoint (ElasticMQ, LocalStack); the queue URLs' own by default. */
  sqsEndpoint?: string;
  /** How often a shared registry is checked for other instances' changes, in ms. */
  registryRefreshMs: number;
  /** Plugin modules (`--plugin`, repeatable): paths from the working directory or package names, in order. */
  plugins: string[];
  /** Longest wait for a sync plugin's reaction, in ms. */
  pluginTimeoutMs: number;
  /** Processes serving the Events API on the same port (node's cluster); 1 runs everything in one process. */
  processes: number;
  /** OTLP/HTTP endpoint spans are exported to (else OTEL_EXPORTER_OTLP_ENDPOINT, else none). */
  otlpEndpoint?: string;
}

/** What the command line asks for: run, or print something and exit. */
export type CliRequest = { kind: 'run'; options: CliOptions } | { kind: 'print'; text: string; exitCode: number };

export const HELP = `Usage: event-gateway [flags]
       event-gateway tail [--space <space>] [--event-type <type>] [--json]   (see event-gateway tail --help)

Event Gateway: an API gateway and pub/sub router for serverless functions.

Flags (both --flag=value and --flag value work; -flag is accepted too):
  --dev                     development mode: human-readable logs, open Config API, loopback targets allowed
  --config-port <port>      port of the Config API (default 4001)
  --events-port <port>      port of the Events API (default 4000)
  --host <address>          address both APIs listen on (default 127.0.0.1; 0.0.0.0 for all)
  --embed-data-dir <dir>    where the embedded store keeps its data (default ./event-gateway-data)
  --config-tls-cert <file>  TLS certificate of the Config API (with --config-tls-key)
  --config-tls-key <file>   TLS key of the Config API
  --events-tls-cert <file>  TLS certificate of the Events API (with --events-tls-key)
  --events-tls-key <file>   TLS key of the Events API
  --log-level <level>       debug, info, warn or error (default info)
  --log-format <format>     text or json (default json; text with --dev)
  --workers <n>             async delivery workers (default 64)
  --workers-backlog <n>     memory delivery: deliveries waiting for a worker before events are dropped (default 10000)
  --events-body-limit <n>   largest accepted event body, in bytes (default 1048576)
  --delivery <mode>         durable (default): async deliveries are stored before the 202, retried
                            with backoff and dead-lettered; memory: the original's in-memory queue
                            (a full backlog or a crash loses events)
  --retry-max-attempts <n>  default attempts per async delivery (default 30; subscriptions may set their own)
  --retry-max-age <s>       default seconds an async delivery is retried for (default 86400)
  --config-body-limit <n>   largest accepted Config API body, in bytes (default 1048576)
  --max-header-size <n>     largest request head of both APIs, in bytes (default 16384; beyond: 431)
  --max-records-per-space <n>  most event types, functions, subscriptions or CORS configs per space (default 1000)
  --target-timeout <ms>     time allowed for each call to a target (default 30000)
  --processes <n|auto>      processes serving the Events API on the same port (default 1; auto: one per
                            available CPU); the first process serves the Config API and restarts crashed ones
  --otlp-endpoint <url>     export OpenTelemetry spans over OTLP/HTTP to this collector, e.g.
                            http://localhost:4318 (also: OTEL_EXPORTER_OTLP_ENDPOINT and the other
                            OTEL_* variables; see README, "Tracing")

Security (see README, "Security"):
  --config-keys-file <file> JSON access keys of the Config API (also: env EVENT_GATEWAY_ACCESS_KEYS);
                            with keys, every Config API call but GET /v1/status needs "Authorization: Bearer <key>"
  --allow-unauthenticated-config
                            without keys, let anyone change the registry (without keys and without --dev
                            the Config API is read-only)
  --allow-target-networks <cidrs>
                            comma-separated networks targets may be in although they are loopback, private,
                            link-local or metadata addresses (e.g. 127.0.0.0/8,10.0.0.0/8); --dev allows loopback
  --allow-private-targets   allow targets in private networks (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7)

A registry and a queue shared by several servers (see README, "Deploy to AWS"):
  --dynamodb-table <name>   keep the registry in this DynamoDB table (shared by several servers)
  --dynamodb-region <r>     region of the table (default: AWS_REGION)
  --dynamodb-endpoint <url> DynamoDB endpoint, e.g. DynamoDB Local
  --sqs-queue-url <url>     deliver async events through this SQS queue instead of in-process
  --sqs-dead-letter-queue-url <url>
                            with --sqs-queue-url: where deliveries out of retries go; the Config API's
                            dead-letter endpoints then list, replay and delete them
  --sqs-endpoint <url>      SQS endpoint, e.g. a local stand-in (default: the queue URL's host)
  --registry-refresh-ms <n> with --dynamodb-table: how often to pick up other servers' changes (default 2000)

Plugins (see README, "Plugins and transforms"):
  --plugin <path|package>   load a plugin module (CommonJS or ES module) reacting to system events;
                            repeatable, plugins run in the order given
  --plugin-timeout <ms>     longest wait for a sync plugin's reaction; a timeout is an error (default 1000)

  --version                 print the version and exit
  --help                    print this help and exit
`;

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

class UsageError extends Error {}

function integer(flag: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

function tlsPair(kind: string, cert: string | undefined, key: string | undefined) {
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) throw new UsageError(`--${kind}-tls-cert and --${kind}-tls-key must be given together`);
  return { cert, key };
}

function targetNetworks(value: string | undefined): string[] {
  const list = (value ?? '').split(',').map((cidr) => cidr.trim()).filter((cidr) => cidr !== '');
  try {
    parseNetworks(list);
  } catch (err) {
    throw new UsageError(`--allow-target-networks: ${(err as Error).message}`);
  }
  return list;
}

function dynamoDbOptions(table: string | undefined, region: string | undefined, endpoint: string | undefined) {
  if (table === undefined) {
    if (region !== undefined || endpoint !== undefined) throw new UsageError('--dynamodb-region and --dynamodb-endpoint need --dynamodb-table');
    return {};
  }
  return { dynamodb: { table, ...(region ? { region } : {}), ...(endpoint ? { endpoint } : {}) } };
}

function sqsOptions(queueUrl: string | undefined, deadLetterQueueUrl: string | undefined, endpoint: string | undefined) {
  if (queueUrl === undefined) {
    if (deadLetterQueueUrl !== undefined || endpoint !== undefined) throw new UsageError('--sqs-dead-letter-queue-url and --sqs-endpoint need --sqs-queue-url');
    return {};
  }
  return { sqsQueueUrl: queueUrl, ...(deadLetterQueueUrl ? { sqsDeadLetterQueueUrl: deadLetterQueueUrl } : {}), ...(endpoint ? { sqsEndpoint: endpoint } : {}) };
}

function otlpEndpoint(value: string | undefined) {
  if (value === undefined) return {};
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--otlp-endpoint must be an http(s) URL, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--otlp-endpoint must be an http(s) URL, got "${value}"`);
  return { otlpEndpoint: value };
}

/** Go's flag package accepts `-flag`; rewrite it as `--flag` for parseArgs. */
function normaliseDashes(args: string[]): string[] {
  return args
    .map((arg) => (/^-[a-z][a-z-]+/.test(arg) ? `-${arg}` : arg))
    .flatMap((arg) => {
      // Go's flag package also takes `--dev=true` / `--dev=false` for boolean flags.
      const match = /^--([a-z-]+)=(true|false)$/.exec(arg);
      if (!match || !BOOLEAN_FLAGS.has(match[1] as string)) return [arg];
      return match[2] === 'true' ? [`--${match[1]}`] : [];
    });
}

const BOOLEAN_FLAGS = new Set(['dev', 'version', 'help', 'allow-unauthenticated-config', 'allow-private-targets']);

/** Parses the command line; never exits itself. */
export function parseCommandLine(args: string[], version: string): CliRequest {
  try {
    const { values } = parseArgs({
      args: normaliseDashes(args),
      strict: true,
      allowPositionals: false,
      options: {
        dev: { type: 'boolean', default: false },
        'config-port': { type: 'string' },
        'events-port': { type: 'string' },
        host: { type: 'string' },
        'embed-data-dir': { type: 'string' },
        'config-tls-cert': { type: 'string' },
        'config-tls-key': { type: 'string' },
        'events-tls-cert': { type: 'string' },
        'events-tls-key': { type: 'string' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
        workers: { type: 'string' },
        'workers-backlog': { type: 'string' },
        'events-body-limit': { type: 'string' },
        delivery: { type: 'string' },
        'retry-max-attempts': { type: 'string' },
        'retry-max-age': { type: 'string' },
        'config-body-limit': { type: 'string' },
        'max-header-size': { type: 'string' },
        'max-records-per-space': { type: 'string' },
        'target-timeout': { type: 'string' },
        'config-keys-file': { type: 'string' },
        'allow-unauthenticated-config': { type: 'boolean', default: false },
        'allow-target-networks': { type: 'string' },
        'allow-private-targets': { type: 'boolean', default: false },
        'dynamodb-table': { type: 'string' },
        'dynamodb-region': { type: 'string' },
        'dynamodb-endpoint': { type: 'string' },
        'sqs-queue-url': { type: 'string' },
        'sqs-dead-letter-queue-url': { type: 'string' },
        'sqs-endpoint': { type: 'string' },
        'registry-refresh-ms': { type: 'string' },
        plugin: { type: 'string', multiple: true },
        'plugin-timeout': { type: 'string' },
        processes: { type: 'string' },
        'otlp-endpoint': { type: 'string' },
        version: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
    if (values.help) return { kind: 'print', text: HELP, exitCode: 0 };
    if (values.version) return { kind: 'print', text: `event-gateway ${version}\n`, exitCode: 0 };
    const logLevel = values['log-level'] ?? 'info';
    if (!LEVELS.includes(logLevel)) throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}`);
    const logFormat = values['log-format'] ?? (values.dev ? 'text' : 'json');
    if (logFormat !== 'text' && logFormat !== 'json') throw new UsageError('--log-format must be text or json');
    const delivery = values.delivery ?? 'durable';
    if (delivery !== 'durable' && delivery !== 'memory') throw new UsageError('--delivery must be durable or memory');
    return {
      kind: 'run',
      options: {
        dev: values.dev ?? false,
        configPort: integer('config-port', values['config-port'], 4001, 0, 65535),
        eventsPort: integer('events-port', values['events-port'], 4000, 0, 65535),
        host: values.host ?? '127.0.0.1',
        embedDataDir: resolve(values['embed-data-dir'] ?? 'event-gateway-data'),
        configTls: tlsPair('config', values['config-tls-cert'], values['config-tls-key']),
        eventsTls: tlsPair('events', values['events-tls-cert'], values['events-tls-key']),
        logLevel,
        logFormat,
        workers: integer('workers', values.workers, 64, 1, 10_000),
        workersBacklog: integer('workers-backlog', values['workers-backlog'], 10_000, 1, 10_000_000),
        eventsBodyLimit: integer('events-body-limit', values['events-body-limit'], 1024 * 1024, 1, 1024 * 1024 * 1024),
        delivery,
        retryMaxAttempts: integer('retry-max-attempts', values['retry-max-attempts'], 30, 1, 1000),
        retryMaxAgeSeconds: integer('retry-max-age', values['retry-max-age'], 86_400, 1, 7 * 86_400),
        configBodyLimit: integer('config-body-limit', values['config-body-limit'], 1024 * 1024, 1, 1024 * 1024 * 1024),
        maxHeaderSize: integer('max-header-size', values['max-header-size'], 16 * 1024, 1024, 1024 * 1024),
        maxRecordsPerSpace: integer('max-records-per-space', values['max-records-per-space'], 1000, 1, 10_000_000),
        targetTimeoutMs: integer('target-timeout', values['target-timeout'], 30_000, 1, 3_600_000),
        ...(values['config-keys-file'] ? { configKeysFile: resolve(values['config-keys-file']) } : {}),
        allowUnauthenticatedConfig: values['allow-unauthenticated-config'] ?? false,
        allowTargetNetworks: targetNetworks(values['allow-target-networks']),
        allowPrivateTargets: values['allow-private-targets'] ?? false,
        ...dynamoDbOptions(values['dynamodb-table'], values['dynamodb-region'], values['dynamodb-endpoint']),
        ...sqsOptions(values['sqs-queue-url'], values['sqs-dead-letter-queue-url'], values['sqs-endpoint']),
        registryRefreshMs: integer('registry-refresh-ms', values['registry-refresh-ms'], 2000, 0, 3_600_000),
        plugins: values.plugin ?? [],
        pluginTimeoutMs: integer('plugin-timeout', values['plugin-timeout'], 1000, 1, 600_000),
        processes: values.processes === 'auto' ? availableParallelism() : integer('processes', values.processes, 1, 1, 256),
        ...otlpEndpoint(values['otlp-endpoint']),
      },
    };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { kind: 'print', text: `event-gateway: ${message}\nRun event-gateway --help for the flags.\n`, exitCode: 2 };
  }
}
