import { TargetError } from './provider';
import { TargetRefusedError } from './target-network';

/** What one HTTP call to a target sends, with its limits. */
export interface TransportRequest {
  method: 'POST';
  headers: Record<string, string>;
  body: string | Uint8Array;
  /** Time allowed for the answer's headers, and then between chunks of its body, in milliseconds. */
  timeoutMs: number;
  /** Largest answer body accepted, in bytes. */
  maxResponseBytes: number;
  /** Ends the call when aborted (the caller's time is up): it fails with reason `timeout`. */
  signal?: AbortSignal;
}

/** A target's answer, its body read whole. */
export interface TransportAnswer {
  statusCode: number;
  body: Buffer;
}

/**
 * How providers make HTTP calls: undici on the local server (its fast path), node:http on Lambda
 * (a bundle without undici). A failed call rejects with a TargetError: `timeout`, `refused`,
 * `unreachable`, or `status` for an answer over the size limit. Any status is an answer, not a failure.
 */
export type HttpTransport = (url: string, request: TransportRequest) => Promise<TransportAnswer>;

/** A URL fit for logs and messages: user info and query (where keys like Azure's `code` travel) removed. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** The TargetError of a call that failed; `timedOut` is the transport's own reading of its error. */
export function callFailure(err: unknown, url: string, timedOut: boolean): TargetError {
  if (err instanceof TargetError) return err;
  if (timedOut) return new TargetError('timeout', `call to ${safeUrl(url)} timed out`, { cause: err });
  if (err instanceof TargetRefusedError) return new TargetError('refused', `call to ${safeUrl(url)} refused: ${err.message}`, { cause: err });
  const code = (err as { code?: string }).code ?? 'error';
  return new TargetError('unreachable', `call to ${safeUrl(url)} failed: ${code}`, { cause: err });
}

/** The failure of an answer larger than the limit. */
export function answerTooLarge(url: string, limit: number): TargetError {
  return new TargetError('status', `answer of target ${safeUrl(url)} exceeds ${limit} bytes`);
}
