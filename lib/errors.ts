/**
 * Base of every error the gateway raises on purpose. `statusCode` is the HTTP status it maps to at
 * the edge; `expose` says whether the message may reach a client (never for 5xx internals).
 */
export class GatewayError extends Error {
  readonly statusCode: number;
  readonly expose: boolean;

  constructor(message: string, statusCode: number, options?: { cause?: unknown; expose?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.statusCode = statusCode;
    this.expose = options?.expose ?? statusCode < 500;
  }
}

/** A resource asked for does not exist (404). */
export class NotFoundError extends GatewayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 404, options);
  }
}

/** A resource with the same identity already exists (409). */
export class AlreadyExistsError extends GatewayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 409, options);
  }
}

/** The request is well formed but breaks a rule: validation, conflicts, references (400). */
export class ValidationError extends GatewayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 400, options);
  }
}

/** The body is larger than the configured limit (413). */
export class PayloadTooLargeError extends GatewayError {
  constructor(message = 'Request body too large.') {
    super(message, 413);
  }
}

/** A call to a target function failed; the message is safe to show (the contract's wording). */
export class FunctionCallError extends GatewayError {
  constructor(message = 'Function call failed. Please check logs.', options?: { cause?: unknown }) {
    super(message, 500, { ...options, expose: true });
  }
}

/** Seconds a client is asked to wait (`Retry-After`) before it retries a request refused with a 503. */
export const RETRY_AFTER_SECONDS = 1;

/**
 * Something the gateway depends on (the registry store, the delivery queue) cannot be used right now
 * (503): nothing was changed or accepted, and the same request may succeed when retried.
 */
export class ServiceUnavailableError extends GatewayError {
  readonly retryAfterSeconds = RETRY_AFTER_SECONDS;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 503, { ...options, expose: true });
  }
}

/** The registry store could not be read or written (a store failure other than the registry's own rules). */
export class RegistryUnavailableError extends ServiceUnavailableError {
  constructor(options?: { cause?: unknown }) {
    super('Registry unavailable. Please retry.', options);
  }
}

/** The delivery queue refused to accept deliveries (not stored): the event was not accepted. */
export class QueueUnavailableError extends ServiceUnavailableError {
  constructor(options?: { cause?: unknown }) {
    super('Delivery queue unavailable. Please retry.', options);
  }
}

/** The message a client sees for an error: the error's own when exposable, a generic one otherwise; a 503 says when to retry. */
export function publicMessage(err: unknown): { statusCode: number; message: string; headers: Record<string, string> } {
  if (err instanceof ServiceUnavailableError) {
    return { statusCode: err.statusCode, message: err.message, headers: { 'retry-after': String(err.retryAfterSeconds) } };
  }
  if (err instanceof GatewayError) {
    return { statusCode: err.statusCode, message: err.expose ? err.message : 'Internal server error.', headers: {} };
  }
  return { statusCode: 500, message: 'Internal server error.', headers: {} };
}

/** The reason a dependency failed, short enough for a status answer and a log line. */
export function reasonOf(err: unknown): string {
  const cause = err instanceof ServiceUnavailableError && err.cause !== undefined ? err.cause : err;
  // Duck-typed: errors of native modules (better-sqlite3) may come from another realm than this module's Error.
  const { message, name } = (typeof cause === 'object' && cause !== null ? cause : {}) as { message?: unknown; name?: unknown };
  const text = typeof message === 'string' && message !== '' ? message : typeof name === 'string' ? name : String(cause);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
