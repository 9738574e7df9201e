import type { Delivery, DeliveryHandler, DeliveryQueue } from './queue';

/** Options of the in-process queue: the original's `--workers` and `--workers-backlog`. */
export interface InProcessQueueOptions {
  workers: number;
  backlog: number;
  /** Told about a failed delivery; the in-process queue does not retry. */
  onFailure?: (delivery: Delivery, error: unknown) => void;
}

/**
 * A bounded in-memory queue served by a fixed number of workers, as in the original gateway: fast,
 * but a full backlog refuses deliveries and a crash loses what is queued.
 */
export class InProcessQueue implements DeliveryQueue {
  private readonly pending: Delivery[] = [];
  private head = 0;
  private active = 0;
  private handler?: DeliveryHandler;
  private accepting = true;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: InProcessQueueOptions) {}

  async enqueue(deliveries: Delivery[]): Promise<Delivery[]> {
    if (!this.accepting) return deliveries;
    const room = Math.max(0, this.options.backlog - this.backlog());
    const accepted = deliveries.slice(0, room);
    for (const delivery of accepted) this.pending.push(delivery);
    this.pump();
    return deliveries.slice(room);
  }

  start(handler: DeliveryHandler): void {
    this.handler = handler;
    this.pump();
  }

  backlog(): number {
    return this.pending.length - this.head + this.active;
  }

  async drain(): Promise<void> {
    this.accepting = false;
    if (this.backlog() === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    const handler = this.handler;
    if (!handler) return;
    while (this.active < this.options.workers && this.head < this.pending.length) {
      const delivery = this.pending[this.head++] as Delivery;
      this.compact();
      this.active++;
      handler(delivery, 1)
        .catch((err: unknown) => this.options.onFailure?.(delivery, err))
        .finally(() => {
          this.active--;
          this.pump();
          if (this.backlog() === 0) this.notifyIdle();
        });
    }
  }

  /** Drops consumed entries now and then, so that the array does not grow without end. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
