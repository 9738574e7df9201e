import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { InProcessQueue } from '../delivery/in-process';
import type { DeliveryQueue } from '../delivery/queue';
import { EventRouter } from '../gateway/router';
import { RoutingCache } from '../gateway/routing-cache';
import { ConfigApi } from '../http/config-api';
import type { Logger } from '../logger';
import { PrometheusMetrics } from '../metrics/prometheus';
import { ProviderCache } from '../providers/cache';
import { createProviderFactories, defaultProviderDeps, type ProviderDeps } from '../providers/index';
import { RegistryService } from '../registry/service';
import type { RegistryStore } from '../registry/store';
import { nodeListener } from './node-adapter';

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
  queue?: DeliveryQueue;
  /** For a store shared with other instances: how often to check it for their changes, in ms. */
  registryRefreshMs?: number;
}

/** A running gateway. */
export interface RunningGateway {
  eventsPort: number;
  configPort: number;
  eventsUrl: string;
  configUrl: string;
  /** Stops accepting, finishes in-flight requests and queued deliveries, closes the store. */
  close(): Promise<void>;
}

const MB = 1024 * 1024;

function createServer(tls: TlsFiles | undefined, listener: ReturnType<typeof nodeListener>): Server {
  const server = tls ? createHttpsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, listener) : createHttpServer(listener);
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

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

/** The composition root of the local server: wires store, registry, routing, delivery and both APIs. */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { store, logger } = options;
  const host = options.host ?? '127.0.0.1';
  const registry = new RegistryService(store);
  const metrics = new PrometheusMetrics(store);
  const providers = new ProviderCache(createProviderFactories(options.providers ?? defaultProviderDeps()));
  const refresh = options.registryRefreshMs;
  const routing = new RoutingCache(store, providers.providerFor, logger, refresh === undefined ? {} : { versionCheckMs: refresh });
  registry.onChange(() => routing.invalidate());
  const queue = options.queue ?? new InProcessQueue({ workers: options.workers, backlog: options.workersBacklog });
  const router = new EventRouter({ routing, queue, metrics, logger });
  queue.start(router.deliver);
  const renderMetrics = () => {
    metrics.setBacklog(queue.backlog());
    return metrics.render();
  };
  const configApi = new ConfigApi({ registry, metrics, logger, renderMetrics });

  const eventsServer = createServer(options.eventsTls, nodeListener((req) => router.handle(req), { bodyLimit: options.eventsBodyLimit ?? MB, logger }));
  const configServer = createServer(options.configTls, nodeListener((req) => configApi.handle(req), { bodyLimit: options.configBodyLimit ?? MB, logger }));
  const eventsPort = await listen(eventsServer, options.eventsPort, host);
  const configPort = await listen(configServer, options.configPort, host);
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
        await Promise.all([closeServer(eventsServer), closeServer(configServer)]);
        await queue.drain();
        await store.close();
      })()),
  };
}
