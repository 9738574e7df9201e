import type Database from 'better-sqlite3';
import { DeliveryFailure } from '../../lib/delivery/queue';
import { retryDelayMs } from '../../lib/delivery/retry';
import { DurableQueue } from '../../lib/delivery/sqlite';
import { ServiceUnavailableError } from '../../lib/errors';
import { noMetrics } from '../../lib/gateway/metrics';
import { silentLogger } from '../../lib/logger';
import { delivery, gatedHandler, internals, memory, queueDir, recorded, removeQueueDirs, withFile, wrapStatement } from '../support/durable-queue';
import { eventually } from '../support/waiting';

/**
 * The durable queue's edges: its in-memory line against the disk, the wake-up timer, the I/O errors
 * of its reads, old queue files, and how the circuit breaker judges answers that are not the probe's.
 */

afterAll(removeQueueDirs);

/** Lets the event loop run the queue's pending setImmediate work (its group commit). */
const turn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * A queue directory holding the given deliveries on disk, as a queue left them before a restart.
 * (DurableQueue is imported here, not only through the support module: Stryker's jest runner picks
 * the tests of a mutated file by their direct imports.)
 */
async function onDisk(ids: string[], change?: (db: Database.Database) => void): Promise<string> {
  const dir = queueDir();
  const queue = new DurableQueue({ dataDir: dir, workers: 1, logger: silentLogger, metrics: noMetrics });
  await queue.enqueue(ids.map((id) => delivery(id)));
  await queue.drain();
  if (change) withFile(dir, change);
  return dir;
}

describe('DurableQueue line in memory', () => {
  it('holds accepted deliveries in memory up to its limit, then reads the older ones on disk only as room frees', async () => {
    const dir = await onDisk(['x1', 'x2', 'x3']);
    const { queue } = recorded({ dataDir: dir, memoryLimit: 2 });
    await queue.enqueue([delivery('n1'), delivery('n2')]);
    // Accepted before the start: held ready, and the three of the earlier run are known to wait on disk.
    expect(memory(queue)).toEqual({ ready: 2, held: 2, moreOnDisk: true });
    const { calls, handler } = gatedHandler();
    queue.start(handler);
    await eventually(async () => (calls.length === 1 ? true : undefined), 'the first delivery');
    // No room: nothing read from disk yet.
    expect(memory(queue)).toEqual({ ready: 1, held: 2, moreOnDisk: true });
    calls[0]?.resolve();
    await eventually(async () => (calls.length === 2 ? true : undefined), 'the second delivery');
    await eventually(async () => (memory(queue).ready > 0 ? true : undefined), 'deliveries read from disk');
    // n2 in flight; two rows read, as many as there is room for; x3 stays on disk.
    expect(memory(queue)).toEqual({ ready: 2, held: 3, moreOnDisk: true });
    for (let n = 2; n <= 5; n++) {
      await eventually(async () => (calls.length === n ? true : undefined), `delivery ${n}`);
      calls[n - 1]?.resolve();
    }
    await eventually(async () => (queue.backlog() === 0 ? true : undefined), 'all delivered');
    expect(calls.map((c) => c.id)).toEqual(['n1', 'n2', 'x1', 'x2', 'x3']);
    await queue.drain();
  });

  it('delivers everything on disk with room in memory for a single delivery', async () => {
    const dir = await onDisk(['s1', 's2', 's3']);
    const { queue } = recorded({ dataDir: dir, memoryLimit: 1 });
    const seen: string[] = [];
    queue.start(async (d) => {
      seen.push(d.deliveryId);
    });
    await eventually(async () => (queue.backlog() === 0 ? true : undefined), 'all delivered');
    expect(seen).toEqual(['s1', 's2', 's3']);
    await queue.drain();
  });

  it('drops handed-out deliveries from the front of its line once more than 1024 of them fill more than half of it', async () => {
    const { queue } = recorded();
    const ids = Array.from({ length: 2100 }, (_, i) => `c${String(i).padStart(4, '0')}`);
    await queue.enqueue(ids.map((id) => delivery(id)));
    const seen: string[] = [];
    const compactedAt: number[] = [];
    const lengths: number[] = [];
    queue.start(async (d) => {
      seen.push(d.deliveryId);
      const q = internals(queue);
      if (q.readyHead === 0) {
        compactedAt.push(seen.length);
        lengths.push(q.ready.length);
      }
    });
    await eventually(async () => (queue.backlog() === 0 ? true : undefined), 'every delivery');
    await queue.drain();
    expect(seen).toEqual(ids);
    // 1051 of 2100 handed out: more than half, compacted to the 1049 left; then 1025 of 1049.
    expect(compactedAt).toEqual([1051, 2076]);
    expect(lengths).toEqual([1049, 24]);
  });

  it('hands out the deliveries accepted meanwhile before it reads more from disk', async () => {
    const dir = await onDisk(['x1', 'x2']);
    const { queue } = recorded({ dataDir: dir, memoryLimit: 3 });
    await queue.enqueue(['n1', 'n2', 'n3'].map((id) => delivery(id)));
    const { calls, handler } = gatedHandler();
    queue.start(handler);
    await eventually(async () => (calls.length === 1 ? true : undefined), 'n1 in flight');
    calls[0]?.resolve();
    await eventually(async () => (calls.length === 2 ? true : undefined), 'n2 in flight');
    await queue.enqueue([delivery('n4')]);
    for (let n = 2; n <= 6; n++) {
      await eventually(async () => (calls.length === n ? true : undefined), `delivery ${n}`);
      calls[n - 1]?.resolve();
    }
    await eventually(async () => (queue.backlog() === 0 ? true : undefined), 'all delivered');
    expect(calls.map((c) => c.id)).toEqual(['n1', 'n2', 'n3', 'n4', 'x1', 'x2']);
    await queue.drain();
  });
});

describe('DurableQueue wake-up timer', () => {
  it('sleeps until a delivery on disk comes due instead of polling for it', async () => {
    const dir = await onDisk(['later'], (db) => db.prepare('UPDATE deliveries SET next_at = ?').run(Date.now() + 150));
    const { queue } = recorded({ dataDir: dir });
    const reads = wrapStatement(queue, 'due');
    const seen: string[] = [];
    queue.start(async (d) => {
      seen.push(d.deliveryId);
    });
    // Nothing due yet, and nothing more waiting: the next read is the timer's.
    expect(memory(queue)).toEqual({ ready: 0, held: 0, moreOnDisk: false });
    await eventually(async () => (queue.backlog() === 0 ? true : undefined), 'the delivery');
    expect(seen).toEqual(['later']);
    // The read at the start and the timer's (one more should a timer fire a millisecond early).
    expect(reads.calls()).toBeLessThanOrEqual(3);
    await queue.drain();
  });

  it('logs a read of due deliveries that fails, and schedules another a second later', async () => {
    const { queue, log } = recorded();
    wrapStatement(queue, 'due', (call) => call === 1);
    const before = Date.now();
    queue.start(async () => {});
    const after = Date.now();
    expect(log).toEqual([['error', { err: expect.objectContaining({ code: 'SQLITE_IOERR' }) }, 'could not read due deliveries; trying again in 1 s']]);
    const { wakeAt } = internals(queue);
    expect(wakeAt).toBeGreaterThanOrEqual(before + 1000);
    expect(wakeAt).toBeLessThanOrEqual(after + 1000);
    await queue.drain();
  });

  it('ignores a wake once drained, without touching the closed file', async () => {
    const { queue, log } = recorded();
    queue.start(async () => {});
    await queue.drain();
    queue.wake(1);
    expect(log).toEqual([]);
  });

  it('picks up dead letters replayed while its line is full once the line empties', async () => {
    const { queue } = recorded({ memoryLimit: 1, defaultRetry: { maxAttempts: 1, maxAgeSeconds: 60 } });
    const { calls, handler } = gatedHandler();
    queue.start(handler);
    await queue.enqueue([delivery('dead')]);
    await eventually(async () => (calls.length === 1 ? true : undefined), 'the first attempt');
    calls[0]?.reject(new DeliveryFailure('target said 400', false));
    await eventually(async () => ((await queue.list('space1')).length === 1 ? true : undefined), 'the dead letter');
    await queue.enqueue([delivery('g1')]);
    await eventually(async () => (calls.length === 2 ? true : undefined), 'g1 in flight');
    await queue.enqueue([delivery('g2')]);
    // g1 in flight, g2 fills the line: the replayed delivery must wait on disk.
    expect(memory(queue).ready).toBe(1);
    expect(await queue.replay('space1')).toBe(1);
    calls[1]?.resolve();
    await eventually(async () => (calls.length === 3 ? true : undefined), 'g2 in flight');
    calls[2]?.resolve();
    await eventually(async () => (calls.length === 4 ? true : undefined), 'the replayed delivery');
    calls[3]?.resolve();
    await eventually(async () => (queue.backlog() === 0 ? true : undefined), 'all delivered');
    expect(calls.map((c) => c.id)).toEqual(['dead', 'g1', 'g2', 'dead']);
    await queue.drain();
  });
});

describe('DurableQueue bookkeeping on disk', () => {
  it('keeps the trace context of a delivery on disk and gives it back after a restart', async () => {
    const traced = { ...delivery('traced'), traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'vendor=value' };
    const first = recorded();
    await first.queue.enqueue([traced, delivery('plain')]);
    await first.queue.drain();
    expect(first.rows().map((r) => [r.id, r.traceparent, r.tracestate])).toEqual([
      ['plain', null, null],
      ['traced', traced.traceparent, 'vendor=value'],
    ]);
    const { queue } = recorded({ dataDir: first.dir });
    const seen: Record<string, object> = {};
    queue.start(async (d) => {
      seen[d.deliveryId] = d;
    });
    await eventually(async () => (queue.backlog() === 0 ? true : undefined), 'both delivered');
    expect(seen.traced).toEqual(traced);
    expect(seen.plain).toEqual(delivery('plain'));
    await queue.drain();
  });

  it('adds the trace columns to a queue file written before tracing, and delivers its rows', async () => {
    const dir = queueDir();
    withFile(dir, (db) => {
      db.exec(`CREATE TABLE deliveries (
        id TEXT PRIMARY KEY, space TEXT NOT NULL, subscription_id TEXT NOT NULL, function_id TEXT NOT NULL,
        event_type TEXT NOT NULL, event_id TEXT NOT NULL, payload TEXT NOT NULL, retry TEXT,
        attempts INTEGER NOT NULL, accepted_at INTEGER NOT NULL, next_at INTEGER NOT NULL,
        state TEXT NOT NULL, last_error TEXT, dead_at INTEGER)`);
      db.prepare(
        "INSERT INTO deliveries VALUES ('old', 'space1', 'sub', 'fn', 'job', 'event-old', '{\"eventID\":\"event-old\"}', NULL, 0, ?, ?, 'pending', NULL, NULL)",
      ).run(Date.now(), Date.now());
    });
    const { queue } = recorded({ dataDir: dir });
    const columns = withFile(dir, (db) => db.prepare<[], { name: string }>('PRAGMA table_info(deliveries)').all().map((c) => c.name));
    expect(columns.slice(-2)).toEqual(['traceparent', 'tracestate']);
    const seen: object[] = [];
    queue.start(async (d) => {
      seen.push(d);
    });
    await eventually(async () => (queue.backlog() === 0 ? true : undefined), 'the old row delivered');
    expect(seen).toEqual([delivery('old')]);
    await queue.drain();
  });

  it('counts the latency of a delivery in seconds from its acceptance', async () => {
    const dir = await onDisk(['aged'], (db) => db.prepare('UPDATE deliveries SET accepted_at = accepted_at - 10000').run());
    const { queue, metrics } = recorded({ dataDir: dir });
    queue.start(async () => {});
    await eventually(async () => (metrics.latencies.length === 1 ? true : undefined), 'the delivery');
    expect(metrics.latencies[0]).toBeGreaterThanOrEqual(10);
    expect(metrics.latencies[0]).toBeLessThan(60);
    await queue.drain();
  });

  it('retries a delivery the gateway could not attempt after its backoff so far, without spending an attempt', async () => {
    const dir = await onDisk(['su'], (db) => db.prepare('UPDATE deliveries SET attempts = 4').run());
    const backoff = { baseMs: 60_000, capMs: 3_600_000 };
    const { queue, rows } = recorded({ dataDir: dir, backoff });
    const before = Date.now();
    queue.start(async () => {
      throw new ServiceUnavailableError('registry unavailable');
    });
    const row = await eventually(async () => rows().find((r) => r.last_error !== null), 'the retry written');
    const after = Date.now();
    expect(row.attempts).toBe(4);
    // The delay after four failed attempts: 240 to 480 s with this backoff.
    expect(row.next_at).toBeGreaterThanOrEqual(before + retryDelayMs(4, backoff, () => 0));
    expect(row.next_at).toBeLessThanOrEqual(after + retryDelayMs(4, backoff, () => 1));
    await queue.drain();
  });

  it('dates a dead letter by when it was dead-lettered, not by when its last attempt came due', async () => {
    const dir = await onDisk(['late'], (db) => db.prepare('UPDATE deliveries SET accepted_at = accepted_at - 120000, next_at = next_at - 60000').run());
    const { queue } = recorded({ dataDir: dir });
    const before = Date.now();
    queue.start(async () => {
      throw new DeliveryFailure('target said 400', false);
    });
    const [letter] = await eventually(async () => {
      const list = await queue.list('space1');
      return list.length > 0 ? list : undefined;
    }, 'the dead letter');
    expect(Date.parse(letter?.deadLetteredAt ?? '')).toBeGreaterThanOrEqual(before);
    expect(Date.parse(letter?.acceptedAt ?? '')).toBeLessThan(before - 100_000);
    await queue.drain();
  });

  it('accepts an empty batch even in a turn whose writes fail', async () => {
    const { queue } = recorded();
    wrapStatement(queue, 'insert', () => true);
    const results = await Promise.all([
      queue.enqueue([delivery('refused')]).then(
        () => 'accepted',
        (err: unknown) => (err as { code?: string }).code,
      ),
      queue.enqueue([]),
    ]);
    expect(results).toEqual(['SQLITE_IOERR', []]);
    await queue.drain();
  });

  it('keeps deliveries whose outcome cannot be written pending on disk, retrying one write at a time, and writes nothing once closed', async () => {
    const { dir, queue, log } = recorded();
    wrapStatement(queue, 'remove', () => true);
    const { calls, handler } = gatedHandler();
    queue.start(handler);
    await queue.enqueue([delivery('a'), delivery('b')]);
    await eventually(async () => (calls.length === 1 ? true : undefined), 'a in flight');
    calls[0]?.resolve();
    await eventually(async () => (log.length === 1 ? true : undefined), 'the first failed write');
    const retry = internals(queue).flushRetry;
    expect(retry).toBeDefined();
    await eventually(async () => (calls.length === 2 ? true : undefined), 'b in flight');
    calls[1]?.resolve();
    await eventually(async () => (log.length === 2 ? true : undefined), 'the second failed write');
    expect(internals(queue).flushRetry).toBe(retry);
    await queue.drain();
    const failures = log.length;
    expect(log.every(([level, , msg]) => level === 'error' && msg === 'could not write deliveries; retrying their outcomes')).toBe(true);
    internals(queue).flush();
    expect(log).toHaveLength(failures);
    const { queue: reopened } = recorded({ dataDir: dir });
    expect(reopened.backlog()).toBe(2);
    await reopened.drain();
  });

  it('resolves a drain only once every delivery in flight has finished', async () => {
    const { queue } = recorded({ workers: 2 });
    const { calls, handler } = gatedHandler();
    queue.start(handler);
    await queue.enqueue([delivery('f1'), delivery('f2')]);
    await eventually(async () => (calls.length === 2 ? true : undefined), 'two in flight');
    let drained = false;
    const draining = queue.drain().then(() => (drained = true));
    calls[0]?.resolve();
    await turn();
    await turn();
    expect(drained).toBe(false);
    calls[1]?.resolve();
    await draining;
    expect(drained).toBe(true);
  });
});

describe('DurableQueue I/O errors around the circuit breaker', () => {
  it('logs a release of waiting deliveries that cannot be written, and still delivers', async () => {
    const { queue, log, circuits } = recorded({ circuitBreaker: { failureThreshold: 1, openMs: 20 } });
    wrapStatement(queue, 'release', () => true);
    let attempts = 0;
    queue.start(async () => {
      attempts++;
      if (attempts === 1) throw new Error('down');
    });
    await queue.enqueue([delivery('a')]);
    await eventually(async () => (queue.backlog() === 0 ? true : undefined), 'the delivery');
    expect(circuits).toEqual(['space1/fn:open', 'space1/fn:half-open', 'space1/fn:closed']);
    expect(log.filter(([level]) => level === 'error')).toEqual([
      ['error', { err: expect.objectContaining({ code: 'SQLITE_IOERR' }), space: 'space1', functionId: 'fn' }, 'could not release waiting deliveries; they come due on their own within a minute'],
    ]);
    await queue.drain();
  });

  it('logs a probe delivery that cannot be read', async () => {
    const { queue, log, circuitBecomes } = recorded({ circuitBreaker: { failureThreshold: 1, openMs: 20 }, backoff: { baseMs: 60_000, capMs: 60_000 } });
    wrapStatement(queue, 'ofTarget', () => true);
    queue.start(async () => {
      throw new Error('down');
    });
    const halfOpen = circuitBecomes('half-open');
    await queue.enqueue([delivery('a')]);
    await halfOpen;
    expect(log.filter(([level]) => level === 'error')).toEqual([
      ['error', { err: expect.objectContaining({ code: 'SQLITE_IOERR' }), space: 'space1', functionId: 'fn' }, 'could not load a delivery to probe its target with'],
    ]);
    await queue.drain();
  });

  it('waits quietly for the next delivery when its target has none left to probe with', async () => {
    const { queue, log, circuitBecomes } = recorded({ circuitBreaker: { failureThreshold: 1, openMs: 20 }, defaultRetry: { maxAttempts: 1, maxAgeSeconds: 60 } });
    queue.start(async () => {
      throw new Error('down');
    });
    const halfOpen = circuitBecomes('half-open');
    await queue.enqueue([delivery('only')]);
    await halfOpen;
    expect(log.filter(([level]) => level === 'error')).toEqual([]);
    expect((await queue.list('space1')).map((l) => l.deliveryId)).toEqual(['only']);
    await queue.drain();
  });
});

describe('DurableQueue circuit breaker, beyond the probe', () => {
  it('writes a delivery for an open circuit straight to disk, parked, without holding it in memory', async () => {
    const { queue, rows, circuitBecomes } = recorded({ circuitBreaker: { failureThreshold: 1, openMs: 60_000 } });
    queue.start(async () => {
      throw new Error('down');
    });
    const opened = circuitBecomes('open');
    await queue.enqueue([delivery('a')]);
    await opened;
    const parked = await eventually(async () => rows().find((r) => r.id === 'a' && r.next_at - Date.now() > 50_000), 'a parked');
    // The parked row wakes the queue should its circuit never close.
    expect(internals(queue).wakeAt).toBe(parked.next_at);
    await queue.enqueue([delivery('c')]);
    const c = rows().find((r) => r.id === 'c');
    expect(c?.next_at).toBeGreaterThanOrEqual((c?.accepted_at ?? 0) + 60_000);
    expect(memory(queue)).toMatchObject({ ready: 0, held: 0 });
    await queue.drain();
  });

  it('puts the probe delivery first in line, ahead of deliveries to other targets', async () => {
    const { queue, circuits, circuitBecomes } = recorded({ workers: 2, circuitBreaker: { failureThreshold: 1, openMs: 20 }, backoff: { baseMs: 60_000, capMs: 60_000 } });
    const { calls, handler } = gatedHandler();
    queue.start(handler);
    const halfOpen = circuitBecomes('half-open');
    await queue.enqueue([delivery('a'), delivery('x1', 'fn2'), delivery('x2', 'fn2'), delivery('x3', 'fn2'), delivery('x4', 'fn2')]);
    await eventually(async () => (calls.length === 2 ? true : undefined), 'a and x1 in flight');
    calls[0]?.reject(new Error('down'));
    await eventually(async () => (calls.length === 3 ? true : undefined), 'x2 in flight');
    // a waits on disk for its retry a minute away; x3 and x4 wait in line behind both busy workers.
    await halfOpen;
    calls[1]?.resolve();
    calls[2]?.resolve();
    for (let n = 4; n <= 6; n++) {
      await eventually(async () => (calls.length >= n ? true : undefined), `delivery ${n}`);
      calls[n - 1]?.resolve();
    }
    await eventually(async () => (queue.backlog() === 0 ? true : undefined), 'all delivered');
    expect(calls.map((c) => [c.id, c.attempt])).toEqual([
      ['a', 1],
      ['x1', 1],
      ['x2', 1],
      ['a', 2],
      ['x3', 1],
      ['x4', 1],
    ]);
    expect(circuits).toEqual(['space1/fn:open', 'space1/fn:half-open', 'space1/fn:closed']);
    await queue.drain();
  });

  it('delivers what a closing circuit releases even while its line is full', async () => {
    const { queue, circuitBecomes } = recorded({ workers: 2, memoryLimit: 1, circuitBreaker: { failureThreshold: 1, openMs: 20 }, backoff: { baseMs: 60_000, capMs: 60_000 } });
    const { calls, handler } = gatedHandler();
    queue.start(handler);
    await queue.enqueue([delivery('g', 'fn2')]);
    await eventually(async () => (calls.length === 1 ? true : undefined), 'g in flight');
    const opened = circuitBecomes('open');
    await queue.enqueue([delivery('a')]);
    await eventually(async () => (calls.length === 2 ? true : undefined), 'a in flight');
    calls[1]?.reject(new Error('down'));
    await opened;
    // c waits on disk for the circuit; a's retry is a minute away, so a is the probe.
    await queue.enqueue([delivery('c')]);
    await eventually(async () => (calls.length === 3 ? true : undefined), 'the probe in flight');
    await queue.enqueue([delivery('y', 'fn2')]);
    expect(memory(queue).ready).toBe(1);
    calls[2]?.resolve();
    for (let n = 4; n <= 5; n++) {
      await eventually(async () => (calls.length === n ? true : undefined), `delivery ${n}`);
      calls[n - 1]?.resolve();
    }
    calls[0]?.resolve();
    await eventually(async () => (queue.backlog() === 0 ? true : undefined), 'all delivered');
    expect(calls.map((c) => [c.id, c.attempt])).toEqual([
      ['g', 1],
      ['a', 1],
      ['a', 2],
      ['y', 1],
      ['c', 1],
    ]);
    await queue.drain();
  });

  it('still reads what waits on disk after a wake while probe deliveries fill its line', async () => {
    const { queue, circuits } = recorded({ memoryLimit: 1, circuitBreaker: { failureThreshold: 1, openMs: 200 }, backoff: { baseMs: 60_000, capMs: 60_000 } });
    const probes: Array<(err: unknown) => void> = [];
    const delivered: string[] = [];
    queue.start(
      (d, attempt = 0) =>
        new Promise<void>((resolve, reject) => {
          if (d.deliveryId === 'a' && attempt === 2) probes.push(reject);
          else if (d.deliveryId !== 'x') reject(new Error('down'));
          else {
            delivered.push('x');
            resolve();
          }
        }),
    );
    await queue.enqueue([delivery('a', 'fnA'), delivery('b', 'fnB')]);
    await eventually(async () => (circuits.filter((c) => c.endsWith(':half-open')).length === 2 ? true : undefined), 'both circuits half-open');
    // a probes fnA in the only worker; b, fnB's probe, fills the line: x must wait on disk.
    expect(probes).toHaveLength(1);
    await queue.enqueue([delivery('x', 'fnX')]);
    expect(memory(queue)).toEqual({ ready: 1, held: 2, moreOnDisk: true });
    queue.wake(0);
    probes[0]?.(new Error('still down'));
    await eventually(async () => (delivered.length === 1 ? true : undefined), 'x delivered');
    await queue.drain();
  });

  it('leaves an open circuit open when a delivery sent before it opened is refused for good', async () => {
    const { queue, circuits } = recorded({ workers: 2, circuitBreaker: { failureThreshold: 1, openMs: 60_000 } });
    const { calls, handler } = gatedHandler();
    queue.start(handler);
    await queue.enqueue([delivery('a'), delivery('b')]);
    await eventually(async () => (calls.length === 2 ? true : undefined), 'both in flight');
    calls[0]?.reject(new Error('down'));
    await eventually(async () => (circuits.length === 1 ? true : undefined), 'the circuit open');
    calls[1]?.reject(new DeliveryFailure('target said 400', false));
    await eventually(async () => ((await queue.list('space1')).length === 1 ? true : undefined), 'b dead-lettered');
    expect(circuits).toEqual(['space1/fn:open']);
    await queue.drain();
  });

  it('lets only the probe reopen the circuit when the gateway cannot make the attempt', async () => {
    const { queue, circuits, metrics, circuitBecomes } = recorded({ workers: 2, circuitBreaker: { failureThreshold: 1, openMs: 20 }, backoff: { baseMs: 60_000, capMs: 60_000 } });
    const { calls, handler } = gatedHandler();
    queue.start(handler);
    const halfOpen = circuitBecomes('half-open');
    await queue.enqueue([delivery('a'), delivery('b')]);
    await eventually(async () => (calls.length === 2 ? true : undefined), 'both in flight');
    calls[0]?.reject(new Error('down'));
    await halfOpen;
    await eventually(async () => (calls.length === 3 ? true : undefined), 'the probe in flight');
    // b, sent before the circuit opened, cannot be attempted: the probe is still out.
    calls[1]?.reject(new ServiceUnavailableError('registry unavailable'));
    await eventually(async () => (metrics.retried.length === 2 ? true : undefined), 'b to retry');
    calls[2]?.resolve();
    await eventually(async () => (calls.length === 4 ? true : undefined), 'b released');
    calls[3]?.resolve();
    await eventually(async () => (queue.backlog() === 0 ? true : undefined), 'both delivered');
    expect(calls.map((c) => [c.id, c.attempt])).toEqual([
      ['a', 1],
      ['b', 1],
      ['a', 2],
      ['b', 1],
    ]);
    expect(circuits).toEqual(['space1/fn:open', 'space1/fn:half-open', 'space1/fn:closed']);
    await queue.drain();
  });

  it('reopens the circuit when the probe cannot be made, and probes again', async () => {
    const { queue, circuits } = recorded({ circuitBreaker: { failureThreshold: 1, openMs: 20, maxOpenMs: 20 } });
    let calls = 0;
    queue.start(async () => {
      calls++;
      if (calls === 1) throw new Error('down');
      if (calls === 2) throw new ServiceUnavailableError('registry unavailable');
    });
    await queue.enqueue([delivery('a')]);
    await eventually(async () => (queue.backlog() === 0 ? true : undefined), 'the delivery');
    expect(calls).toBe(3);
    expect(circuits).toEqual(['space1/fn:open', 'space1/fn:half-open', 'space1/fn:open', 'space1/fn:half-open', 'space1/fn:closed']);
    await queue.drain();
  });
});
