import { randomFillSync } from 'node:crypto';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) as the gateway passes it on: the
 * `traceparent` and `tracestate` header values, ready to send. Always on, with or without an
 * OpenTelemetry SDK: parsing a header and making ids cost well under a microsecond.
 */
export interface PropagatedContext {
  traceparent: string;
  tracestate?: string;
}

/** The fields of a valid `traceparent`. */
export interface TraceParent {
  traceId: string;
  spanId: string;
  /** The trace flags byte; bit 0 is "sampled". */
  flags: number;
}

const HEX = /^[0-9a-f]+$/;
const ZERO_TRACE_ID = '00000000000000000000000000000000';
const ZERO_SPAN_ID = '0000000000000000';
/** tracestate may hold 32 list members of at most 256 characters; longer values are dropped, not cut (a cut member is corrupt). */
const MAX_TRACESTATE = 32 * 257;

/**
 * Reads a `traceparent` value; undefined when it is not valid (then a new trace starts). Version 00
 * must be exactly 55 characters; a later version may add fields after a `-`, which are ignored; `ff`
 * is invalid. Ids must be lower-case hex and not all zero.
 */
export function parseTraceparent(value: string | undefined): TraceParent | undefined {
  if (value === undefined || value.length < 55) return undefined;
  const text = value.trim();
  const version = text.slice(0, 2);
  if (version === 'ff' || !HEX.test(version)) return undefined;
  if (version === '00' ? text.length !== 55 : text.length > 55 && text[55] !== '-') return undefined;
  if (text[2] !== '-' || text[35] !== '-' || text[52] !== '-') return undefined;
  const traceId = text.slice(3, 35);
  const spanId = text.slice(36, 52);
  const flags = text.slice(53, 55);
  if (!HEX.test(traceId) || !HEX.test(spanId) || !HEX.test(flags)) return undefined;
  if (traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return undefined;
  return { traceId, spanId, flags: parseInt(flags, 16) };
}

/** A `traceparent` of version 00 (the one this gateway speaks); flags other than sampled and random are cleared. */
export function formatTraceparent(parent: TraceParent): string {
  return `00-${parent.traceId}-${parent.spanId}-0${(parent.flags & 0x03).toString(16)}`;
}

/** A `tracestate` worth passing on: at most its size limit, else none. */
export function usableTracestate(value: string | undefined): string | undefined {
  if (value === undefined || value === '' || value.length > MAX_TRACESTATE) return undefined;
  return value;
}

/** Random bytes drawn in blocks: one system call per 170 ids instead of one per id. */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomHex(bytes: number): string {
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const hex = pool.toString('hex', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return hex;
}

/** A random 16-byte trace id (never all zero). */
export function newTraceId(): string {
  const id = randomHex(16);
  return id === ZERO_TRACE_ID ? newTraceId() : id;
}

/** A random 8-byte span id (never all zero). */
export function newSpanId(): string {
  const id = randomHex(8);
  return id === ZERO_SPAN_ID ? newSpanId() : id;
}

/** Sampled (01): the gateway starts the trace and asks the next hops to record it. */
const SAMPLED = 0x01;

/** A new trace, for a request that came without a usable `traceparent`. */
export function newTraceparent(): string {
  return formatTraceparent({ traceId: newTraceId(), spanId: newSpanId(), flags: SAMPLED });
}

/** The trace id of a `traceparent` value (which must be valid). */
export function traceIdOf(traceparent: string): string {
  return traceparent.slice(3, 35);
}
