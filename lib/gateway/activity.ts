import type { Delivery, DeliveryHandler } from '../delivery/queue';

/** What every item of the activity feed says: where and when. */
interface ActivityBase {
  space: string;
  /** ISO 8601. */
  time: string;
  eventType: string;
  eventId: string;
}

/** An event a space received (after validation, before routing). */
export interface EventReceived extends ActivityBase {
  kind: 'event.received';
  source: string;
  /** Whether a subscriber of the space matched it (false: registered type, but no route for its method and path). */
  routed: boolean;
  /** Bytes of the event's JSON. */
  size: number;
  /** The event itself when its JSON is at most EVENT_EXCERPT_LIMIT bytes; otherwise `truncated`. */
  event?: unknown;
  truncated?: true;
}

/** An event refused because its data failed its type's schema. */
export interface EventInvalid extends ActivityBase {
  kind: 'event.invalid';
  error: string;
}

/** One call of a subscriber's function: sync (answering the request) or async (a queued delivery). */
interface DeliveryBase extends ActivityBase {
  functionId: string;
  subscriptionId?: string;
  mode: 'sync' | 'async';
  /** 1 for the first try; absent where the queue does not count (SQS). */
  attempt?: number;
  latencyMs: number;
}

export interface DeliverySucceeded extends DeliveryBase {
  kind: 'delivery.succeeded';
}

export interface DeliveryFailed extends DeliveryBase {
  kind: 'delivery.failed';
  error: string;
}

/** An async delivery that ran out of retries. */
export interface DeliveryDeadLettered extends ActivityBase {
  kind: 'delivery.deadlettered';
  functionId: string;
  subscriptionId: string;
  deliveryId: string;
  attempt: number;
  error: string;
}

/** Anything the live tail shows. */
export type Activity = EventReceived | EventInvalid | DeliverySucceeded | DeliveryFailed | DeliveryDeadLettered;

export type ActivityListener = (item: Activity) => void;

/** Events larger than this are announced without their body. */
export const EVENT_EXCERPT_LIMIT = 4096;

/**
 * An in-process publish/subscribe feed of what happens in the gateway: the router and delivery publish,
 * live tails subscribe. Publishers check `listening` first and build nothing when no one listens, so the
 * feed costs one property read per event on the hot path. A relay across processes subscribes here
 * and publishes what it receives from the others.
 */
export class ActivityFeed {
  private listeners: ActivityListener[] = [];
  private readonly watched = new Map<string, number>();
  /** Whether any listener is subscribed; read before building an item. */
  listening = false;

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: ActivityListener): () => void {
    this.listeners = [...this.listeners, listener];
    this.listening = true;
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
      this.listening = this.listeners.length > 0;
    };
  }

  /**
   * Says that a listener wants the events of a space even when nothing in the space routes them (a
   * tail does); returns the function that takes that back. Publishers of received events loop over these.
   */
  watch(space: string): () => void {
    this.watched.set(space, (this.watched.get(space) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.watched.get(space) ?? 1) - 1;
      if (left > 0) this.watched.set(space, left);
      else this.watched.delete(space);
    };
  }

  /** The spaces some listener watches. */
  watchedSpaces(): Iterable<string> {
    return this.watched.keys();
  }

  /** Hands an item to every listener; a listener that throws does not stop the others or the publisher. */
  publish(item: Activity): void {
    for (const listener of this.listeners) {
      try {
        listener(item);
      } catch {
        // A listener is a tail writing to a socket: its failure is its own.
      }
    }
  }

  get size(): number {
    return this.listeners.length;
  }
}

/** What a received item shows of the event: its size, and the event itself when small. Measured once per event. */
export function eventExcerpt(event: unknown): Pick<EventReceived, 'size' | 'event' | 'truncated'> {
  const size = Buffer.byteLength(JSON.stringify(event));
  return size <= EVENT_EXCERPT_LIMIT ? { size, event } : { size, truncated: true };
}

/**
 * Wraps the queue's delivery handler so that each async call is announced with its outcome and latency,
 * only while someone listens.
 */
export function announcedDeliveries(deliver: DeliveryHandler, feed: ActivityFeed): DeliveryHandler {
  return async (delivery: Delivery, attempt?: number) => {
    if (!feed.listening) return deliver(delivery, attempt);
    const started = performance.now();
    try {
      await deliver(delivery, attempt);
      feed.publish({ kind: 'delivery.succeeded', ...deliveryFields(delivery, attempt, started) });
    } catch (err) {
      feed.publish({ kind: 'delivery.failed', ...deliveryFields(delivery, attempt, started), error: err instanceof Error ? err.message : String(err) });
      throw err;
    }
  };
}

function deliveryFields(delivery: Delivery, attempt: number | undefined, started: number): Omit<DeliveryBase, 'kind'> {
  return {
    space: delivery.space,
    time: new Date().toISOString(),
    eventType: delivery.eventType,
    eventId: delivery.eventId,
    functionId: delivery.functionId,
    subscriptionId: delivery.subscriptionId,
    mode: 'async',
    ...(attempt === undefined ? {} : { attempt }),
    latencyMs: Math.round((performance.now() - started) * 10) / 10,
  };
}
