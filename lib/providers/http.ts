import { createHmac, randomUUID } from 'node:crypto';
import { Agent, errors, request, type Dispatcher } from 'undici';
import type { HttpConfig } from './config';
import { TargetError, type InvocationContext, type Provider } from './provider';
import { guardedConnector, TargetRefusedError, type TargetNetworkPolicy } from './target-network';

/** Options of HTTP calls to targets. */
export interface HttpCallOptions {
  /** Connection pool shared by every HTTP target (keep-alive). */
  dispatcher: Dispatcher;
  /** Time allowed for the whole call, in milliseconds. */
  timeoutMs: number;
  /** Largest answer accepted, in bytes. */
  maxResponseBytes: number;
}

/**
 * A keep-alive connection pool for target calls. Every connection it opens passes the target network
 * policy on its resolved address, so every provider sharing the pool is guarded.
 */
export function createHttpAgent(policy: TargetNetworkPolicy = {}): Agent {
  return new Agent({ keepAliveTimeout: 30_000, connections: 256, pipelining: 1, connect: guardedConnector(policy) });
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
    : { 'content-type': 'application/cloudevents+json', ...headers };
  if (context?.deliveryId) callHeaders['event-gateway-delivery-id'] = context.deliveryId;
  if (context?.eventId) callHeaders['event-gateway-event-id'] = context.eventId;
  let response: Dispatcher.ResponseData;
  try {
    response = await request(url, {
      method: 'POST',
      body: binary ? binary.body : payload,
      headers: callHeaders,
      dispatcher: options.dispatcher,
      // Per-phase timeouts rather than an AbortSignal: no timer object and listener per call on the hot path.
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  } catch (err) {
    throw toTargetError(err, url);
  }
  const body = await readLimited(response.body, options.maxResponseBytes, url);
  if (response.statusCode < 200 || response.statusCode > 299) {
    throw new TargetError('status', `target ${safeUrl(url)} answered ${response.statusCode}`, { statusCode: response.statusCode });
  }
  return body;
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

async function readLimited(body: Dispatcher.ResponseData['body'], limit: number, url: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        body.destroy();
        throw new TargetError('status', `answer of target ${safeUrl(url)} exceeds ${limit} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    throw err instanceof TargetError ? err : toTargetError(err, url);
  }
  return Buffer.concat(chunks);
}

/** A URL fit for logs and messages: user info and query (where keys like Azure's `code` travel) removed. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

function toTargetError(err: unknown, url: string): TargetError {
  const name = (err as { name?: string }).name;
  if (name === 'TimeoutError' || name === 'AbortError' || err instanceof errors.HeadersTimeoutError || err instanceof errors.BodyTimeoutError) {
    return new TargetError('timeout', `call to ${safeUrl(url)} timed out`, { cause: err });
  }
  if (err instanceof TargetRefusedError) return new TargetError('refused', `call to ${safeUrl(url)} refused: ${err.message}`, { cause: err });
  const code = (err as { code?: string }).code ?? 'error';
  return new TargetError('unreachable', `call to ${safeUrl(url)} failed: ${code}`, { cause: err });
}
