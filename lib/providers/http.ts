import { createHmac, randomUUID } from 'node:crypto';
import type { HttpConfig } from './config';
import { safeUrl, type HttpTransport } from './http-transport';
import { TargetError, type InvocationContext, type Provider } from './provider';

export { safeUrl };

/** Options of HTTP calls to targets. */
export interface HttpCallOptions {
  /** How calls are made: undici on the local server, node:http on Lambda; both keep connections alive and apply the target network policy. */
  transport: HttpTransport;
  /** Time allowed for the answer's headers, and then between chunks of its body, in milliseconds. */
  timeoutMs: number;
  /** Largest answer accepted, in bytes. */
  maxResponseBytes: number;
}

/**
 * Posts the event to a URL (structured, or binary when the context carries a binary message) and
 * returns the answer body. A non-2xx answer is a failed call: the
 * target did not take the event.
 */
export async function postEvent(
  url: string,
  payload: string,
  headers: Record<string, string>,
  options: HttpCallOptions,
  context?: InvocationContext,
): Promise<Buffer> {
  const binary = context?.binary;
  const callHeaders: Record<string, string> = binary
    ? { 'content-type': 'application/octet-stream', ...headers, ...binary.headers }
    : { 'content-type': context?.contentType ?? 'application/cloudevents+json', ...headers };
  if (context?.deliveryId) callHeaders['event-gateway-delivery-id'] = context.deliveryId;
  if (context?.eventId) callHeaders['event-gateway-event-id'] = context.eventId;
  if (context?.traceparent) {
    callHeaders.traceparent = context.traceparent;
    if (context.tracestate) callHeaders.tracestate = context.tracestate;
  }
  const answer = await options.transport(url, {
    method: 'POST',
    headers: callHeaders,
    body: binary ? binary.body : payload,
    timeoutMs: options.timeoutMs,
    maxResponseBytes: options.maxResponseBytes,
    ...(context?.signal ? { signal: context.signal } : {}),
  });
  if (answer.statusCode < 200 || answer.statusCode > 299) {
    throw new TargetError('status', `target ${safeUrl(url)} answered ${answer.statusCode}`, { statusCode: answer.statusCode, answer: answer.body });
  }
  return answer.body;
}

/**
 * The `http` provider: the event is POSTed as a structured CloudEvent to the function's URL, signed
 * with Standard Webhooks headers when the function has a signing secret.
 */
export function httpProvider(config: HttpConfig, options: HttpCallOptions): Provider {
  const key = config.signingSecret ? signingKey(config.signingSecret) : undefined;
  return {
    invoke: (payload, context) => postEvent(config.url, payload, key ? webhookHeaders(key, payload, context) : {}, options, context),
  };
}

const WHSEC = 'whsec_';

/** The HMAC key of a signing secret: a `whsec_` secret is base64 (Standard Webhooks), any other is used as its UTF-8 bytes. */
export function signingKey(secret: string): Buffer {
  return secret.startsWith(WHSEC) ? Buffer.from(secret.slice(WHSEC.length), 'base64') : Buffer.from(secret, 'utf8');
}

/**
 * Standard Webhooks headers of one attempt: the id is the delivery's (stable across retries, so
 * targets can de-duplicate), the timestamp is now, the signature covers `id.timestamp.body`.
 */
export function webhookHeaders(key: Buffer, payload: string, context?: InvocationContext, now = Date.now()): Record<string, string> {
  const id = context?.deliveryId ?? context?.eventId ?? randomUUID();
  const timestamp = Math.floor(now / 1000).toString();
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${payload}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
}
