import { createTraceState, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Delivery } from '../delivery/queue';
import { eventIdOf, eventTypeOf, type CloudEvent } from '../events/accessors';
import type { IncomingRequest } from '../events/request';
import type { TracingConfig } from './config';
import { parseTraceparent, type PropagatedContext } from './trace-context';
import { deliveryTraceContext, eventTraceContext, requestTraceContext, type CallInfo, type CallTrace, type RequestTrace, type Tracing } from './tracing';

/**
 * Attribute names: OpenTelemetry semantic conventions for HTTP (stable), messaging, FaaS and
 * CloudEvents (incubating; copied here rather than imported from the incubating entry point, as its
 * authors advise), and the gateway's own under `eventgateway.`.
 */
const ATTR = {
  httpMethod: 'http.request.method',
  httpRoute: 'http.route',
  httpStatus: 'http.response.status_code',
  urlPath: 'url.path',
  errorType: 'error.type',
  ceId: 'cloudevents.event_id',
  ceType: 'cloudevents.event_type',
  faasName: 'faas.invoked_name',
  faasProvider: 'faas.invoked_provider',
  messagingSystem: 'messaging.system',
  messagingOperationType: 'messaging.operation.type',
  messagingOperationName: 'messaging.operation.name',
  messagingDestination: 'messaging.destination.name',
  messagingMessageId: 'messaging.message.id',
  space: 'eventgateway.space',
  functionId: 'eventgateway.function.id',
  functionType: 'eventgateway.function.type',
  subscriptionId: 'eventgateway.subscription.id',
  deliveryId: 'eventgateway.delivery.id',
  attempt: 'eventgateway.delivery.attempt',
} as const;

/** `faas.invoked_provider` of the function types that are FaaS platforms. */
const FAAS_PROVIDERS: Record<string, string> = { awslambda: 'aws', gcloudfunction: 'gcp', azurefunction: 'azure', openwhisk: 'ibm_cloud' };

/** Options of the SDK; tests give the endpoint and service name directly rather than through the environment. */
export interface OtelTracingOptions extends TracingConfig {
  /** service.name unless OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES say otherwise. */
  serviceName?: string;
  serviceVersion?: string;
  /** Read OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (default true). */
  resourceFromEnv?: boolean;
  /** Batch delay in ms (default: OTEL_BSP_SCHEDULE_DELAY, else 5000). */
  scheduledDelayMillis?: number;
}

/** Starts the OpenTelemetry SDK: a tracer provider of its own (not the global one), batching spans to an OTLP/HTTP exporter. */
export function startOtelTracing(options: OtelTracingOptions): Tracing {
  const exporterOptions = options.endpoint ? { url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces` } : {};
  const exporter: SpanExporter = options.protocol === 'http/json' ? new OtlpJsonExporter(exporterOptions) : new OtlpProtobufExporter(exporterOptions);
  const base = resourceFromAttributes({ 'service.name': options.serviceName ?? 'event-gateway', ...(options.serviceVersion ? { 'service.version': options.serviceVersion } : {}) });
  const resource = options.resourceFromEnv === false ? base : base.merge(detectResources({ detectors: [envDetector] }));
  const processor = new BatchSpanProcessor(exporter, options.scheduledDelayMillis === undefined ? {} : { scheduledDelayMillis: options.scheduledDelayMillis });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  return new OtelTracing(provider.getTracer('event-gateway', options.serviceVersion), provider);
}

/**
 * Spans through the OpenTelemetry API. Contexts are passed explicitly (no context manager, no
 * async-hooks cost): the request's span is the parent of its calls, and a delivery's stored context
 * is the parent (and link) of each attempt.
 */
class OtelTracing implements Tracing {
  readonly recording = true;

  constructor(
    private readonly tracer: Tracer,
    private readonly provider: BasicTracerProvider,
  ) {}

  request(req: IncomingRequest): RequestTrace {
    return new OtelRequest(this.tracer, req);
  }

  attempt(delivery: Delivery, attempt: number, info: CallInfo): CallTrace {
    const parent = remoteContext(deliveryTraceContext(delivery));
    const accepting = trace.getSpanContext(parent);
    const attributes = callAttributes(info);
    attributes[ATTR.messagingSystem] = 'eventgateway';
    attributes[ATTR.messagingOperationType] = 'process';
    attributes[ATTR.messagingOperationName] = 'deliver';
    attributes[ATTR.messagingDestination] = delivery.subscriptionId;
    attributes[ATTR.messagingMessageId] = delivery.deliveryId;
    attributes[ATTR.subscriptionId] = delivery.subscriptionId;
    attributes[ATTR.deliveryId] = delivery.deliveryId;
    attributes[ATTR.attempt] = attempt;
    // Child of the accepting request's span (so the attempt is in its trace) and linked to it, as
    // messaging conventions do for a message processed on its own.
    const links: Link[] = accepting ? [{ context: accepting }] : [];
    return new OtelCall(this.tracer.startSpan(`deliver ${info.functionId}`, { kind: SpanKind.CONSUMER, links, attributes }, parent));
  }

  flush(): Promise<void> {
    return this.provider.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}

/**
 * The server span of one Events API request, started when its parent is known (after the event is
 * parsed, whose extension may name it), with the start time of the request. Attributes known before
 * then are kept in fields and given to the span in one object, not set one by one.
 */
class OtelRequest implements RequestTrace {
  private readonly startTime = performance.now();
  private parent?: PropagatedContext;
  private eventId?: string;
  private eventType?: string;
  private path?: string;
  private span?: Span;
  private spanContext?: PropagatedContext;

  constructor(
    private readonly tracer: Tracer,
    private readonly req: IncomingRequest,
  ) {
    this.parent = requestTraceContext(req);
  }

  event(event: CloudEvent): void {
    this.parent ??= eventTraceContext(event);
    this.eventId = eventIdOf(event);
    this.eventType = eventTypeOf(event);
    if (this.span) this.span.setAttributes({ [ATTR.ceId]: this.eventId, [ATTR.ceType]: this.eventType });
  }

  accepting(): PropagatedContext {
    return (this.spanContext ??= propagatedOf(this.serverSpan()));
  }

  call(kind: 'invoke' | 'authorize', info: CallInfo): CallTrace {
    const span = this.tracer.startSpan(`${kind} ${info.functionId}`, { kind: SpanKind.CLIENT, attributes: callAttributes(info) }, trace.setSpan(ROOT_CONTEXT, this.serverSpan()));
    return new OtelCall(span);
  }

  route(path: string): void {
    if (!this.span) {
      this.path = path;
      return;
    }
    this.span.setAttribute(ATTR.httpRoute, path);
    this.span.updateName(`${this.req.method} ${path}`);
  }

  end(statusCode: number): void {
    const span = this.serverSpan();
    span.setAttribute(ATTR.httpStatus, statusCode);
    // A server span fails on 5xx only: a 4xx is the client's mistake, answered correctly.
    if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }

  private serverSpan(): Span {
    if (this.span) return this.span;
    const { method } = this.req;
    const attributes: Attributes = { [ATTR.httpMethod]: method, [ATTR.urlPath]: this.req.path };
    if (this.eventType !== undefined) {
      attributes[ATTR.ceType] = this.eventType;
      attributes[ATTR.ceId] = this.eventId;
    }
    if (this.path !== undefined) attributes[ATTR.httpRoute] = this.path;
    const name = this.path === undefined ? method : `${method} ${this.path}`;
    this.span = this.tracer.startSpan(name, { kind: SpanKind.SERVER, startTime: this.startTime, attributes }, this.parent ? remoteContext(this.parent) : ROOT_CONTEXT);
    return this.span;
  }
}

/** The span of one call to a function. */
class OtelCall implements CallTrace {
  readonly context: PropagatedContext;
  private ended = false;

  constructor(private readonly span: Span) {
    this.context = propagatedOf(span);
  }

  end(error?: unknown, attributes?: Attributes): void {
    // The first end counts: a caller may end a call, then fail on what it answered.
    if (this.ended) return;
    this.ended = true;
    if (attributes) this.span.setAttributes(attributes);
    if (error !== undefined) {
      const failure = targetFailureOf(error);
      if (failure.statusCode !== undefined) this.span.setAttribute(ATTR.httpStatus, failure.statusCode);
      this.span.setAttribute(ATTR.errorType, failure.type);
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
    }
    this.span.end();
  }
}

function callAttributes(info: CallInfo): Attributes {
  const attributes: Attributes = {
    [ATTR.space]: info.space,
    [ATTR.functionId]: info.functionId,
    [ATTR.functionType]: info.functionType,
    [ATTR.ceType]: info.eventType,
  };
  if (info.eventId !== undefined) attributes[ATTR.ceId] = info.eventId;
  const provider = FAAS_PROVIDERS[info.functionType];
  if (provider) {
    attributes[ATTR.faasName] = info.functionId;
    attributes[ATTR.faasProvider] = provider;
  }
  return attributes;
}

/** What a span says about a failed call: the target's failure (a TargetError, maybe as the cause of another error). */
function targetFailureOf(error: unknown): { type: string; message: string; statusCode?: number } {
  const cause = (error as { cause?: unknown } | null)?.cause;
  const target = [error, cause].find((e): e is { reason: string; message: string; statusCode?: number } => typeof (e as { reason?: unknown } | null)?.reason === 'string');
  if (target) return { type: target.reason, message: target.message, ...(target.statusCode !== undefined ? { statusCode: target.statusCode } : {}) };
  if (error instanceof Error) return { type: error.name, message: error.message };
  return { type: 'error', message: String(error) };
}

/** A context whose span is the remote parent a `traceparent` names. */
function remoteContext(parent: PropagatedContext): Context {
  const parsed = parseTraceparent(parent.traceparent);
  if (!parsed) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: parsed.traceId,
    spanId: parsed.spanId,
    traceFlags: parsed.flags & 0x01,
    isRemote: true,
    ...(parent.tracestate ? { traceState: createTraceState(parent.tracestate) } : {}),
  });
}

/** The `traceparent` / `tracestate` naming a span as the parent of the next hop. */
function propagatedOf(span: Span): PropagatedContext {
  const context = span.spanContext();
  const traceparent = `00-${context.traceId}-${context.spanId}-0${context.traceFlags & 0x01}`;
  const tracestate = context.traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}
