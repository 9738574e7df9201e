import { reasonOf } from './errors';
import type { Logger } from './logger';

/** A dependency's state: available, or not since `since` (epoch ms) for the reason of its last failure. */
export type DependencyState = { available: true } | { available: false; reason: string; since: number };

/** Backoff of the background retries: the first after `baseMs`, doubling, at most `capMs` apart. */
export interface HealthBackoff {
  baseMs: number;
  capMs: number;
}

export interface DependencyHealthOptions {
  /** What the dependency is, in status answers and logs: `registry`, `queue`. */
  name: string;
  logger: Logger;
  /**
   * Tried in the background, with backoff, while the dependency is unavailable; resolving means it
   * works again. Without one, the next real use is let through after the backoff (as a circuit
   * breaker's half-open state), so that a gateway nobody sends to can still become ready again.
   */
  probe?: () => Promise<void>;
  backoff?: HealthBackoff;
  /** Words for the log lines, e.g. `DynamoDB table "registry" (endpoint …, region …)`. */
  description?: string;
}

const DEFAULT_BACKOFF: HealthBackoff = { baseMs: 250, capMs: 10_000 };

/**
 * What the gateway knows of one dependency: every use reports success or failure here, and while it
 * is unavailable a background probe retries it with backoff until it recovers. Read by the status
 * endpoint; listeners hear of a recovery (the routing cache then rebuilds its table).
 */
export class DependencyHealth {
  private state: DependencyState = { available: true };
  private timer?: NodeJS.Timeout;
  private attempts = 0;
  private closed = false;
  private readonly listeners: Array<() => void> = [];
  private readonly backoff: HealthBackoff;

  constructor(private readonly options: DependencyHealthOptions) {
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  get name(): string {
    return this.options.name;
  }

  get current(): DependencyState {
    return this.state;
  }

  /** `ok`, or `unavailable: <reason>` as the status endpoint shows it. */
  describe(): string {
    return this.state.available ? 'ok' : `unavailable: ${this.state.reason}`;
  }

  /** A use of the dependency worked. */
  succeeded(): void {
    if (this.state.available) {
      this.attempts = 0;
      return;
    }
    const downForMs = Date.now() - this.state.since;
    this.state = { available: true };
    this.attempts = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.options.logger.info({ dependency: this.name, downForMs }, `${this.label()} available again`);
    for (const listener of this.listeners) listener();
  }

  /** A use of the dependency failed because of the dependency. */
  failed(err: unknown): void {
    const reason = reasonOf(err);
    if (this.state.available) {
      this.state = { available: false, reason, since: Date.now() };
      this.options.logger.error({ dependency: this.name, reason }, `${this.label()} unavailable: ${reason}; retrying in the background`);
    } else {
      this.state = { ...this.state, reason };
    }
    this.scheduleRetry();
  }

  /** Called after every recovery. */
  onRecovered(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Stops the background retries (the gateway is stopping). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private label(): string {
    return this.options.description ?? this.name;
  }

  private scheduleRetry(): void {
    if (this.closed || this.timer) return;
    const delay = Math.min(this.backoff.capMs, this.backoff.baseMs * 2 ** this.attempts);
    this.attempts++;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.retry();
    }, delay);
    // A retry never keeps the process alive on its own.
    this.timer.unref();
  }

  private retry(): void {
    const probe = this.options.probe;
    if (!probe) {
      // Nothing to probe with: let the next use find out (a failure brings the state back, with a longer wait).
      this.state = { available: true };
      this.options.logger.info({ dependency: this.name }, `letting the next use try ${this.label()} again`);
      return;
    }
    probe().then(
      () => this.succeeded(),
      (err: unknown) => this.failed(err),
    );
  }
}

/** What `GET /v1/status` says: a plain object, so that the status of several processes can be combined. */
export interface GatewayStatus {
  status: 'ok' | 'degraded';
  registry?: string;
  queue?: string;
  /** With `--processes N`: how many workers did not answer the primary's status request. */
  workers?: string;
}

/** The gateway's status from its dependencies' health: `ok`, or `degraded` naming each unavailable one. */
export function gatewayStatus(dependencies: { registry?: DependencyHealth; queue?: DependencyHealth }): GatewayStatus {
  const status: GatewayStatus = { status: 'ok' };
  for (const key of ['registry', 'queue'] as const) {
    const health = dependencies[key];
    if (!health || health.current.available) continue;
    status.status = 'degraded';
    status[key] = health.describe();
  }
  return status;
}

/** A worker's answer to the primary's status request: its status, or undefined when it did not answer (or its slot has no live worker). */
export type WorkerStatus = GatewayStatus | undefined;

/**
 * The status of a cluster: degraded if the primary or any worker is, each reason naming the processes
 * it comes from (the same reason from several processes is given once), and `workers` counting those
 * that did not answer.
 */
export function clusterStatus(primary: GatewayStatus, workers: readonly WorkerStatus[]): GatewayStatus {
  const processes: Array<[string, GatewayStatus]> = [['primary', primary], ...workers.flatMap((s, slot): Array<[string, GatewayStatus]> => (s ? [[`worker ${slot}`, s]] : []))];
  const status: GatewayStatus = { status: 'ok' };
  for (const key of ['registry', 'queue'] as const) {
    const byReason = new Map<string, string[]>();
    for (const [name, s] of processes) {
      const reason = s[key];
      if (reason !== undefined) byReason.set(reason, [...(byReason.get(reason) ?? []), name]);
    }
    if (byReason.size === 0) continue;
    status.status = 'degraded';
    status[key] = [...byReason].map(([reason, names]) => `${reason} (${names.join(', ')})`).join('; ');
  }
  const silent = workers.filter((s) => s === undefined).length;
  if (silent > 0) {
    status.status = 'degraded';
    status.workers = `${silent} of ${workers.length} not answering`;
  }
  return status;
}
