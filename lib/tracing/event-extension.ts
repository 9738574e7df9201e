import type { PropagatedContext } from './trace-context';

/**
 * The event (JSON) carrying a trace context in the CloudEvents distributed-tracing extension, for
 * targets that receive nothing but the event (Kinesis, Firehose, EventBridge): a 1.0 event gets the
 * `traceparent` / `tracestate` attributes, a 0.1 event `extensions.traceparent` / `extensions.tracestate`.
 * An event that already carries the extension keeps it: the extension names where the event was
 * created, which the gateway must not rewrite.
 */
export function eventWithTraceContext(payload: string, context: Partial<PropagatedContext> | undefined): string {
  if (!context?.traceparent) return payload;
  let event: unknown;
  try {
    event = JSON.parse(payload);
  } catch {
    return payload;
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return payload;
  const fields = { traceparent: context.traceparent, ...(context.tracestate ? { tracestate: context.tracestate } : {}) };
  const record = event as Record<string, unknown>;
  if (typeof record.specversion === 'string') {
    return record.traceparent === undefined ? JSON.stringify({ ...record, ...fields }) : payload;
  }
  const extensions = typeof record.extensions === 'object' && record.extensions !== null ? (record.extensions as Record<string, unknown>) : {};
  return extensions.traceparent === undefined ? JSON.stringify({ ...record, extensions: { ...extensions, ...fields } }) : payload;
}
