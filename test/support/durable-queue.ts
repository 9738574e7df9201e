import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { CircuitState } from '../../lib/delivery/circuit-breaker';
import type { Delivery } from '../../lib/delivery/queue';
import { DurableQueue, type DurableQueueOptions } from '../../lib/delivery/sqlite';
import { silentLogger } from '../../lib/logger';
import { tempDir } from './gateway';

/** Helpers of the durable queue's unit tests: deliveries, a queue that records what it reports, its rows on disk. */

export const delivery = (id: string, functionId = 'fn'): Delivery => ({
  deliveryId: id,
  space: 'space1',
  subscriptionId: 'sub',
  functionId,
  eventType: 'job',
  eventId: `event-${id}`,
  payload: JSON.stringify({ eventID: `event-${id}` }),
});

export interface DiskRow {
  id: string;
  attempts: number;
  accepted_at: number;
  next_at: number;
  state: string;
  last_error: string | null;
  dead_at: number | null;
  retry: string | null;
  traceparent: string | null;
  tracestate: string | null;
}

const dirs: string[] = [];

/** Removes the directories of the queues made so far (call it in afterAll). */
export function removeQueueDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A fresh directory, removed by removeQueueDirs. */
export function queueDir(): string {
  const dir = tempDir('eg-queue-');
  dirs.push(dir);
  return dir;
}

/** A queue in a fresh directory (or the one given) that records its metrics, log lines and circuit changes. */
export function recorded(options: Partial<DurableQueueOptions> = {}) {
  const dir = options.dataDir ?? queueDir();
  const log: Array<[string, object, string | undefined]> = [];
  const circuits: string[] = [];
  const metrics = { retried: [] as string[], dead: [] as string[], latencies: [] as number[] };
  const onCircuit: Array<(state: CircuitState) => void> = [];
  const queue = new DurableQueue({
    dataDir: dir,
    workers: 1,
    logger: {
      ...silentLogger,
      info: (obj: object, msg?: string) => log.push(['info', obj, msg]),
      warn: (obj: object, msg?: string) => log.push(['warn', obj, msg]),
      error: (obj: object, msg?: string) => log.push(['error', obj, msg]),
    },
    metrics: {
      deliveryRetried: (space, type) => metrics.retried.push(`${space}/${type}`),
      deliveryDeadLettered: (space, type) => metrics.dead.push(`${space}/${type}`),
      observeDeliveryLatency: (seconds) => metrics.latencies.push(seconds),
      circuitChanged: (space, functionId, state) => {
        circuits.push(`${space}/${functionId}:${state}`);
        onCircuit.forEach((f) => f(state));
      },
    },
    backoff: { baseMs: 5, capMs: 10 },
    ...options,
  });
  const rows = (): DiskRow[] => withFile(dir, (db) => db.prepare<[], DiskRow>('SELECT * FROM deliveries ORDER BY id').all());
  /** Resolves at the circuit's next change to `state`. */
  const circuitBecomes = (state: CircuitState) => new Promise<void>((resolve) => onCircuit.push((s) => s === state && resolve()));
  return { dir, queue, log, circuits, metrics, onCircuit, rows, circuitBecomes };
}

/** Runs `use` on a second connection to the queue's file in `dir` (as another process would). */
export function withFile<T>(dir: string, use: (db: Database.Database) => T): T {
  const db = new Database(join(dir, 'deliveries.db'));
  try {
    return use(db);
  } finally {
    db.close();
  }
}

/** The queue's private bookkeeping, read by the tests of its memory line and wake-up timer. */
interface Internals {
  readySize(): number;
  inMemory: Set<string>;
  moreOnDisk: boolean;
  wakeAt: number;
  readyHead: number;
  ready: unknown[];
  sql: Record<string, object>;
  flushRetry?: NodeJS.Timeout;
  flush(): void;
}

export const internals = (queue: DurableQueue) => queue as unknown as Internals;

/** The queue's in-memory line: deliveries ready for a worker, IDs held in memory, whether more wait on disk. */
export const memory = (queue: DurableQueue) => {
  const q = internals(queue);
  return { ready: q.readySize(), held: q.inMemory.size, moreOnDisk: q.moreOnDisk };
};

/**
 * Wraps one of the queue's prepared statements: `fail` says, per call, whether it fails as a disk
 * error would (SQLITE_IOERR); returns how many times it was called.
 */
export function wrapStatement(queue: DurableQueue, name: string, fail: (call: number) => boolean = () => false): { calls: () => number } {
  const sql = internals(queue).sql;
  const real = sql[name] as object;
  let calls = 0;
  sql[name] = new Proxy(real, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls++;
        if (fail(calls)) throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { calls: () => calls };
}

/** A delivery handler whose calls wait until the test settles them. */
export function gatedHandler() {
  const calls: Array<{ id: string; attempt: number; resolve: () => void; reject: (err: unknown) => void }> = [];
  const handler = (d: Delivery, attempt = 0) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ id: d.deliveryId, attempt, resolve, reject });
    });
  return { calls, handler };
}
