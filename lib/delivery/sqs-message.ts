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
