import jsonata from 'jsonata';
import { GatewayError } from '../errors';
import { isV1, type CloudEvent } from './accessors';

/** What a transform's result replaces: the event's `data` (envelope kept) or the whole payload. */
export const TRANSFORM_TARGETS = ['data', 'event'] as const;

/**
 * (ext) A subscription's transform: a JSONata expression evaluated against the event being
 * delivered (the CloudEvent as JSON). Its result becomes the event's `data`, or the whole payload.
 */
export interface Transform {
  jsonata: string;
  replace: (typeof TRANSFORM_TARGETS)[number];
}

/**
 * Bounds of one evaluation, enforced by jsonata's own guardrails: wall time in ms, depth of nested
 * evaluation (deep or endless recursion) and sequence length (`[1..1e9]`). An expression can loop
 * for ever; one subscriber's transform must not stall deliveries of others. The time limit is wall
 * time, so it leaves room for a GC pause on a busy machine (a 30 µs evaluation was seen to take
 * 100 ms under a load average of 20): a real transform needs microseconds, a runaway one is cut.
 */
export const TRANSFORM_LIMITS = { timeout: 100, stack: 300, sequence: 100_000 } as const;

/** A delivery whose transform failed; the message is the contract's `Transform failed: <reason>`. */
export class TransformError extends GatewayError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`Transform failed: ${reason}`, 500, { ...options, expose: true });
  }
}

/** What a transform makes of an event: an event to deliver as usual, or a plain JSON payload. */
export type Transformed = { kind: 'event'; event: CloudEvent; body: string } | { kind: 'payload'; body: string };

/** A transform compiled once with the routing table; `apply` never compiles. */
export interface CompiledTransform {
  readonly replace: Transform['replace'];
  apply(event: CloudEvent): Promise<Transformed>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** jsonata's error text: its message, and for a syntax error where in the expression it is. */
function describe(err: unknown, withPosition = false): string {
  const { message, position } = (err ?? {}) as { message?: unknown; position?: unknown };
  const text = typeof message === 'string' && message !== '' ? message : String(err);
  return withPosition && typeof position === 'number' ? `${text} at position ${position}` : text;
}

/** Why a `transform` value is not valid, or undefined when it is (absent is valid). Compiles the expression to check it. */
export function validateTransform(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) return 'transform must be an object {"jsonata": "<expression>", "replace": "data"|"event"}';
  for (const key of Object.keys(value)) {
    if (key !== 'jsonata' && key !== 'replace') return `transform has unknown field "${key}" (use jsonata, replace)`;
  }
  if (typeof value.jsonata !== 'string' || value.jsonata.trim() === '') return 'transform.jsonata must be a non-empty string';
  if (value.replace !== undefined && !(TRANSFORM_TARGETS as readonly unknown[]).includes(value.replace)) {
    return `transform.replace must be one of ${TRANSFORM_TARGETS.join(', ')}`;
  }
  try {
    jsonata(value.jsonata);
  } catch (err) {
    return `transform: ${describe(err, true)}`;
  }
  return undefined;
}

/** A validated transform as stored: `replace` spelled out. */
export function transformOf(value: unknown): Transform | undefined {
  if (!isObject(value) || typeof value.jsonata !== 'string') return undefined;
  return { jsonata: value.jsonata, replace: value.replace === 'event' ? 'event' : 'data' };
}

/** A JavaScript function, or a jsonata lambda (an object jsonata marks). */
function isFunction(value: unknown): boolean {
  return typeof value === 'function' || (typeof value === 'object' && value !== null && (value as { _jsonata_lambda?: unknown })._jsonata_lambda === true);
}

/** The JSON text of a result; jsonata results are JSON values, but a lambda nested in one is not. */
function serialised(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    throw new TransformError(`the result is not JSON (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
}

/** The event with `data` replaced by a transform's result, its content type now JSON. */
function withData(event: CloudEvent, data: unknown): CloudEvent {
  if (isV1(event)) {
    const next: CloudEvent = { ...event, datacontenttype: 'application/json', data };
    delete next.data_base64;
    return next;
  }
  return { ...event, contentType: 'application/json', data };
}

/**
 * Compiles a transform once, when the routing table is built. One that no longer compiles (stored by
 * an older version, written to the store directly) fails each delivery with the reason rather than
 * delivering the event untransformed.
 */
export function compileTransform(transform: Transform, limits: { timeout: number; stack: number; sequence: number } = TRANSFORM_LIMITS): CompiledTransform {
  let expression: jsonata.Expression;
  try {
    expression = jsonata(transform.jsonata, { ...limits });
  } catch (err) {
    const reason = describe(err, true);
    return { replace: transform.replace, apply: () => Promise.reject(new TransformError(reason, { cause: err })) };
  }
  return {
    replace: transform.replace,
    apply: async (event) => {
      let result: unknown;
      try {
        result = await expression.evaluate(event);
      } catch (err) {
        throw new TransformError(describe(err), { cause: err });
      }
      if (result === undefined) throw new TransformError('the expression returned nothing (undefined)');
      if (isFunction(result)) throw new TransformError('the expression returned a function, not JSON');
      if (transform.replace === 'data') {
        const transformed = withData(event, result);
        return { kind: 'event', event: transformed, body: serialised(transformed) };
      }
      return { kind: 'payload', body: serialised(result) };
    },
  };
}
