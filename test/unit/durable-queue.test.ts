import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DeliveryFailure, type Delivery } from '../../lib/delivery/queue';
import { DEFAULT_BACKOFF, DEFAULT_RETRY, mayRetry, retryDelayMs } from '../../lib/delivery/retry';
import { DurableQueue } from '../../lib/delivery/sqlite';
import { noMetrics } from '../../lib/gateway/metrics';
import { silentLogger } from '../../lib/logger';
import { tempDir } from '../support/gateway';
import { eventually } from '../support/waiting';

const delivery = (id: string): Delivery => ({
  deliveryId: id,
  space: 'space1',
  subscriptionId: 'sub',
  functionId: 'fn',
  eventType: 'job',
  eventId: `event-${id}`,
  payload: JSON.stringify({ eventID: `event-${id}` }),
});

describe('retry policy', () => {
  it('doubles the delay up to the cap, with half of it random', () => {
    const backoff = { baseMs: 1000, capMs: 8000 };
    expect([1, 2, 3, 4, 5].map((a) => retryDelayMs(a, backoff, () => 0))).toEqual([500, 1000, 2000, 4000, 4000]);
    expect([1, 2, 3, 4, 5].map((a) => retryDelayMs(a, backoff, () => 1))).toEqual([1000, 2000, 4000, 8000, 8000]);
  });

  it('stops after the attempts or the age allowed', () => {
    const policy = { maxAttempts: 3, maxAgeSeconds: 60 };
    expect(mayRetry(policy, 2, 0, 1000)).toBe(true);
    expect(mayRetry(policy, 3, 0, 1000)).toBe(false);
    expect(mayRetry(policy, 1, 0, 61_000)).toBe(false);
    expect(mayRetry(policy, 1, 1000, 60_999)).toBe(true);
    expect(mayRetry(policy, 1, 1000, 61_000)).toBe(false);
  });

  it('by default retries 30 times within a day, from about a second up to five minutes apart', () => {
    expect(DEFAULT_RETRY).toEqual({ maxAttempts: 30, maxAgeSeconds: 86_400 });
    expect(DEFAULT_BACKOFF).toEqual({ baseMs: 1000, capMs: 300_000 });
    expect([1, 10].map((a) => retryDelayMs(a, undefined, () => 1))).toEqual([1000, 300_000]);
    const delay = retryDelayMs(1);
    expect(delay).toBeGreaterThanOrEqual(500);
    expect(delay).toBeLessThanOrEqual(1000);
  });
});

describe('DurableQueue', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const open = (dataDir: string) => new DurableQueue({ dataDir, workers: 2, logger: silentLogger, metrics: noMetrics, backoff: { baseMs: 5, capMs: 10 } });

  it('resumes deliveries accepted before a restart', async () => {
    const dir = tempDir('eg-queue-');
    dirs.push(dir);
    const first = open(dir);
    expect(await first.enqueue([delivery('a'), delivery('b')])).toEqual([]);
    await first.drain();

    const second = open(dir);
    expect(second.backlog()).toBe(2);
    const seen: string[] = [];
    const done = new Promise<void>((resolve) =>
      second.start(async (d) => {
        seen.push(d.deliveryId);
        if (seen.length === 2) resolve();
      }),
    );
    await done;
    await second.drain();
    expect(seen.sort()).toEqual(['a', 'b']);
    const third = open(dir);
    expect(third.backlog()).toBe(0);
    await third.drain();
  });

  it('dead-letters at once a failure that is not retryable', async () => {
    const dir = tempDir('eg-queue-');
    dirs.push(dir);
    const queue = open(dir);
    let attempts = 0;
    queue.start(async () => {
      attempts++;
      throw new DeliveryFailure('target said 400', false);
    });
    await queue.enqueue([delivery('x')]);
    for (let i = 0; i < 100 && (await queue.list('space1')).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const [letter] = await queue.list('space1');
    expect(letter).toMatchObject({ deliveryId: 'x', attempts: 1, error: 'target said 400', event: { eventID: 'event-x' } });
    expect(attempts).toBe(1);
    expect(queue.backlog()).toBe(0);
    await queue.drain();
  });

  it('refuses new deliveries once draining has begun', async () => {
    const dir = tempDir('eg-queue-');
    dirs.push(dir);
    const queue = open(dir);
    const draining = queue.drain();
    expect(await queue.enqueue([delivery('late')])).toHaveLength(1);
    await draining;
  });
});

describe('DurableQueue when its database is locked', () => {
  it('retries the outcome of a finished delivery instead of leaving the delivery stuck', async () => {
    const dir = tempDir('eg-queue-');
    const queue = new DurableQueue({ dataDir: dir, workers: 1, logger: silentLogger, metrics: noMetrics, backoff: { baseMs: 5, capMs: 10 } });
    let attempts = 0;
    const blocker = new Database(join(dir, 'deliveries.db'));
    blocker.pragma('busy_timeout = 0');
    let delivered!: () => void;
    const done = new Promise<void>((resolve) => (delivered = resolve));
    queue.start(async () => {
      attempts++;
      if (attempts === 1) {
        // Another writer holds the database while the failed attempt's retry is written.
        blocker.exec('BEGIN EXCLUSIVE');
        setTimeout(() => blocker.exec('COMMIT'), 400);
        throw new DeliveryFailure('target down', true);
      }
      delivered();
    });
    await queue.enqueue([delivery('locked')]);
    await done;
    expect(attempts).toBe(2);
    await queue.drain();
    blocker.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('DurableQueue accepting deliveries', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const newDir = () => {
    const dir = tempDir('eg-queue-');
    dirs.push(dir);
    return dir;
  };
  const open = (dataDir: string, memoryLimit?: number) =>
    new DurableQueue({ dataDir, workers: 1, logger: silentLogger, metrics: noMetrics, backoff: { baseMs: 5, capMs: 10 }, ...(memoryLimit ? { memoryLimit } : {}) });
  const idsOnDisk = (dir: string): string[] => {
    const reader = new Database(join(dir, 'deliveries.db'), { readonly: true });
    try {
      return reader.prepare<[], { id: string }>('SELECT id FROM deliveries ORDER BY id').all().map((row) => row.id);
    } finally {
      reader.close();
    }
  };

  it('has the deliveries on disk by the time enqueue resolves (the 202 means persisted)', async () => {
    const dir = newDir();
    const queue = open(dir);
    await queue.enqueue([delivery('p1'), delivery('p2')]);
    expect(idsOnDisk(dir)).toEqual(['p1', 'p2']);
    expect(queue.backlog()).toBe(2);
    await queue.drain();
  });

  it('rejects an enqueue whose commit fails, and never delivers it', async () => {
    const dir = newDir();
    const errors: Array<[object, string | undefined]> = [];
    const queue = new DurableQueue({ dataDir: dir, workers: 1, logger: { ...silentLogger, error: (obj, msg) => errors.push([obj, msg]) }, metrics: noMetrics });
    const seen: string[] = [];
    queue.start(async (d) => {
      seen.push(d.deliveryId);
    });
    // Another writer holds the database for longer than the queue's busy timeout: the commit fails.
    const blocker = new Database(join(dir, 'deliveries.db'));
    blocker.exec('BEGIN EXCLUSIVE');
    const refused = queue.enqueue([delivery('refused')]).then(
      () => 'resolved',
      (err: unknown) => (err as { code?: string }).code,
    );
    expect(await refused).toBe('SQLITE_BUSY');
    expect(errors).toEqual([[{ err: expect.objectContaining({ code: 'SQLITE_BUSY' }) }, 'could not write deliveries; retrying their outcomes']]);
    blocker.exec('COMMIT');
    blocker.close();
    // The next delivery goes through the same single worker: once it is delivered, the refused one would have been too.
    await queue.enqueue([delivery('accepted')]);
    await eventually(async () => (seen.length > 0 ? true : undefined), 'the accepted delivery');
    await queue.drain();
    expect(seen).toEqual(['accepted']);
    expect(idsOnDisk(dir)).toEqual([]);
    expect(queue.backlog()).toBe(0);
  });

  it('delivers everything accepted past its memory limit, from disk', async () => {
    const dir = newDir();
    const queue = open(dir, 2);
    const seen: string[] = [];
    queue.start(async (d) => {
      seen.push(d.deliveryId);
    });
    await queue.enqueue(['m1', 'm2', 'm3', 'm4', 'm5'].map(delivery));
    await eventually(async () => (seen.length === 5 ? true : undefined), 'five deliveries');
    await queue.drain();
    expect(seen.sort()).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
  });
});

describe('DurableQueue retries, dead letters and metrics', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  /** A queue with metrics and warnings recorded, in a fresh directory. */
  const recorded = (options: { workers?: number; defaultRetry?: { maxAttempts: number; maxAgeSeconds: number } } = {}) => {
    const dir = tempDir('eg-queue-');
    dirs.push(dir);
    const metrics = { retried: [] as string[], dead: [] as string[], latencies: [] as number[] };
    const warnings: Array<[object, string | undefined]> = [];
    const queue = new DurableQueue({
      dataDir: dir,
      workers: options.workers ?? 1,
      logger: { ...silentLogger, warn: (obj, msg) => warnings.push([obj, msg]) },
      metrics: {
        deliveryRetried: (space, type) => metrics.retried.push(`${space}/${type}`),
        deliveryDeadLettered: (space, type) => metrics.dead.push(`${space}/${type}`),
        observeDeliveryLatency: (seconds) => metrics.latencies.push(seconds),
      },
      backoff: { baseMs: 5, capMs: 10 },
      ...(options.defaultRetry ? { defaultRetry: options.defaultRetry } : {}),
    });
    return { dir, queue, metrics, warnings };
  };
  const deadLetters = (queue: DurableQueue, count: number) =>
    eventually(async () => {
      const letters = await queue.list('space1');
      return letters.length >= count ? letters : undefined;
    }, `${count} dead letters`);

  it('retries a failing delivery until it succeeds, counting each retry and the latency', async () => {
    const { queue, metrics } = recorded();
    let attempts = 0;
    queue.start(async () => {
      attempts++;
      if (attempts < 3) throw new Error('target down');
    });
    await queue.enqueue([delivery('r')]);
    await eventually(async () => (metrics.latencies.length === 1 ? true : undefined), 'the delivery');
    expect(attempts).toBe(3);
    expect(metrics.retried).toEqual(['space1/job', 'space1/job']);
    expect(metrics.dead).toEqual([]);
    expect(metrics.latencies[0]).toBeGreaterThanOrEqual(0);
    expect(queue.backlog()).toBe(0);
    await queue.drain();
  });

  it('dead-letters after the policy of the delivery, or the default one, gives up', async () => {
    const { queue, metrics, warnings } = recorded({ defaultRetry: { maxAttempts: 2, maxAgeSeconds: 60 } });
    const attempts: Record<string, number> = {};
    queue.start(async (d) => {
      attempts[d.deliveryId] = (attempts[d.deliveryId] ?? 0) + 1;
      throw new Error(`failed ${d.deliveryId}`);
    });
    await queue.enqueue([delivery('default'), { ...delivery('own'), retry: { maxAttempts: 3, maxAgeSeconds: 60 } }]);
    const letters = await deadLetters(queue, 2);
    expect(attempts).toEqual({ default: 2, own: 3 });
    const byId = Object.fromEntries(letters.map((l) => [l.deliveryId, l]));
    expect(byId.default).toMatchObject({ space: 'space1', subscriptionId: 'sub', functionId: 'fn', eventType: 'job', eventId: 'event-default', attempts: 2, error: 'failed default' });
    expect(byId.own).toMatchObject({ attempts: 3, error: 'failed own', event: { eventID: 'event-own' } });
    const letter = byId.default as { acceptedAt: string; deadLetteredAt: string };
    expect(Date.parse(letter.deadLetteredAt)).toBeGreaterThanOrEqual(Date.parse(letter.acceptedAt));
    expect(metrics.dead).toEqual(['space1/job', 'space1/job']);
    expect(metrics.retried).toHaveLength(3);
    expect(warnings).toContainEqual([{ space: 'space1', functionId: 'fn', deliveryId: 'own', error: 'failed own' }, 'delivery dead-lettered']);
    expect(queue.backlog()).toBe(0);
    await queue.drain();
  });

  it('replays and removes dead letters of one space, one or all', async () => {
    const { dir, queue } = recorded({ defaultRetry: { maxAttempts: 1, maxAgeSeconds: 60 } });
    let failing = true;
    const delivered: string[] = [];
    queue.start(async (d) => {
      if (failing) throw new DeliveryFailure('no', true);
      delivered.push(d.deliveryId);
    });
    await queue.enqueue(['a', 'b', 'c', 'd'].map(delivery));
    await queue.enqueue([{ ...delivery('other'), space: 'space2' }]);
    await deadLetters(queue, 4);
    failing = false;
    expect(await queue.replay('space1', 'a')).toBe(1);
    expect(await queue.replay('space1', 'a')).toBe(0);
    await eventually(async () => (delivered.includes('a') ? true : undefined), 'the replayed delivery');
    expect(await queue.remove('space1', 'b')).toBe(1);
    expect(await queue.remove('space1', 'b')).toBe(0);
    expect((await queue.list('space1')).map((l) => l.deliveryId)).toEqual(['c', 'd']);
    expect(await queue.replay('space1')).toBe(2);
    await eventually(async () => (delivered.length === 3 ? true : undefined), 'the replayed deliveries');
    expect(delivered.sort()).toEqual(['a', 'c', 'd']);
    expect(await queue.list('space1')).toEqual([]);
    expect((await queue.list('space2')).map((l) => l.deliveryId)).toEqual(['other']);
    expect(await queue.remove('space2')).toBe(1);
    expect(await queue.remove('space2')).toBe(0);
    await queue.drain();
    const reader = new Database(join(dir, 'deliveries.db'), { readonly: true });
    expect(reader.prepare('SELECT COUNT(*) AS n FROM deliveries').get()).toEqual({ n: 0 });
    reader.close();
  });

  it('waits for deliveries in flight when draining, and writes their outcome', async () => {
    const { dir, queue } = recorded({ workers: 2 });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    queue.start(async () => {
      started++;
      await held;
    });
    await queue.enqueue([delivery('slow1'), delivery('slow2')]);
    await eventually(async () => (started === 2 ? true : undefined), 'two deliveries in flight');
    let drained = false;
    const draining = queue.drain().then(() => (drained = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(drained).toBe(false);
    release();
    await draining;
    const reopened = new DurableQueue({ dataDir: dir, workers: 1, logger: silentLogger, metrics: noMetrics });
    expect(reopened.backlog()).toBe(0);
    await reopened.drain();
  });

  it('delivers no more than its workers at once', async () => {
    const { queue } = recorded({ workers: 2 });
    let active = 0;
    let most = 0;
    let done = 0;
    queue.start(async () => {
      active++;
      most = Math.max(most, active);
      await new Promise((resolve) => setTimeout(resolve, 5));
      active--;
      done++;
    });
    await queue.enqueue(['w1', 'w2', 'w3', 'w4', 'w5'].map(delivery));
    await eventually(async () => (done === 5 ? true : undefined), 'five deliveries');
    expect(most).toBe(2);
    await queue.drain();
  });

  it('schedules a retry by its backoff: the one given, or about a second by default', async () => {
    const nextRetry = async (backoff?: { baseMs: number; capMs: number }) => {
      const dir = tempDir('eg-queue-');
      dirs.push(dir);
      const queue = new DurableQueue({ dataDir: dir, workers: 1, logger: silentLogger, metrics: noMetrics, ...(backoff ? { backoff } : {}) });
      let failedAt = 0;
      queue.start(async () => {
        failedAt = Date.now();
        throw new Error('down');
      });
      await queue.enqueue([delivery('b')]);
      const reader = new Database(join(dir, 'deliveries.db'), { readonly: true });
      const row = await eventually(
        async () => reader.prepare<[], { attempts: number; next_at: number }>("SELECT attempts, next_at FROM deliveries WHERE id = 'b' AND attempts = 1").get(),
        'the first retry written',
      );
      reader.close();
      await queue.drain();
      return row.next_at - failedAt;
    };
    const byDefault = await nextRetry();
    expect(byDefault).toBeGreaterThanOrEqual(500);
    // The delay is counted from the moment the failure is handled, a moment after failedAt.
    expect(byDefault).toBeLessThan(1500);
    expect(await nextRetry({ baseMs: 60_000, capMs: 60_000 })).toBeGreaterThanOrEqual(30_000);
  });

  it('takes an empty enqueue as nothing to do', async () => {
    const { queue } = recorded();
    expect(await queue.enqueue([])).toEqual([]);
    expect(queue.backlog()).toBe(0);
    await queue.drain();
  });
});
