/** One event on its way to one async subscriber. */
export interface Delivery {
  /** Stable across retries, so that targets can de-duplicate. */
  deliveryId: string;
  space: string;
  subscriptionId: string;
  functionId: string;
  eventType: string;
  eventId: string;
  /** The event, serialised once for every subscriber of it. */
  payload: string;
}

/** Calls the target of one delivery; rejects when the call failed. */
export type DeliveryHandler = (delivery: Delivery) => Promise<void>;

/**
 * The async delivery port. `enqueue` resolves when the deliveries are accepted (persisted, where the
 * queue is durable): only then may the gateway answer 202.
 */
export interface DeliveryQueue {
  /** Accepts what it can and returns the deliveries it refused (a full backlog). */
  enqueue(deliveries: Delivery[]): Promise<Delivery[]>;
  /** Starts the workers. */
  start(handler: DeliveryHandler): void;
  /** Deliveries accepted and not yet finished. */
  backlog(): number;
  /** Stops accepting and resolves once accepted work is finished (or kept, where durable). */
  drain(): Promise<void>;
}
