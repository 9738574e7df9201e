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

/** The message a client sees for an error: the error's own when exposable, a generic one otherwise. */
export function publicMessage(err: unknown): { statusCode: number; message: string } {
  if (err instanceof GatewayError) {
    return { statusCode: err.statusCode, message: err.expose ? err.message : 'Internal server error.' };
  }
  return { statusCode: 500, message: 'Internal server error.' };
}
