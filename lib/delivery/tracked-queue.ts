import { GatewayError, QueueUnavailableError } from '../errors';
import type { DependencyHealth } from '../health';
import type { Delivery, DeliveryHandler, DeliveryQueue } from './queue';

/**
 * The delivery queue as the router uses it: an enqueue that rejects means the deliveries were not
 * stored, whatever the queue (SQLite full or locked, SQS failing after its retries). That is reported
 * to `health` and raised as QueueUnavailableError, a 503 with Retry-After — never a 202. Refusals of
 * the event itself (a GatewayError below 500, e.g. a 413) pass through as they are.
 */
export class TrackedQueue implements DeliveryQueue {
  constructor(
    private readonly queue: DeliveryQueue,
    readonly health: DependencyHealth,
  ) {}

  enqueue(deliveries: Delivery[]): Promise<Delivery[]> {
    return this.queue.enqueue(deliveries).then(
      (refused) => {
        this.health.succeeded();
        return refused;
      },
      (err: unknown) => {
        // A refusal of the event itself (too large for the queue, say) is the client's 4xx: the queue works.
        if (err instanceof GatewayError && err.statusCode < 500) throw err;
        this.health.failed(err);
        throw new QueueUnavailableError({ cause: err });
      },
    );
  }

  start(handler: DeliveryHandler): void {
    this.queue.start(handler);
  }

  backlog(): number {
    return this.queue.backlog();
  }

  drain(): Promise<void> {
    this.health.close();
    return this.queue.drain();
  }
}
