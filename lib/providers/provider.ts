import type { FunctionType, ProviderConfigs } from './config';

/** Why a call to a target failed; delivery decides from it whether to retry. */
export type TargetFailure = 'unreachable' | 'timeout' | 'status' | 'function-error' | 'credentials' | 'unsupported' | 'refused';

/** A failed call to a target, with what is known about it. Messages never carry secrets. */
export class TargetError extends Error {
  readonly reason: TargetFailure;
  /** Status of the target's answer, when it answered. */
  readonly statusCode?: number;

  /** The body of a non-2xx answer, for a sync caller that can still use it. */
  readonly answer?: Buffer;

  constructor(reason: TargetFailure, message: string, options?: { cause?: unknown; statusCode?: number; answer?: Buffer }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TargetError';
    this.reason = reason;
    if (options?.statusCode !== undefined) this.statusCode = options.statusCode;
    if (options?.answer !== undefined) this.answer = options.answer;
  }

  /** Whether trying again later could succeed: not for a 4xx other than 408/429, nor bad config or a refused target address. */
  get retryable(): boolean {
    if (this.reason === 'unsupported' || this.reason === 'credentials' || this.reason === 'refused') return false;
    if (this.reason === 'status' && this.statusCode !== undefined) {
      return this.statusCode >= 500 || this.statusCode === 408 || this.statusCode === 429;
    }
    return true;
  }
}

/** What a delivery tells a target besides the payload. */
export interface InvocationContext {
  /** Stable across retries of one delivery, so that targets can de-duplicate. */
  deliveryId?: string;
  eventId?: string;
  /**
   * The event in CloudEvents HTTP binary content mode, when the subscription asked for it. Providers
   * that POST over HTTP send these headers and body instead of the payload; others ignore it.
   */
  binary?: { headers: Record<string, string>; body: Buffer };
  /** The event's type, for targets that key or label records by it (Kinesis, EventBridge). */
  eventType?: string;
  /** The payload's content type when it is not a structured CloudEvent (a subscription's transform made it). */
  contentType?: string;
  /**
   * Aborted when the caller's time is up (a Lambda handler's remaining time, less a margin): the call
   * ends then, failing with reason `timeout`, whatever its own timeout would still allow.
   */
  signal?: AbortSignal;
  /** W3C trace context for the target: headers, a message attribute, the client context or the event itself, by provider. */
  traceparent?: string;
  tracestate?: string;
}

/** One target function: takes the serialised event, returns the target's answer (or throws TargetError). */
export interface Provider {
  invoke(payload: string, context?: InvocationContext): Promise<Buffer>;
}

/** Makes the provider of one function from its config. */
export type ProviderFactory<K extends FunctionType> = (config: ProviderConfigs[K]) => Provider;

/** The factories of every function type, wired in one place. */
export type ProviderFactories = { [K in FunctionType]: ProviderFactory<K> };
