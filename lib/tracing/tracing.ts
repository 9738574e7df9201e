import type { Delivery } from '../delivery/queue';
import { attributeOf, type CloudEvent } from '../events/accessors';
import { headerValue, type IncomingRequest } from '../events/request';
import { formatTraceparent, newTraceparent, parseTraceparent, usableTracestate, type PropagatedContext } from './trace-context';

/** What the span of a call to a function is about. */
export interface CallInfo {
  space: string;
  functionId: string;
  /** The function's type (`http`, `awslambda`, …). */
  functionType: string;
  eventType: string;
  eventId?: string;
}

/** One call to a function (a sync invocation, an authorizer call, an async delivery attempt). */
export interface CallTrace {
  /** The trace context the target is given. */
  readonly context: PropagatedContext;
  /** Ends the call's span: `error` when the call failed, `attributes` for what else it learnt. Later calls do nothing. */
  end(error?: unknown, attributes?: Record<string, string | number | boolean>): void;
}

/** The trace of one Events API request. */
export interface RequestTrace {
  /**
   * Told the event the request carries, once it is parsed: its CloudEvents distributed-tracing
   * extension (`traceparent`, `tracestate`) applies when the request had no `traceparent` header.
   */
  event(event: CloudEvent): void;
  /** The context stored with the deliveries this request accepts, so that every attempt joins its trace. */
  accepting(): PropagatedContext;
  /** A call made while answering the request (sync invocation, authorizer). */
  call(kind: 'invoke' | 'authorize', info: CallInfo): CallTrace;
  /** The sync subscription's path that answers the request (its low-cardinality route). */
  route(path: string): void;
  /** Ends the request's span with the status of the answer. */
  end(statusCode: number): void;
}

/**
 * Tracing of the gateway: W3C trace context is always read and passed on; spans are recorded and
 * exported only when an OpenTelemetry SDK is configured (see `lib/tracing/otel.ts`). The router asks
 * this interface, so without an SDK no span object exists at all.
 */
export interface Tracing {
  /** Whether spans are recorded (an SDK is running). */
  readonly recording: boolean;
  request(req: IncomingRequest): RequestTrace;
  /** One attempt of an async delivery; `attempt` counts from 1. */
  attempt(delivery: Delivery, attempt: number, info: CallInfo): CallTrace;
  /** Exports what has been recorded so far. */
  flush(): Promise<void>;
  /** Exports what is left and stops. */
  shutdown(): Promise<void>;
}

/**
 * The trace context a request brings in its `traceparent` header; a version other than 00 or flags
 * this gateway does not know are rewritten as version 00, as the spec asks of a forwarder.
 */
export function requestTraceContext(req: IncomingRequest): PropagatedContext | undefined {
  const header = headerValue(req.headers, 'traceparent');
  return header === undefined ? undefined : contextOf(header, headerValue(req.headers, 'tracestate'));
}

/** The trace context of an event's distributed-tracing extension (1.0 attribute, or a 0.1 extension). */
export function eventTraceContext(event: CloudEvent): PropagatedContext | undefined {
  const traceparent = attributeOf(event, 'traceparent');
  if (typeof traceparent !== 'string') return undefined;
  const tracestate = attributeOf(event, 'tracestate');
  return contextOf(traceparent, typeof tracestate === 'string' ? tracestate : undefined);
}

function contextOf(traceparent: string, tracestate: string | undefined): PropagatedContext | undefined {
  const parsed = parseTraceparent(traceparent);
  if (!parsed) return undefined;
  // The common case, a version-00 header with known flags, is passed on as it came.
  const known = traceparent.length === 55 && traceparent.startsWith('00-') && parsed.flags <= 0x03;
  const state = usableTracestate(tracestate);
  return { traceparent: known ? traceparent : formatTraceparent(parsed), ...(state ? { tracestate: state } : {}) };
}

/** The trace context stored with a delivery (deliveries queued before tracing have none: a new trace). */
export function deliveryTraceContext(delivery: Delivery): PropagatedContext {
  if (!delivery.traceparent) return { traceparent: newTraceparent() };
  return delivery.tracestate ? { traceparent: delivery.traceparent, tracestate: delivery.tracestate } : { traceparent: delivery.traceparent };
}

/** The request's trace without an SDK: the context that came in (or a new one) is passed on unchanged. */
class PropagatingRequest implements RequestTrace, CallTrace {
  private current?: PropagatedContext;

  constructor(req: IncomingRequest) {
    this.current = requestTraceContext(req);
  }

  get context(): PropagatedContext {
    return (this.current ??= { traceparent: newTraceparent() });
  }

  event(event: CloudEvent): void {
    this.current ??= eventTraceContext(event);
  }

  accepting(): PropagatedContext {
    return this.context;
  }

  /** Without spans the target is the next hop of the incoming context: its parent is the caller's span. */
  call(): CallTrace {
    return this;
  }

  route(): void {}

  end(): void {}
}

/** A delivery attempt without an SDK: the stored context, passed on. */
class PropagatingAttempt implements CallTrace {
  constructor(readonly context: PropagatedContext) {}

  end(): void {}
}

/** Tracing without an SDK: propagation only, no span objects, nothing to export. */
export const propagationOnly: Tracing = {
  recording: false,
  request: (req) => new PropagatingRequest(req),
  attempt: (delivery) => new PropagatingAttempt(deliveryTraceContext(delivery)),
  flush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};
