import { rmSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Delivery } from '../../lib/delivery/queue';
import { DurableQueue } from '../../lib/delivery/sqlite';
import { noMetrics } from '../../lib/gateway/metrics';
import { silentLogger } from '../../lib/logger';
import { tempDir } from '../support/gateway';
import { eventually } from '../support/waiting';

// V8's collector, reachable without starting jest with --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('the durable queue’s memory', () => {
  const dir = tempDir('eg-queue-memory-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps no delivery alive once it was delivered', async () => {
    const queue = new DurableQueue({ dataDir: dir, workers: 4, logger: silentLogger, metrics: noMetrics });
    let delivered = 0;
    queue.start(async () => {
      delivered++;
    });
    // Payloads of 64 KB: a queue that kept finished deliveries (say, in its ready line until compaction) would hold megabytes.
    const refs: Array<WeakRef<Delivery>> = [];
    await (async () => {
      const deliveries = Array.from({ length: 200 }, (_, i) => ({
        deliveryId: `d${i}`,
        space: 's',
        subscriptionId: 'sub',
        functionId: 'fn',
        eventType: 'job',
        eventId: `e${i}`,
        payload: JSON.stringify({ eventID: `e${i}`, pad: 'x'.repeat(64 * 1024) }),
      }));
      for (const d of deliveries) refs.push(new WeakRef(d));
      expect(await queue.enqueue(deliveries)).toEqual([]);
    })();
    await eventually(async () => (delivered === 200 && queue.backlog() === 0 ? true : undefined), 'every delivery made');
    // Outcomes are written in batches, a turn later: collect until nothing is left, or fail after the deadline.
    const alive = () => refs.filter((r) => r.deref() !== undefined).length;
    await eventually(async () => {
      gc();
      return alive() === 0 ? true : undefined;
    }, `finished deliveries collected (${alive()} still alive)`, 5000).catch(() => undefined);
    expect(alive()).toBe(0);
    await queue.drain();
  });
});
