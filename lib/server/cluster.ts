import cluster, { type Worker } from 'node:cluster';
import type pino from 'pino';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { ShardDeadLetters, shardFile, strayShards } from '../delivery/shards';
import type { DeadLetters } from '../delivery/queue';
import { ActivityFeed, type Activity, type ActivityListener } from '../gateway/activity';
import { clusterStatus, type GatewayStatus, type WorkerStatus } from '../health';
import type { ConfigAccessOptions } from '../http/config-access';
import type { Logger } from '../logger';
import type { Plugin } from '../plugins/plugin';
import type { Tracing } from '../tracing/tracing';
import { gatewayOptionsOf, openQueue } from './backends';
import type { CliOptions } from './cli';
import { startGateway, type RunningGateway } from './gateway';
import { exitOnSignals } from './signals';

/**
 * `--processes N`: node's cluster. The primary serves the Config API and owns the registry's writes;
 * N workers serve the Events API on one port (the primary hands out connections round-robin) and
 * deliver. Node 20's net.Server has no SO_REUSEPORT option, and cluster also gives the IPC channel the
 * primary needs to relay registry changes, gather metrics and restart workers.
 *
 * - Read-your-writes: each registry change is relayed to every worker, which invalidates its routing
 *   table and acknowledges; the Config API answers a write once every worker acknowledged (at most
 *   ACK_TIMEOUT_MS). A worker also checks the store's version every second, as a backstop.
 * - Live tails: the primary serves them from a feed that tells every worker whether anyone listens and
 *   to which spaces; while someone does, the workers send what they publish to the primary.
 * - Durable delivery: worker `k` owns the delivery database `shardFile(k)`; a restarted worker takes
 *   over its slot's file and resumes what was pending, so a killed worker loses nothing and no
 *   delivery is ever worked on by two live processes.
 */

type ToWorker =
  | { eg: 'registry-changed'; seq: number }
  | { eg: 'wake'; added: number }
  | { eg: 'metrics'; id: number }
  | { eg: 'status'; id: number }
  | { eg: 'activity-interest'; listening: boolean; watched: string[] }
  | { eg: 'drain' };

type ToPrimary =
  | { eg: 'ready'; eventsUrl: string }
  | { eg: 'registry-ack'; seq: number }
  | { eg: 'metrics'; id: number; metrics: MetricObjectWithValues<MetricValue<string>>[] }
  | { eg: 'status'; id: number; status: GatewayStatus }
  | { eg: 'activity'; item: Activity };

const SLOT_ENV = 'EVENT_GATEWAY_WORKER_SLOT';
/** Longest a Config API write waits for the workers' acknowledgements. */
const ACK_TIMEOUT_MS = 2000;
/** Longest a metrics scrape waits for the workers' figures. */
const METRICS_TIMEOUT_MS = 2000;
/** Longest `GET /v1/status` waits for a worker's status; one that does not answer in time counts as degraded. */
const STATUS_TIMEOUT_MS = 1000;
/** A worker that stops earlier than this after its start is restarted after a pause, not at once. */
const CRASH_LOOP_MS = 5000;
/** Longest the primary waits for the workers to drain on shutdown. */
const DRAIN_TIMEOUT_MS = 60_000;

function isMessage<T extends { eg: string }>(message: unknown): message is T {
  return typeof message === 'object' && message !== null && typeof (message as { eg?: unknown }).eg === 'string';
}

/** Runs this process as the cluster's primary or as one of its workers. */
export async function runCluster(options: CliOptions, configAccess: ConfigAccessOptions, logger: pino.Logger, version: string, plugins: readonly Plugin[], tracing?: Tracing): Promise<void> {
  if (cluster.isPrimary) await runPrimary(options, configAccess, logger, version);
  else await runWorker(options, configAccess, logger, plugins, tracing);
}

interface WorkerState {
  slot: number;
  worker: Worker;
  ready: boolean;
  acked: number;
  startedAt: number;
}

/** The primary's activity feed: it has no activity of its own, it tells `onInterest` whenever its tails' interest changes. */
class RelayedFeed extends ActivityFeed {
  onInterest: () => void = () => {};

  override subscribe(listener: ActivityListener): () => void {
    const unsubscribe = super.subscribe(listener);
    this.onInterest();
    return () => {
      unsubscribe();
      this.onInterest();
    };
  }

  override watch(space: string): () => void {
    const unwatch = super.watch(space);
    this.onInterest();
    return () => {
      unwatch();
      this.onInterest();
    };
  }

  interest(): ToWorker {
    return { eg: 'activity-interest', listening: this.listening, watched: [...this.watchedSpaces()] };
  }
}

/** The primary's side: workers, their slots, the relay of registry changes, activity and metrics. */
class Workers {
  private readonly bySlot = new Map<number, WorkerState>();
  private seq = 0;
  private ackWaiters: Array<() => void> = [];
  private metricsId = 0;
  private readonly metricsWaiters = new Map<number, (metrics: MetricObjectWithValues<MetricValue<string>>[]) => void>();
  private statusId = 0;
  private readonly statusWaiters = new Map<number, (status: GatewayStatus) => void>();
  stopping = false;
  private readyWaiter?: { count: number; resolve: (url: string) => void; reject: (err: Error) => void };
  private eventsUrl?: string;

  constructor(
    private readonly count: number,
    private readonly logger: Logger,
    private readonly feed: RelayedFeed,
  ) {
    feed.onInterest = () => {
      const interest = feed.interest();
      for (const state of this.bySlot.values()) this.send(state, interest);
    };
  }

  /** Forks every worker; resolves with the Events API's URL once all of them listen. */
  start(): Promise<string> {
    const ready = new Promise<string>((resolve, reject) => (this.readyWaiter = { count: this.count, resolve, reject }));
    for (let slot = 0; slot < this.count; slot++) this.fork(slot);
    return ready;
  }

  private fork(slot: number): void {
    const worker = cluster.fork({ [SLOT_ENV]: String(slot) });
    const state: WorkerState = { slot, worker, ready: false, acked: 0, startedAt: Date.now() };
    this.bySlot.set(slot, state);
    worker.on('message', (message: unknown) => this.onMessage(state, message));
    worker.on('exit', (code, signal) => this.onExit(state, code, signal));
  }

  private onMessage(state: WorkerState, message: unknown): void {
    if (!isMessage<ToPrimary>(message)) return;
    switch (message.eg) {
      case 'ready':
        state.ready = true;
        state.acked = this.seq;
        // A worker that started during a write may have read the registry before it: tell it.
        this.send(state, { eg: 'registry-changed', seq: this.seq });
        if (this.feed.listening) this.send(state, this.feed.interest());
        this.eventsUrl ??= message.eventsUrl;
        if (this.readyWaiter && --this.readyWaiter.count === 0) this.readyWaiter.resolve(message.eventsUrl);
        return;
      case 'registry-ack':
        state.acked = Math.max(state.acked, message.seq);
        this.checkAcks();
        return;
      case 'metrics':
        this.metricsWaiters.get(message.id)?.(message.metrics);
        return;
      case 'status':
        this.statusWaiters.get(message.id)?.(message.status);
        return;
      case 'activity':
        this.feed.publish(message.item);
        return;
      default: {
        const unhandled: never = message;
        this.logger.warn({ message: unhandled }, 'unknown message from a worker');
      }
    }
  }

  private onExit(state: WorkerState, code: number | null, signal: string | null): void {
    if (this.bySlot.get(state.slot) === state) this.bySlot.delete(state.slot);
    this.checkAcks();
    if (this.readyWaiter && !state.ready) {
      this.readyWaiter.reject(new Error(`worker ${state.slot} exited during start-up (code ${code}, signal ${signal})`));
      this.readyWaiter = undefined;
      return;
    }
    if (this.stopping) return;
    const pause = Date.now() - state.startedAt < CRASH_LOOP_MS ? 1000 : 0;
    this.logger.error({ slot: state.slot, pid: state.worker.process.pid, code, signal }, `worker ${state.slot} exited; restarting it`);
    setTimeout(() => {
      if (!this.stopping) this.fork(state.slot);
    }, pause);
  }

  private send(state: WorkerState, message: ToWorker): void {
    if (state.worker.isConnected()) state.worker.send(message);
  }

  /** Relays a registry change to every worker. */
  changed(): void {
    this.seq++;
    for (const state of this.bySlot.values()) this.send(state, { eg: 'registry-changed', seq: this.seq });
  }

  /** Resolves once every ready worker has acknowledged the latest change, or after ACK_TIMEOUT_MS. */
  async acknowledged(): Promise<void> {
    const target = this.seq;
    const done = () => [...this.bySlot.values()].every((s) => !s.ready || s.acked >= target);
    if (done()) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      const check = () => {
        if (!done()) return false;
        resolve();
        return true;
      };
      const waiter = () => {
        if (check()) this.ackWaiters = this.ackWaiters.filter((w) => w !== waiter);
      };
      this.ackWaiters.push(waiter);
      timer = setTimeout(() => {
        this.ackWaiters = this.ackWaiters.filter((w) => w !== waiter);
        const late = [...this.bySlot.values()].filter((s) => s.ready && s.acked < target).map((s) => s.slot);
        this.logger.warn({ workers: late }, 'workers did not acknowledge a registry change in time; their version check will pick it up');
        resolve();
      }, ACK_TIMEOUT_MS);
    });
    clearTimeout(timer);
  }

  private checkAcks(): void {
    for (const waiter of [...this.ackWaiters]) waiter();
  }

  /** Tells worker `slot` that a replay put `added` deliveries back in its file. */
  wake(slot: number, added: number): void {
    const state = this.bySlot.get(slot);
    // A worker that is not running resumes its file when it is restarted.
    if (state) this.send(state, { eg: 'wake', added });
  }

  /** The metrics of every running worker (those that answer in time). */
  async metrics(): Promise<Array<MetricObjectWithValues<MetricValue<string>>[]>> {
    const running = [...this.bySlot.values()].filter((s) => s.ready && s.worker.isConnected());
    return Promise.all(
      running.map(
        (state) =>
          new Promise<MetricObjectWithValues<MetricValue<string>>[]>((resolve) => {
            const id = ++this.metricsId;
            const timer = setTimeout(() => {
              this.metricsWaiters.delete(id);
              this.logger.warn({ slot: state.slot }, 'worker did not report its metrics in time');
              resolve([]);
            }, METRICS_TIMEOUT_MS);
            this.metricsWaiters.set(id, (metrics) => {
              clearTimeout(timer);
              this.metricsWaiters.delete(id);
              resolve(metrics);
            });
            this.send(state, { eg: 'metrics', id });
          }),
      ),
    );
  }

  /** The status of each slot's worker, by slot: undefined for a slot without a ready worker or one that does not answer in time. */
  async statuses(): Promise<WorkerStatus[]> {
    const slots = Array.from({ length: this.count }, (_, slot) => this.bySlot.get(slot));
    return Promise.all(slots.map((state) => (state?.ready && state.worker.isConnected() ? this.askStatus(state) : undefined)));
  }

  private askStatus(state: WorkerState): Promise<WorkerStatus> {
    return new Promise((resolve) => {
      const id = ++this.statusId;
      const timer = setTimeout(() => {
        this.statusWaiters.delete(id);
        this.logger.warn({ slot: state.slot }, 'worker did not report its status in time');
        resolve(undefined);
      }, STATUS_TIMEOUT_MS);
      this.statusWaiters.set(id, (status) => {
        clearTimeout(timer);
        this.statusWaiters.delete(id);
        resolve(status);
      });
      this.send(state, { eg: 'status', id });
    });
  }

  /** Asks every worker to drain and resolves once all exited (killing those still there at the deadline). */
  async drain(): Promise<void> {
    this.stopping = true;
    const states = [...this.bySlot.values()];
    const exits = states.map((s) => (s.worker.isDead() ? Promise.resolve() : new Promise<void>((resolve) => s.worker.once('exit', () => resolve()))));
    for (const state of states) this.send(state, { eg: 'drain' });
    const deadline = setTimeout(() => {
      for (const state of states) if (!state.worker.isDead()) state.worker.process.kill('SIGKILL');
    }, DRAIN_TIMEOUT_MS);
    await Promise.all(exits);
    clearTimeout(deadline);
  }

  /** Stops every worker at once (a second signal). */
  kill(): void {
    this.stopping = true;
    for (const state of this.bySlot.values()) state.worker.process.kill('SIGKILL');
  }
}

async function runPrimary(options: CliOptions, configAccess: ConfigAccessOptions, logger: pino.Logger, version: string): Promise<void> {
  const count = options.processes;
  const feed = new RelayedFeed();
  const workers = new Workers(count, logger, feed);
  let shards: ShardDeadLetters | undefined;
  let deadLetters: DeadLetters | undefined;
  if (options.sqsQueueUrl) {
    // The primary only answers the dead-letter endpoints; the workers poll the queue.
    deadLetters = openQueue(options, logger)?.deadLetters;
  } else if (options.delivery === 'durable') {
    shards = new ShardDeadLetters(options.embedDataDir, count, logger, (slot, added) => workers.wake(slot, added));
    deadLetters = shards;
    const stray = strayShards(options.embedDataDir, count);
    if (stray.length > 0) logger.warn({ files: stray }, `delivery files of a larger cluster are left in the data directory; start with at least that many --processes to deliver what they hold`);
  }
  const base = gatewayOptionsOf(options, configAccess, logger, undefined);
  const gateway = await startGateway({
    ...base,
    role: 'config',
    activity: feed,
    ...(deadLetters ? { deadLetters } : {}),
    afterConfigWrite: () => workers.acknowledged(),
    aggregateMetrics: async (own) => {
      const registry = AggregatorRegistry.aggregate([own, ...(await workers.metrics())]);
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    aggregateStatus: async (own) => clusterStatus(own, await workers.statuses()),
  });
  gateway.onRegistryChange(() => workers.changed());
  let eventsUrl: string;
  try {
    eventsUrl = await workers.start();
  } catch (err) {
    workers.kill();
    await gateway.close();
    throw err;
  }
  logger.info(
    { events: eventsUrl, config: gateway.configUrl, dataDir: options.embedDataDir, delivery: options.sqsQueueUrl ? 'sqs' : options.delivery, dev: options.dev, processes: count },
    `Event Gateway ${version} started: Events API ${eventsUrl} (${count} processes), Config API ${gateway.configUrl}`,
  );
  if (options.dev) logger.warn({ dev: true }, 'development mode: targets on loopback addresses (127.0.0.0/8, ::1) are allowed');

  exitOnSignals(logger, {
    message: 'stopping: draining in-flight requests and queued deliveries of every process',
    close: async () => {
      workers.stopping = true;
      await Promise.all([workers.drain(), gateway.close()]);
      await shards?.close();
    },
    onSecondSignal: () => workers.kill(),
  });
}

async function runWorker(options: CliOptions, configAccess: ConfigAccessOptions, logger: pino.Logger, plugins: readonly Plugin[], tracing?: Tracing): Promise<void> {
  const slot = Number(process.env[SLOT_ENV] ?? 0);
  const workerLogger = logger.child({ worker: slot });
  const sqs = openQueue(options, workerLogger);
  const base = gatewayOptionsOf(options, configAccess, workerLogger, sqs, { deliveriesFile: shardFile(slot), plugins, ...(tracing ? { tracing } : {}) });
  const gateway: RunningGateway = await startGateway({
    ...base,
    role: 'events',
    // A backstop for a change notice that did not arrive in time: a cheap version read each second.
    registryRefreshMs: options.dynamodb ? options.registryRefreshMs : 1000,
  });
  const relay = activityRelay(gateway.activity);
  let draining = false;
  const drain = () => {
    if (draining) return;
    draining = true;
    // Spans of the drained work are exported last.
    gateway
      .close()
      .then(() => tracing?.shutdown())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          workerLogger.error({ err }, 'error while stopping');
          process.exit(1);
        },
      );
  };
  process.on('message', (message: unknown) => {
    if (!isMessage<ToWorker>(message)) return;
    switch (message.eg) {
      case 'registry-changed':
        gateway.invalidateRouting();
        process.send?.({ eg: 'registry-ack', seq: message.seq } satisfies ToPrimary);
        return;
      case 'wake':
        gateway.wakeDeliveries(message.added);
        return;
      case 'metrics':
        gateway.metricsJson().then(
          (metrics) => process.send?.({ eg: 'metrics', id: message.id, metrics } satisfies ToPrimary),
          (err: unknown) => workerLogger.warn({ err }, 'could not collect metrics'),
        );
        return;
      case 'status':
        process.send?.({ eg: 'status', id: message.id, status: gateway.status() } satisfies ToPrimary);
        return;
      case 'activity-interest':
        relay(message.listening, message.watched);
        return;
      case 'drain':
        drain();
        return;
      default: {
        const unhandled: never = message;
        workerLogger.warn({ message: unhandled }, 'unknown message from the primary');
      }
    }
  });
  // The primary coordinates shutdown: Ctrl-C reaches every process of the group, the primary drains them.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', drain);
  // The primary is gone (killed): it held the listening socket and relayed changes. Exit at once, so
  // that the deliveries in flight here are not worked on beside the next start's worker of this slot;
  // they are still pending on disk and are delivered again then (at least once).
  process.on('disconnect', () => {
    if (!draining) process.exit(1);
  });
  process.send?.({ eg: 'ready', eventsUrl: gateway.eventsUrl } satisfies ToPrimary);
}

/**
 * A worker's side of the live tail: while the primary's tails listen, forward every item published
 * here, and watch the spaces they watch (so that received events of those spaces are published).
 */
function activityRelay(feed: ActivityFeed): (listening: boolean, watched: string[]) => void {
  let forwarding: (() => void) | undefined;
  const watches = new Map<string, () => void>();
  return (listening, watched) => {
    if (listening && !forwarding) forwarding = feed.subscribe((item) => process.send?.({ eg: 'activity', item } satisfies ToPrimary));
    if (!listening && forwarding) {
      forwarding();
      forwarding = undefined;
    }
    for (const space of watched) if (!watches.has(space)) watches.set(space, feed.watch(space));
    for (const [space, unwatch] of watches) {
      if (watched.includes(space)) continue;
      unwatch();
      watches.delete(space);
    }
  };
}
