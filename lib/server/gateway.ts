import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import { InProcessQueue } from '../delivery/in-process';
import type { DeadLetters, DeliveryQueue, RetryPolicy } from '../delivery/queue';
import type { Backoff } from '../delivery/retry';
import { DurableQueue, type DurableQueueOptions } from '../delivery/sqlite';
import { TrackedQueue } from '../delivery/tracked-queue';
import { ActivityFeed, announcedDeliveries } from '../gateway/activity';
import { EventRouter } from '../gateway/router';
import { PluginHost } from '../plugins/host';
import type { Plugin } from '../plugins/plugin';
import { RoutingCache } from '../gateway/routing-cache';
import { DependencyHealth, gatewayStatus, type GatewayStatus, type HealthBackoff } from '../health';
import { ConfigApi } from '../http/config-api';
import { consoleDirectory } from '../http/console';
import { ConfigAccess, withConfigAccess, type ConfigAccessOptions } from '../http/config-access';
import type { Logger } from '../logger';
import { PrometheusMetrics } from '../metrics/prometheus';
import { ProviderCache } from '../providers/cache';
import { allProviderFactories, defaultProviderDeps, type ProviderDeps } from '../providers/index';
import type { TargetNetworkPolicy } from '../providers/target-network';
import { RegistryService } from '../registry/service';
import type { RegistryStore } from '../registry/store';
import { TrackedStore } from '../registry/tracked-store';
import type { Tracing } from '../tracing/tracing';
import { answerClientErrors } from './client-errors';
import { nodeListener } from './node-adapter';
import { LiveTails } from './tail';

/** TLS files of one API. */
export interface TlsFiles {
  cert: string;
  key: string;
}

/** Everything the local gateway needs to start. */
export interface GatewayOptions {
  store: RegistryStore;
  logger: Logger;
  host?: string;
  eventsPort: number;
  configPort: number;
  workers: number;
  workersBacklog: number;
  eventsBodyLimit?: number;
  configBodyLimit?: number;
  eventsTls?: TlsFiles;
  configTls?: TlsFiles;
  providers?: ProviderDeps;
  /** How async deliveries are kept: durable on disk (at least once), in memory (the original's mode) or a given queue (SQS). */
  delivery?: DeliveryOptions;
  /** Who may use the Config API; by default nobody may write (no keys, read-only). */
  configAccess?: ConfigAccessOptions;
  /** Which addresses targets may have; by default public addresses only. Ignored when `providers` is given. */
  targetNetworks?: TargetNetworkPolicy;
  /** Time allowed for each call to a target, in milliseconds (default 30 s). Ignored when `providers` is given. */
  targetTimeoutMs?: number;
  /** Largest request head (request line and headers) of both APIs, in bytes (default 16 KB). */
  maxHeaderSize?: number;
  /** Most records of each kind (functions, subscriptions, …) in one space (default 1000). */
  maxRecordsPerSpace?: number;
  /** For a store shared with other instances: how often to check it for their changes, in ms. */
  registryRefreshMs?: number;
  /** Live tails: most open at once (default 32) and bytes a slow client may leave unread before it is dropped (default 1 MB). */
  tail?: { maxTails?: number; maxBufferedBytes?: number };
  /** Plugins reacting to system events, in order (`--plugin`), and the longest wait for a sync one (default 1000 ms). */
  plugins?: readonly Plugin[];
  pluginTimeoutMs?: number;
  /**
   * Which APIs this process serves: both (the default), or one of them in a cluster (`--processes`):
   * workers serve the Events API and deliver, the primary serves the Config API.
   */
  role?: 'all' | 'events' | 'config';
  /** Config role: the dead letters of every worker's queue (the queue itself runs in the workers). */
  deadLetters?: DeadLetters;
  /** Config role: awaited after a Config API request changed the registry, before it is answered. */
  afterConfigWrite?: () => Promise<void>;
  /** Config role: the metrics of every process, given this process's own as JSON. */
  aggregateMetrics?: (own: MetricObjectWithValues<MetricValue<string>>[]) => Promise<{ contentType: string; body: string }>;
  /** Config role: the status of every process, given this process's own. */
  aggregateStatus?: (own: GatewayStatus) => Promise<GatewayStatus>;
  /** The activity feed the live tails read (a cluster's primary passes one that relays its workers'). */
  activity?: ActivityFeed;
  /** Names the registry store in logs when it is unavailable, e.g. `DynamoDB table "registry" (…)`. */
  registryDescription?: string;
  /** Backoff of the background retries of an unavailable registry or queue (default 250 ms doubling to 10 s). */
  healthBackoff?: HealthBackoff;
  /** Spans through an OpenTelemetry SDK (the caller's to shut down); without it trace context is only passed on. */
  tracing?: Tracing;
}

/** Durable delivery keeps deliveries in `dataDir` and retries them; memory delivery drops them on a crash or a full backlog. */
export type DeliveryOptions =
  | {
      mode: 'durable';
      dataDir: string;
      defaultRetry?: RetryPolicy;
      backoff?: Backoff;
      file?: string;
      onOpen?: DurableQueueOptions['onOpen'];
      circuitBreaker?: DurableQueueOptions['circuitBreaker'];
    }
  | { mode: 'memory' }
  | { mode: 'queue'; queue: DeliveryQueue; deadLetters?: DeadLetters };

/** A running gateway. */
export interface RunningGateway {
  eventsPort: number;
  configPort: number;
  eventsUrl: string;
  configUrl: string;
  /** Stops accepting, finishes in-flight requests and queued deliveries, closes the store. */
  close(): Promise<void>;
  /** Marks the routing table stale: another process changed the registry. */
  invalidateRouting(): void;
  /** Looks for deliveries put back on disk by another process (a dead-letter replay of `added` deliveries). */
  wakeDeliveries(added: number): void;
  /** Hears of every change the Config API makes to the registry. */
  onRegistryChange(listener: () => void): void;
  /** This process's metrics, for a cluster's aggregation. */
  metricsJson(): Promise<MetricObjectWithValues<MetricValue<string>>[]>;
  /** This process's own status (what a cluster's primary gathers from its workers). */
  status(): GatewayStatus;
  /** What happens here, for the live tails (a cluster's worker relays it to the primary). */
  activity: ActivityFeed;
}

const MB = 1024 * 1024;

function createServer(tls: TlsFiles | undefined, listener: ReturnType<typeof nodeListener>, maxHeaderSize: number): Server {
  const server = tls
    ? createHttpsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key), maxHeaderSize }, listener)
    : createHttpServer({ maxHeaderSize }, listener);
  answerClientErrors(server);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 120_000;
  return server;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** How long in-flight requests may take once the gateway is stopping; then their connections are cut. */
const DRAIN_DEADLINE_MS = 30_000;

/**
 * Stops accepting connections and resolves once the open ones are gone. A keep-alive connection busy
 * when this starts becomes idle later, so idle ones are closed again every 100 ms rather than left to
 * their 65 s keep-alive timeout; whatever is still open at the deadline is cut.
 */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    const deadline = setTimeout(() => server.closeAllConnections(), DRAIN_DEADLINE_MS);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(deadline);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** Says at start-up when the Config API is not protected by keys. */
function warnAboutAccess(access: ConfigAccess, options: ConfigAccessOptions | undefined, logger: Logger): void {
  if (access.enforced) return;
  if (options?.withoutKeys === 'open') {
    logger.warn({ configAccess: 'open' }, 'Config API is OPEN: no access keys are configured, anyone who can reach it can change the registry');
  } else {
    logger.warn({ configAccess: 'read-only' }, 'Config API is READ-ONLY: no access keys are configured (--config-keys-file), so every change is refused');
  }
}

/** The composition root of the local server: wires store, registry, routing, delivery and both APIs. */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { logger } = options;
  const role = options.role ?? 'all';
  const host = options.host ?? '127.0.0.1';
  const backoff = options.healthBackoff ? { backoff: options.healthBackoff } : {};
  const registryHealth = new DependencyHealth({
    name: 'registry',
    logger,
    probe: async () => {
      await options.store.version();
    },
    ...(options.registryDescription ? { description: options.registryDescription } : {}),
    ...backoff,
  });
  // Every use of the store goes through this: a failure is a 503 and marks the registry unavailable.
  const store = new TrackedStore(options.store, registryHealth);
  const metrics = new PrometheusMetrics(store);
  const headerLimit = options.maxHeaderSize ?? 16 * 1024;
  const activity = options.activity ?? new ActivityFeed();
  const events = role === 'config' ? undefined : startEvents(options, store, metrics, activity);
  const registry = new RegistryService(store, { maxRecordsPerSpace: options.maxRecordsPerSpace ?? 1000 });
  if (events) {
    registry.onChange(() => events.routing.invalidate());
    // Back from an outage: rebuild the table (others may have changed the registry meanwhile), without waiting for an event.
    registryHealth.onRecovered(() => {
      events.routing.invalidate();
      void events.routing.warm();
    });
  }
  const status = () => gatewayStatus({ registry: registryHealth, ...(events ? { queue: events.queueHealth } : {}) });
  const access = new ConfigAccess(options.configAccess ?? { keys: [], withoutKeys: 'read-only' });
  const tails = role === 'events' ? undefined : new LiveTails({ feed: activity, access, logger, ...options.tail });

  const eventsServer = events ? createServer(options.eventsTls, nodeListener((req) => events.router.handle(req), { bodyLimit: options.eventsBodyLimit ?? MB, logger }), headerLimit) : undefined;
  let configServer: Server | undefined;
  if (tails) {
    warnAboutAccess(access, options.configAccess, logger);
    const configListener = nodeListener(configHandler(options, access, registry, metrics, events, status), { bodyLimit: options.configBodyLimit ?? MB, logger });
    configServer = createServer(
      options.configTls,
      (req, res) => {
        if (!tails.handles(req, res)) configListener(req, res);
      },
      headerLimit,
    );
  }
  const eventsPort = eventsServer ? await listen(eventsServer, options.eventsPort, host) : options.eventsPort;
  const configPort = configServer ? await listen(configServer, options.configPort, host) : options.configPort;
  // Load the routing table now rather than on the first event; a registry that cannot be read is
  // logged (naming it) and retried in the background while the gateway serves degraded.
  if (events) void events.routing.warm();
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const scheme = (tls?: TlsFiles) => (tls ? 'https' : 'http');

  let closing: Promise<void> | undefined;
  return {
    eventsPort,
    configPort,
    eventsUrl: `${scheme(options.eventsTls)}://${urlHost}:${eventsPort}`,
    configUrl: `${scheme(options.configTls)}://${urlHost}:${configPort}`,
    close: () =>
      (closing ??= (async () => {
        tails?.closeAll();
        await Promise.all([eventsServer && closeServer(eventsServer), configServer && closeServer(configServer)]);
        if (events) {
          await events.queue.drain();
          // Deps given by the caller are the caller's to close.
          if (!options.providers) await events.providerDeps.close();
        }
        await store.close();
      })()),
    invalidateRouting: () => events?.routing.invalidate(),
    wakeDeliveries: (added) => events?.durable?.wake(added),
    onRegistryChange: (listener) => registry.onChange(listener),
    activity,
    status,
    metricsJson: async () => {
      if (events) metrics.setBacklog(events.queue.backlog());
      return metrics.registry.getMetricsAsJSON();
    },
  };
}

/** The Events API's side: providers, routing table, delivery queue and router. */
function startEvents(options: GatewayOptions, store: RegistryStore, metrics: PrometheusMetrics, activity: ActivityFeed) {
  const { logger } = options;
  const providerDeps = options.providers ?? defaultProviderDeps({ targetNetworks: options.targetNetworks ?? {}, timeoutMs: options.targetTimeoutMs ?? 30_000 });
  const providers = new ProviderCache(allProviderFactories(providerDeps));
  const refresh = options.registryRefreshMs;
  const routing = new RoutingCache(store, providers.providerFor, logger, refresh === undefined ? {} : { versionCheckMs: refresh });
  const delivery = options.delivery ?? { mode: 'memory' };
  const durable =
    delivery.mode === 'durable'
      ? new DurableQueue({
          dataDir: delivery.dataDir,
          ...(delivery.file ? { file: delivery.file } : {}),
          workers: options.workers,
          logger,
          metrics,
          defaultRetry: delivery.defaultRetry,
          backoff: delivery.backoff,
          ...(delivery.onOpen ? { onOpen: delivery.onOpen } : {}),
          ...(delivery.circuitBreaker !== undefined ? { circuitBreaker: delivery.circuitBreaker } : {}),
          onDeadLettered: (d, attempts, error) => {
            if (!activity.listening) return;
            const { space, eventType, eventId, functionId, subscriptionId, deliveryId } = d;
            activity.publish({ kind: 'delivery.deadlettered', space, time: new Date().toISOString(), eventType, eventId, functionId, subscriptionId, deliveryId, attempt: attempts, error });
          },
        })
      : undefined;
  const backoff = options.healthBackoff ? { backoff: options.healthBackoff } : {};
  const queueHealth = new DependencyHealth({ name: 'queue', logger, ...(durable ? { probe: () => durable.probe() } : {}), ...backoff });
  // A refused enqueue is a 503 and marks the queue unavailable (see TrackedQueue).
  const queue: DeliveryQueue = new TrackedQueue(
    durable ?? (delivery.mode === 'queue' ? delivery.queue : new InProcessQueue({ workers: options.workers, backlog: options.workersBacklog })),
    queueHealth,
  );
  const deadLetters = durable ?? (delivery.mode === 'queue' ? delivery.deadLetters : undefined);
  const plugins = options.plugins?.length ? new PluginHost(options.plugins, { timeoutMs: options.pluginTimeoutMs ?? 1000, logger, metrics }) : undefined;
  const router = new EventRouter({ routing, queue, metrics, logger, activity, ...(plugins ? { plugins } : {}), ...(options.tracing ? { tracing: options.tracing } : {}) });
  // SQS's consumer has its own breakers: their state shows in the same gauge as the durable queue's.
  if (delivery.mode === 'queue') delivery.queue.reportCircuits?.((space, functionId, state) => metrics.circuitChanged(space, functionId, state));
  queue.start(announcedDeliveries(router.deliver, activity));
  return { providerDeps, routing, durable, queue, queueHealth, deadLetters, router };
}

/** The Config API's handler, behind its access keys; with `afterConfigWrite`, a write is answered once it ran. */
function configHandler(
  options: GatewayOptions,
  access: ConfigAccess,
  registry: RegistryService,
  metrics: PrometheusMetrics,
  events: ReturnType<typeof startEvents> | undefined,
  ownStatus: () => GatewayStatus,
) {
  const { logger } = options;
  const ownMetrics = () => {
    if (events) metrics.setBacklog(events.queue.backlog());
    return metrics.render();
  };
  const aggregate = options.aggregateMetrics;
  const aggregateStatus = options.aggregateStatus;
  const status = aggregateStatus ? () => aggregateStatus(ownStatus()) : ownStatus;
  const renderMetrics = aggregate ? async () => aggregate(await metrics.registry.getMetricsAsJSON()) : ownMetrics;
  const deadLetters = options.deadLetters ?? events?.deadLetters;
  // dist/console beside dist/lib when installed; the repository's dist/console when run from the sources (tests).
  const consoleFiles = consoleDirectory([join(__dirname, '..', '..', 'console'), join(__dirname, '..', '..', 'dist', 'console')]);
  const configApi = new ConfigApi({ registry, metrics, logger, renderMetrics, status, console: consoleFiles, ...(deadLetters ? { deadLetters } : {}) });
  const afterWrite = options.afterConfigWrite;
  if (!afterWrite) return withConfigAccess((req) => configApi.handle(req), access);
  let changes = 0;
  registry.onChange(() => changes++);
  return withConfigAccess(async (req) => {
    const before = changes;
    const response = await configApi.handle(req);
    if (changes !== before) await afterWrite();
    return response;
  }, access);
}
