import type { CircuitState } from './circuit-breaker';

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
  /** The subscription's retry policy, when it set one. */
  retry?: RetryPolicy;
  /** W3C trace context of the request that accepted it, so that every attempt and replay joins that trace. */
  traceparent?: string;
  tracestate?: string;
}

/** Told of a change of a target's circuit breaker (the metrics' `circuitChanged`). */
export type CircuitReport = (space: string, functionId: string, state: CircuitState) => void;

/** Calls the target of one delivery (`attempt` counts from 1, where the queue counts); rejects when the call failed. */
export type DeliveryHandler = (delivery: Delivery, attempt?: number) => Promise<void>;

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
  /** Where a queue with circuit breakers of its own (SQS's consumer) reports their changes. */
  reportCircuits?(report: CircuitReport): void;
}

/** How long and how often a failed delivery is retried before it is dead-lettered. */
export interface RetryPolicy {
  maxAttempts: number;
  maxAgeSeconds: number;
}

/** A failed delivery attempt, with whether trying again later could succeed. */
export class DeliveryFailure extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DeliveryFailure';
  }
}

/** What a queue knows of a delivery that ran out of retries, besides the delivery itself. */
export interface DeadLetterRecord {
  attempts: number;
  /** When the event was accepted, ISO 8601. */
  acceptedAt: string;
  /** When it was dead-lettered, ISO 8601, where the queue knows it (SQS's redrive does not say). */
  deadLetteredAt?: string;
  error: string;
}

/** A delivery that ran out of retries, kept for an operator to inspect, replay or delete. */
export interface DeadLetter extends Pick<Delivery, 'deliveryId' | 'space' | 'subscriptionId' | 'functionId' | 'eventType' | 'eventId'>, DeadLetterRecord {
  event: unknown;
}

/** A dead letter as the dead-letter endpoints show it: the delivery's identity, the queue's record, the event. */
export function deadLetterOf(delivery: Delivery, record: DeadLetterRecord): DeadLetter {
  const { deliveryId, space, subscriptionId, functionId, eventType, eventId } = delivery;
  return { deliveryId, space, subscriptionId, functionId, eventType, eventId, ...record, event: eventOfPayload(delivery.payload) };
}

/** Where dead letters are kept: listed, replayed into delivery, deleted. */
export interface DeadLetters {
  list(space: string): Promise<DeadLetter[]>;
  /** Puts dead letters of a space (one, or all when `deliveryId` is absent) back into delivery; returns how many. */
  replay(space: string, deliveryId?: string): Promise<number>;
  /** Deletes dead letters of a space (one, or all); returns how many. */
  remove(space: string, deliveryId?: string): Promise<number>;
}

/** A delivery's payload as the event a dead letter shows; a payload that is not JSON is shown as it is. */
function eventOfPayload(payload: string): unknown {
  try {
    return JSON.parse(payload);
  } catch {
    return payload;
  }
}
