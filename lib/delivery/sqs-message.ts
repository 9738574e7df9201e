import type { Delivery } from './queue';

/** A delivery as an SQS message body. */
export function deliveryToMessage(delivery: Delivery): string {
  return JSON.stringify(delivery);
}

/**
 * Message attributes of a delivery's message: its W3C trace context (also in the body, which is what
 * the worker reads), so that tools reading SQS messages (and AWS's own tracing) see the trace too.
 */
export function deliveryMessageAttributes(delivery: Delivery): Record<string, { DataType: 'String'; StringValue: string }> | undefined {
  if (!delivery.traceparent) return undefined;
  const attributes: Record<string, { DataType: 'String'; StringValue: string }> = { traceparent: { DataType: 'String', StringValue: delivery.traceparent } };
  if (delivery.tracestate) attributes.tracestate = { DataType: 'String', StringValue: delivery.tracestate };
  return attributes;
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
