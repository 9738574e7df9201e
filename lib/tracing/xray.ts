import type { CloudEvent } from '../events/accessors';
import type { IncomingRequest } from '../events/request';
import { newSpanId, newTraceparent, type PropagatedContext } from './trace-context';
import { deliveryTraceContext, eventTraceContext, requestTraceContext, type CallTrace, type RequestTrace, type Tracing } from './tracing';

/**
 * The W3C `traceparent` of an X-Ray trace header (`Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`):
 * X-Ray's trace id is the epoch seconds (8 hex) and 24 random hex, which together are a W3C trace id,
 * and its parent (segment) id is a W3C span id. Undefined for a header without a usable root.
 */
export function traceparentOfXRay(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const fields = new Map(header.split(';').map((part) => part.trim().split('=', 2) as [string, string | undefined]));
  const root = /^1-([0-9a-f]{8})-([0-9a-f]{24})$/.exec(fields.get('Root') ?? '');
  if (!root) return undefined;
  const traceId = `${root[1]}${root[2]}`;
  const parent = fields.get('Parent');
  const spanId = parent && /^[0-9a-f]{16}$/.test(parent) && parent !== '0000000000000000' ? parent : newSpanId();
  return `00-${traceId}-${spanId}-${fields.get('Sampled') === '0' ? '00' : '01'}`;
}

/** Where the Lambda runtime puts the current invocation's X-Ray trace header. */
const currentXRayHeader = () => process.env._X_AMZN_TRACE_ID;

/**
 * Tracing on Lambda: one path, AWS X-Ray. The functions' spans are X-Ray's (Lambda's own segments,
 * active tracing); the gateway records no OpenTelemetry spans there and loads no OpenTelemetry SDK.
 * What targets get is W3C trace context, as on the local server: the client's when it sent one (so
 * that its trace id reaches every target), otherwise the one derived from the invocation's X-Ray
 * trace, so that targets join the X-Ray trace. Deliveries keep the context of the accepting request.
 */
export function xrayTracing(xrayHeader: () => string | undefined = currentXRayHeader): Tracing {
  return {
    recording: false,
    request: (req) => new XRayRequest(req, xrayHeader),
    attempt: (delivery) => new PassOn(deliveryTraceContext(delivery)),
    flush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}

class PassOn implements CallTrace {
  constructor(readonly context: PropagatedContext) {}

  end(): void {}
}

class XRayRequest implements RequestTrace, CallTrace {
  private current?: PropagatedContext;

  constructor(
    req: IncomingRequest,
    private readonly xrayHeader: () => string | undefined,
  ) {
    this.current = requestTraceContext(req);
  }

  get context(): PropagatedContext {
    if (this.current) return this.current;
    const traceparent = traceparentOfXRay(this.xrayHeader());
    this.current = { traceparent: traceparent ?? newTraceparent() };
    return this.current;
  }

  event(event: CloudEvent): void {
    this.current ??= eventTraceContext(event);
  }

  accepting(): PropagatedContext {
    return this.context;
  }

  call(): CallTrace {
    return this;
  }

  route(): void {}

  end(): void {}
}
