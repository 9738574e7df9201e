import type { DeliveryQueue } from '../delivery/queue';
import { gatewayEvent } from '../events/parse';
import type { Logger } from '../logger';
import type { RoutingTable } from '../routing/table';
import { acceptingRoutes, deliveriesFor } from './delivery-form';

/**
 * Emits the gateway's own events to async subscribers of a space. The data is built only when
 * somebody subscribed, so that unobserved system events cost one map lookup.
 */
export class SystemEvents {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly queue: DeliveryQueue,
    private readonly logger: Logger,
    /** Told when a subscriber's filters keep a system event from it. */
    private readonly onFiltered: (space: string, type: string) => void = () => {},
  ) {}

  emit(table: RoutingTable, space: string, type: string, data: () => unknown): void {
    const candidates = table.asyncRoutesOfType(space, type);
    if (candidates.length === 0) return;
    const event = gatewayEvent(type, data(), 'application/json');
    const routes = acceptingRoutes(candidates, event, () => this.onFiltered(space, type));
    if (routes.length === 0) return;
    const deliveries = deliveriesFor(space, routes, event);
    const queued = this.queue.enqueue(deliveries).then(
      (refused) => {
        if (refused.length > 0) this.logger.warn({ space, type, count: refused.length }, 'system event dropped: backlog full');
      },
      (err: unknown) => this.logger.error({ err, space, type }, 'system event could not be queued'),
    );
    this.pending.add(queued);
    void queued.finally(() => this.pending.delete(queued));
  }

  /**
   * Resolves once the system events emitted so far are queued. The router waits for it before it
   * answers, so that on Lambda no send is still in flight when the environment is frozen, and locally
   * system events are persisted like the event itself. Costs nothing when none was emitted.
   */
  settled(): Promise<void> | undefined {
    return this.pending.size > 0 ? Promise.all(this.pending).then(() => undefined) : undefined;
  }
}
