import { existsSync, readdirSync } from 'node:fs';
import type { Logger } from '../logger';
import type { DeadLetter, DeadLetters } from './queue';
import { DurableQueue, type DeliveryMetrics } from './sqlite';

/**
 * The delivery database of cluster worker `slot`: worker 0 keeps the single process's file, so that
 * going from one process to several (and back) loses no pending delivery of it.
 */
export function shardFile(slot: number): string {
  return slot === 0 ? 'deliveries.db' : `deliveries-${slot}.db`;
}

/** Shard files in a data directory beyond the `count` a cluster uses: what a smaller cluster left behind. */
export function strayShards(dataDir: string, count: number): string[] {
  if (!existsSync(dataDir)) return [];
  return readdirSync(dataDir).filter((name) => {
    const match = /^deliveries-(\d+)\.db$/.exec(name);
    return match !== null && Number(match[1]) >= count;
  });
}

const NO_METRICS: DeliveryMetrics = { deliveryRetried: () => {}, deliveryDeadLettered: () => {}, observeDeliveryLatency: () => {} };

/**
 * The dead letters of every worker's delivery database, for the cluster's primary (which serves the
 * Config API). It opens each file beside its worker (SQLite in WAL mode with a busy timeout lets both
 * write), never delivers itself, and tells a worker when a replay put deliveries back in its file.
 */
export class ShardDeadLetters implements DeadLetters {
  private readonly shards: DurableQueue[];

  constructor(
    dataDir: string,
    count: number,
    logger: Logger,
    /** Told that `added` deliveries of worker `slot`'s file are pending again. */
    private readonly onReplayed: (slot: number, added: number) => void,
  ) {
    this.shards = Array.from({ length: count }, (_, slot) => new DurableQueue({ dataDir, file: shardFile(slot), workers: 1, logger, metrics: NO_METRICS }));
  }

  async list(space: string): Promise<DeadLetter[]> {
    const all = (await Promise.all(this.shards.map((shard) => shard.list(space)))).flat();
    return all.sort((a, b) => (a.deadLetteredAt ?? '').localeCompare(b.deadLetteredAt ?? '') || a.deliveryId.localeCompare(b.deliveryId));
  }

  async replay(space: string, deliveryId?: string): Promise<number> {
    let total = 0;
    for (const [slot, shard] of this.shards.entries()) {
      const replayed = await shard.replay(space, deliveryId);
      if (replayed > 0) this.onReplayed(slot, replayed);
      total += replayed;
    }
    return total;
  }

  async remove(space: string, deliveryId?: string): Promise<number> {
    let total = 0;
    for (const shard of this.shards) total += await shard.remove(space, deliveryId);
    return total;
  }

  async close(): Promise<void> {
    await Promise.all(this.shards.map((shard) => shard.drain()));
  }
}
