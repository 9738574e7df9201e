import { Agent, errors, request, type Dispatcher } from 'undici';
import type { HttpConfig } from './config';
import { TargetError, type InvocationContext, type Provider } from './provider';

/** Options of HTTP calls to targets. */
export interface HttpCallOptions {
  /** Connection pool shared by every HTTP target (keep-alive). */
  dispatcher: Dispatcher;
  /** Time allowed for the whole call, in milliseconds. */
  timeoutMs: number;
  /** Largest answer accepted, in bytes. */
  maxResponseBytes: number;
}

/** A keep-alive connection pool for target calls. */
export function createHttpAgent(): Agent {
  return new Agent({ keepAliveTimeout: 30_000, connections: 256, pipelining: 1 });
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
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (err) {
    throw toTargetError(err, url);
  }
  const body = await readLimited(response.body, options.maxResponseBytes, url);
  if (response.statusCode < 200 || response.statusCode > 299) {
    throw new TargetError('status', `target ${url} answered ${response.statusCode}`, { statusCode: response.statusCode });
  }
  return body;
}

/** The `http` provider: the event is POSTed as a structured CloudEvent to the function's URL. */
export function httpProvider(config: HttpConfig, options: HttpCallOptions): Provider {
  return { invoke: (payload, context) => postEvent(config.url, payload, {}, options, context) };
}

async function readLimited(body: Dispatcher.ResponseData['body'], limit: number, url: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        body.destroy();
        throw new TargetError('status', `answer of target ${url} exceeds ${limit} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    throw err instanceof TargetError ? err : toTargetError(err, url);
  }
  return Buffer.concat(chunks);
}

function toTargetError(err: unknown, url: string): TargetError {
  const name = (err as { name?: string }).name;
  if (name === 'TimeoutError' || name === 'AbortError' || err instanceof errors.HeadersTimeoutError || err instanceof errors.BodyTimeoutError) {
    return new TargetError('timeout', `call to ${url} timed out`, { cause: err });
  }
  const code = (err as { code?: string }).code ?? 'error';
  return new TargetError('unreachable', `call to ${url} failed: ${code}`, { cause: err });
}
