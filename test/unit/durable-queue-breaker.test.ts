import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DeliveryFailure } from '../../lib/delivery/queue';
import { DurableQueue } from '../../lib/delivery/sqlite';
import { ServiceUnavailableError } from '../../lib/errors';
import { noMetrics } from '../../lib/gateway/metrics';
import { silentLogger } from '../../lib/logger';
import { delivery, memory, queueDir, recorded, removeQueueDirs, type DiskRow } from '../support/durable-queue';
import { eventually } from '../support/waiting';

/**
 * The durable queue's bookkeeping seen from outside: rows on disk, attempts, metrics, log lines and the
 * circuit breaker's waiting. Kills the mutants the first durable-queue tests let survive.
 */

afterAll(removeQueueDirs);

describe('DurableQueue memory limit', () => {
  it('holds at most memoryLimit deliveries ready in memory, the rest on disk, and reads them when the line is empty', async () => {
    const { queue, rows } = recorded({ memoryLimit: 2 });
    const seen: string[] = [];
    const gates: Array<() => void> = [];
    queue.start(
      (d) =>
        new Promise<void>((resolve) => {
          seen.push(d.deliveryId);
          gates.push(resolve);
        }),
    );
    await queue.enqueue(['m1', 'm2', 'm3', 'm4', 'm5'].map((id) => delivery(id)));
    await eventually(async () => (seen.length === 1 ? true : undefined), 'the first delivery in flight');
    // m1 in flight, m2 ready, m3..m5 on disk only.
    expect(memory(queue)).toEqual({ ready: 1, held: 2, moreOnDisk: true });
    expect(rows().map((r) => r.id)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(queue.backlog()).toBe(5);
    for (let n = 1; n <= 5; n++) {
      await eventually(async () => (gates.length === n ? true : undefined), `delivery ${n}`);
      (gates[n - 1] as () => void)();
    }
    await eventually(async () => (queue.backlog() === 0 ? true : undefined), 'all delivered');
    await queue.drain();
    expect(seen).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(rows()).toEqual([]);
  });

  it('reads from disk only what fits, skipping the deliveries it holds already', async () => {
    const first = recorded();
    await first.queue.enqueue(['d1', 'd2', 'd3', 'd4', 'd5'].map((id) => delivery(id)));
    await first.queue.drain();
    const queue = new DurableQueue({ dataDir: first.dir, workers: 1, logger: silentLogger, metrics: noMetrics, memoryLimit: 3 });
    const seen: string[] = [];
    const gates: Array<() => void> = [];
    queue.start(
      (d) =>
        new Promise<void>((resolve) => {
          seen.push(d.deliveryId);
          gates.push(resolve);
        }),
    );
    expect(queue.backlog()).toBe(5);
    // d1 went to the worker; d2, d3 ready; d4, d5 on disk.
    expect(memory(queue)).toEqual({ ready: 2, held: 3, moreOnDisk: true });
    for (let n = 1; n <= 5; n++) {
      await eventually(async () => (gates.length === n ? true : undefined), `delivery ${n}`);
      (gates[n - 1] as () => void)();
    }
    await eventually(async () => (queue.backlog() === 0 ? true : undefined), 'all delivered');
    await queue.drain();
    expect(seen).toEqual(['d1', 'd2', 'd3', 'd4', 'd5']);
  });

  it('writes the deliveries of one turn in one commit and resolves each enqueue', async () => {
    const { queue, rows } = recorded();
    const results = await Promise.all([queue.enqueue([delivery('t1')]), queue.enqueue([delivery('t2'), delivery('t3')])]);
    expect(results).toEqual([[], []]);
    expect(rows().map((r) => [r.id, r.attempts, r.state, r.next_at === r.accepted_at])).toEqual([
      ['t1', 0, 'pending', true],
      ['t2', 0, 'pending', true],
      ['t3', 0, 'pending', true],
    ]);
    expect(queue.backlog()).toBe(3);
    await queue.drain();
  });
});

describe('DurableQueue file and probe', () => {
  it('creates its directory, names its file as told, writes ahead, and shows the database to onOpen', async () => {
    const parent = queueDir();
    const dataDir = join(parent, 'nested', 'deeper');
    let opened = false;
    const queue = new DurableQueue({ dataDir, file: 'worker-1.db', workers: 1, logger: silentLogger, metrics: noMetrics, onOpen: (db) => (opened = db.open) });
    expect(opened).toBe(true);
    await queue.enqueue([delivery('f')]);
    const reader = new Database(join(dataDir, 'worker-1.db'), { readonly: true });
    expect(reader.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(reader.prepare('SELECT id FROM deliveries').all()).toEqual([{ id: 'f' }]);
    reader.close();
    await queue.drain();
  });

  it('probes with a row as large as a big event, leaves nothing behind, and refuses once closed', async () => {
    const { queue } = recorded({
      // Room for a few small deliveries but not for a 256 KiB row.
      onOpen: (db) => db.pragma(`max_page_count = ${(db.pragma('page_count', { simple: true }) as number) + 16}`),
    });
    await expect(queue.probe()).rejects.toMatchObject({ code: 'SQLITE_FULL' });
    await queue.enqueue([delivery('small')]);
    expect(queue.backlog()).toBe(1);
    await queue.drain();
    await expect(queue.probe()).rejects.toThrow('the delivery queue is closed');

    const roomy = recorded();
    await expect(roomy.queue.probe()).resolves.toBeUndefined();
    const reader = new Database(join(roomy.dir, 'deliveries.db'), { readonly: true });
    expect(reader.prepare('SELECT COUNT(*) AS n FROM space_probe').get()).toEqual({ n: 0 });
    reader.close();
    await roomy.queue.drain();
  });

  it('hands out more than a thousand deliveries in order, each once (the line is compacted as it goes)', async () => {
    const { queue } = recorded();
    const ids = Array.from({ length: 1100 }, (_, i) => `n${String(i).padStart(4, '0')}`);
    const seen: string[] = [];
    queue.start(async (d) => {
      seen.push(d.deliveryId);
    });
    await queue.enqueue(ids.map((id) => delivery(id)));
    await eventually(async () => (seen.length >= 1100 && queue.backlog() === 0 ? true : undefined), 'every delivery');
    await queue.drain();
    expect(seen).toEqual(ids);
  });

  it('counts the latency in seconds and keeps a rejection that is not an Error as its text', async () => {
    const { queue, metrics } = recorded({ defaultRetry: { maxAttempts: 1, maxAgeSeconds: 60 } });
    queue.start(async (d) => {
      if (d.deliveryId === 'plain') return Promise.reject('plain refusal');
    });
    await queue.enqueue([delivery('ok'), delivery('plain')]);
    const letters = await eventually(async () => {
      const list = await queue.list('space1');
      return list.length > 0 ? list : undefined;
    }, 'the dead letter');
    expect(letters.map((l) => l.error)).toEqual(['plain refusal']);
    expect(metrics.latencies).toHaveLength(1);
    // Seconds, not milliseconds: a delivery on this machine takes well under a minute.
    expect(metrics.latencies[0]).toBeGreaterThanOrEqual(0);
    expect(metrics.latencies[0]).toBeLessThan(60);
    await queue.drain();
  });
});

describe('DurableQueue dead letters', () => {
  it('keeps the retry policy, attempts, error and times of a dead letter across a restart', async () => {
    const first = recorded();
    await first.queue.enqueue([{ ...delivery('p'), retry: { maxAttempts: 2, maxAgeSeconds: 60 } }, delivery('q')]);
    await first.queue.drain();
    expect(first.rows().map((r) => r.retry)).toEqual(['{"maxAttempts":2,"maxAgeSeconds":60}', null]);

    const dead: Array<[string, number, string]> = [];
    const { queue, metrics, log } = recorded({ dataDir: first.dir, onDeadLettered: (d, attempts, error) => dead.push([d.deliveryId, attempts, error]) });
    const attempts: Array<[string, number]> = [];
    queue.start(async (d, attempt = 0) => {
      attempts.push([d.deliveryId, attempt]);
      if (d.deliveryId === 'p') throw new Error('p down');
    });
    await eventually(async () => (dead.length === 1 ? true : undefined), 'p dead-lettered');
    await eventually(async () => (queue.backlog() === 0 ? true : undefined), 'q delivered');
    expect(attempts.filter(([id]) => id === 'p')).toEqual([
      ['p', 1],
      ['p', 2],
    ]);
    expect(dead).toEqual([['p', 2, 'p down']]);
    expect(metrics.retried).toEqual(['space1/job']);
    expect(metrics.dead).toEqual(['space1/job']);
    expect(metrics.latencies).toHaveLength(1);
    expect(log.filter(([level]) => level === 'warn')).toEqual([['warn', { space: 'space1', functionId: 'fn', deliveryId: 'p', error: 'p down' }, 'delivery dead-lettered']]);
    const [letter] = await eventually(async () => {
      const list = await queue.list('space1');
      return list.length > 0 ? list : undefined;
    }, 'the dead letter written');
    const [row] = first.rows();
    expect(row).toMatchObject({ id: 'p', state: 'dead', attempts: 2, last_error: 'p down' });
    expect(letter).toEqual({
      deliveryId: 'p',
      space: 'space1',
      subscriptionId: 'sub',
      functionId: 'fn',
      eventType: 'job',
      eventId: 'event-p',
      attempts: 2,
      acceptedAt: new Date((row as DiskRow).accepted_at).toISOString(),
      deadLetteredAt: new Date((row as DiskRow).dead_at as number).toISOString(),
      error: 'p down',
      event: { eventID: 'event-p' },
    });
    expect((row as DiskRow).dead_at).toBeGreaterThanOrEqual((row as DiskRow).accepted_at);
    await queue.drain();
  });

  it('replays and removes only in the space named, with attempts counted afresh', async () => {
    const { queue, rows } = recorded({ defaultRetry: { maxAttempts: 1, maxAgeSeconds: 60 } });
    let failing = true;
    const attempts: Array<[string, number]> = [];
    queue.start(async (d, attempt = 0) => {
      attempts.push([d.deliveryId, attempt]);
      if (failing) throw new Error('no');
    });
    await queue.enqueue([delivery('a'), delivery('b')]);
    await eventually(async () => ((await queue.list('space1')).length === 2 ? true : undefined), 'two dead letters');
    expect(queue.backlog()).toBe(0);
    expect(await queue.replay('space2', 'a')).toBe(0);
    expect(await queue.replay('space2')).toBe(0);
    expect(await queue.remove('space2', 'a')).toBe(0);
    expect(await queue.remove('space2')).toBe(0);
    expect(await queue.list('space2')).toEqual([]);
    const before = rows().find((r) => r.id === 'a') as DiskRow;
    failing = false;
    let hold!: () => void;
    const held = new Promise<void>((resolve) => (hold = resolve));
    queue.start(async (d, attempt = 0) => {
      attempts.push([d.deliveryId, attempt]);
      await held;
    });
    expect(await queue.replay('space1')).toBe(2);
    expect(queue.backlog()).toBe(2);
    const replayed = rows().find((r) => r.id === 'a') as DiskRow;
    expect(replayed).toMatchObject({ state: 'pending', attempts: 0, dead_at: null });
    expect(replayed.accepted_at).toBeGreaterThanOrEqual(before.accepted_at);
    expect(replayed.next_at).toBe(replayed.accepted_at);
    hold();
    await eventually(async () => (queue.backlog() === 0 ? true : undefined), 'the replayed deliveries');
    expect(attempts.map(([, attempt]) => attempt)).toEqual([1, 1, 1, 1]);
    await queue.drain();
    expect(rows()).toEqual([]);
  });

  it('does not touch a dead letter of another space with the same id', async () => {
    const { queue } = recorded({ defaultRetry: { maxAttempts: 1, maxAgeSeconds: 60 } });
    queue.start(async () => {
      throw new Error('no');
    });
    await queue.enqueue([delivery('x1')]);
    await queue.enqueue([{ ...delivery('x2'), space: 'space2' }]);
    await eventually(async () => ((await queue.list('space2')).length === 1 ? true : undefined), 'the dead letter of space2');
    await eventually(async () => ((await queue.list('space1')).length === 1 ? true : undefined), 'the dead letter of space1');
    expect(await queue.remove('space1', 'x2')).toBe(0);
    expect(await queue.replay('space1', 'x2')).toBe(0);
    expect(await queue.remove('space1')).toBe(1);
    expect((await queue.list('space2')).map((l) => l.deliveryId)).toEqual(['x2']);
    await queue.drain();
  });

  it('lets a queue that was never started answer for its file without delivering', async () => {
    const { queue } = recorded();
    await queue.enqueue([delivery('w')]);
    queue.wake(1);
    expect(queue.backlog()).toBe(1);
    expect(await queue.replay('space1')).toBe(0);
    expect(queue.backlog()).toBe(1);
    await queue.drain();
  });
});

describe('DurableQueue and the circuit breaker', () => {
  it('lets a gateway that cannot make the attempt retry without spending an attempt or opening the circuit', async () => {
    const { queue, circuits, metrics } = recorded({ circuitBreaker: { failureThreshold: 1, openMs: 60_000 } });
    const attempts: number[] = [];
    queue.start(async (_d, attempt = 0) => {
      attempts.push(attempt);
      if (attempts.length < 3) throw new ServiceUnavailableError('registry unavailable');
    });
    await queue.enqueue([delivery('s')]);
    await eventually(async () => (queue.backlog() === 0 ? true : undefined), 'the delivery');
    expect(attempts).toEqual([1, 1, 1]);
    expect(metrics.retried).toEqual(['space1/job', 'space1/job']);
    expect(circuits).toEqual([]);
    await queue.drain();
  });

  it('parks the deliveries of an open circuit on disk without attempting them or spending attempts', async () => {
    const { queue, rows, circuits, log, metrics, onCircuit } = recorded({ circuitBreaker: { failureThreshold: 2, openMs: 60_000 } });
    const attempts: Array<[string, number]> = [];
    queue.start(async (d, attempt = 0) => {
      attempts.push([d.deliveryId, attempt]);
      if (d.functionId === 'fn') throw new Error('down');
    });
    const opened = new Promise<void>((resolve) => onCircuit.push((state) => state === 'open' && resolve()));
    await queue.enqueue([delivery('a'), delivery('b'), delivery('other', 'fn2')]);
    await opened;
    await queue.enqueue([delivery('c')]);
    const parked = await eventually(async () => {
      const all = rows();
      const waiting = all.filter((r) => r.id !== 'other' && r.next_at - Date.now() > 50_000);
      return waiting.length === 3 ? all : undefined;
    }, 'three parked deliveries');
    const byId = Object.fromEntries(parked.map((r) => [r.id, r]));
    expect([byId.a?.attempts, byId.b?.attempts, byId.c?.attempts]).toEqual([1, 1, 0]);
    expect(byId.c?.next_at).toBeGreaterThanOrEqual((byId.c?.accepted_at ?? 0) + 60_000);
    expect(attempts.filter(([id]) => id === 'other')).toEqual([['other', 1]]);
    expect(attempts.filter(([id]) => id !== 'other')).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
    expect(circuits).toEqual(['space1/fn:open']);
    expect(log).toContainEqual(['warn', { space: 'space1', functionId: 'fn', from: 'closed', to: 'open' }, 'target of function "fn" keeps failing: circuit open, its deliveries wait']);
    expect(metrics.retried).toEqual(['space1/job', 'space1/job']);
    expect(queue.backlog()).toBe(3);
    await queue.drain();
  });

  it('probes with one waiting delivery and releases all the others once the probe goes through', async () => {
    const { queue, circuits, log, onCircuit, rows } = recorded({ circuitBreaker: { failureThreshold: 1, openMs: 100 } });
    let failing = true;
    onCircuit.push((state) => {
      if (state === 'open') failing = false;
    });
    const attempts: Array<[string, number]> = [];
    queue.start(async (d, attempt = 0) => {
      attempts.push([d.deliveryId, attempt]);
      if (failing) throw new Error('down');
    });
    await queue.enqueue([delivery('a'), delivery('b'), delivery('c')]);
    await eventually(async () => (queue.backlog() === 0 ? true : undefined), 'every delivery');
    const counts: Record<string, number[]> = {};
    for (const [id, attempt] of attempts) (counts[id] ??= []).push(attempt);
    expect(counts).toEqual({ a: [1, 2], b: [1], c: [1] });
    expect(circuits).toEqual(['space1/fn:open', 'space1/fn:half-open', 'space1/fn:closed']);
    expect(log).toContainEqual(['info', { space: 'space1', functionId: 'fn', from: 'open', to: 'half-open' }, 'circuit of function "fn" half-open']);
    expect(log).toContainEqual(['info', { space: 'space1', functionId: 'fn', from: 'half-open', to: 'closed' }, 'circuit of function "fn" closed']);
    expect(log).toContainEqual(['info', { space: 'space1', functionId: 'fn', released: 3 }, 'target reachable again: releasing its waiting deliveries']);
    await queue.drain();
    expect(rows()).toEqual([]);
  });

  it('closes the circuit on a probe refused for good, and dead-letters that probe', async () => {
    const { queue, circuits, onCircuit } = recorded({ circuitBreaker: { failureThreshold: 1, openMs: 50 } });
    let refuse = false;
    onCircuit.push((state) => {
      if (state === 'open') refuse = true;
    });
    const attempts: Array<[string, number]> = [];
    queue.start(async (d, attempt = 0) => {
      attempts.push([d.deliveryId, attempt]);
      if (refuse) throw new DeliveryFailure('target said 400', false);
      throw new Error('down');
    });
    await queue.enqueue([delivery('r')]);
    const letters = await eventually(async () => {
      const list = await queue.list('space1');
      return list.length > 0 ? list : undefined;
    }, 'the probe dead-lettered');
    expect(circuits).toEqual(['space1/fn:open', 'space1/fn:half-open', 'space1/fn:closed']);
    expect(letters.map((l) => [l.deliveryId, l.attempts, l.error])).toEqual([['r', 2, 'target said 400']]);
    expect(queue.backlog()).toBe(0);
    await queue.drain();
  });

  it('opens the circuit again when the probe fails', async () => {
    const { queue, circuits, onCircuit } = recorded({ circuitBreaker: { failureThreshold: 1, openMs: 50, maxOpenMs: 50 } });
    let probes = 0;
    onCircuit.push((state) => {
      if (state === 'half-open') probes++;
    });
    queue.start(async () => {
      if (probes < 2) throw new Error('down');
    });
    await queue.enqueue([delivery('a')]);
    await eventually(async () => (queue.backlog() === 0 ? true : undefined), 'the delivery');
    expect(circuits).toEqual(['space1/fn:open', 'space1/fn:half-open', 'space1/fn:open', 'space1/fn:half-open', 'space1/fn:closed']);
    await queue.drain();
  });

  it('runs without a circuit breaker when told so', async () => {
    const { queue, circuits } = recorded({ circuitBreaker: false, defaultRetry: { maxAttempts: 6, maxAgeSeconds: 60 } });
    const attempts: number[] = [];
    queue.start(async (_d, attempt = 0) => {
      attempts.push(attempt);
      throw new Error('down');
    });
    await queue.enqueue([delivery('n')]);
    await eventually(async () => (queue.backlog() === 0 ? true : undefined), 'the dead letter');
    expect(attempts).toEqual([1, 2, 3, 4, 5, 6]);
    expect(circuits).toEqual([]);
    await queue.drain();
  });
});
