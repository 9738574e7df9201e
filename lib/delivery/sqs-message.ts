import type { Delivery } from './queue';

/** A delivery as an SQS message body. */
export function deliveryToMessage(delivery: Delivery): string {
  return JSON.stringify(delivery);
}

/** The delivery an SQS message body carries; throws on a body that is not one. */
export function deliveryFromMessage(body: string): Delivery {
  const value = JSON.parse(body) as Partial<Delivery>;
  const fields = ['deliveryId', 'space', 'subscriptionId', 'functionId', 'eventType', 'eventId', 'payload'] as const;
  for (const field of fields) {
    if (typeof value[field] !== 'string') throw new Error(`message is not a delivery: "${field}" missing`);
  }
  return value as Delivery;
}

/**
 * The largest SQS message the delivery queue takes (SQS's long-standing limit, set on the queue by the
 * stack): a delivery beyond it is refused before sending, and the Events API answers 413.
 */
export const SQS_MAX_MESSAGE_BYTES = 256 * 1024;
