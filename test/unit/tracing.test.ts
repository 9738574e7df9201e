import { parseCommandLine } from '../../lib/server/cli';
import { tracingConfig } from '../../lib/tracing/config';
import { eventWithTraceContext } from '../../lib/tracing/event-extension';
import { traceparentOfXRay, xrayTracing } from '../../lib/tracing/xray';
import { formatTraceparent, newSpanId, newTraceId, newTraceparent, parseTraceparent } from '../../lib/tracing/trace-context';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${SPAN_ID}-01`;

describe('traceparent', () => {
  it('reads a version-00 traceparent', () => {
    expect(parseTraceparent(TRACEPARENT)).toEqual({ traceId: TRACE_ID, spanId: SPAN_ID, flags: 1 });
    expect(parseTraceparent(`00-${TRACE_ID}-${SPAN_ID}-00`)?.flags).toBe(0);
  });

  it('reads a later version by its first four fields, ignoring what follows', () => {
    expect(parseTraceparent(`cc-${TRACE_ID}-${SPAN_ID}-01-what-the-future-adds`)).toEqual({ traceId: TRACE_ID, spanId: SPAN_ID, flags: 1 });
  });

  it.each([
    ['version ff', `ff-${TRACE_ID}-${SPAN_ID}-01`],
    ['version 00 with more', `${TRACEPARENT}-01`],
    ['a later version glued to more', `01-${TRACE_ID}-${SPAN_ID}-01x`],
    ['upper-case hex', `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${SPAN_ID}-01`],
    ['an all-zero parent id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['a short trace id', `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01`],
    ['wrong separators', `00_${TRACE_ID}_${SPAN_ID}_01`],
    ['non-hex flags', `00-${TRACE_ID}-${SPAN_ID}-0g`],
    ['nothing', ''],
  ])('refuses %s', (_case, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  it('writes version 00 and clears flags it does not know', () => {
    expect(formatTraceparent({ traceId: TRACE_ID, spanId: SPAN_ID, flags: 0xff })).toBe(`00-${TRACE_ID}-${SPAN_ID}-03`);
  });

  it('makes random, valid, sampled new traces', () => {
    const ids = new Set(Array.from({ length: 500 }, () => newTraceId()));
    expect(ids.size).toBe(500);
    expect(newSpanId()).toMatch(/^[0-9a-f]{16}$/);
    const fresh = newTraceparent();
    expect(parseTraceparent(fresh)?.flags).toBe(1);
  });
});

describe('whether the OpenTelemetry SDK starts', () => {
  it('does not start without an OTLP endpoint', () => {
    expect(tracingConfig({})).toBeUndefined();
    expect(tracingConfig({ OTEL_SERVICE_NAME: 'gw', OTEL_TRACES_SAMPLER: 'always_on' })).toBeUndefined();
  });

  it('starts with --otlp-endpoint or either endpoint variable, http/protobuf by default', () => {
    expect(tracingConfig({}, 'http://collector:4318')).toEqual({ endpoint: 'http://collector:4318', protocol: 'http/protobuf' });
    expect(tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({ protocol: 'http/protobuf' });
    expect(tracingConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toEqual({ protocol: 'http/json' });
    expect(tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' })?.protocol).toBe('http/protobuf');
  });

  it('stays off when OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none says so', () => {
    expect(tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(tracingConfig({ OTEL_TRACES_EXPORTER: 'none' }, 'http://c:4318')).toBeUndefined();
  });

  it('refuses gRPC and exporters it does not have, rather than export nothing', () => {
    expect(() => tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow('OTLP protocol "grpc" is not supported');
    expect(() => tracingConfig({ OTEL_TRACES_EXPORTER: 'zipkin' }, 'http://c:4318')).toThrow('OTEL_TRACES_EXPORTER=zipkin is not supported');
  });

  it('takes --otlp-endpoint as an http(s) URL only', () => {
    const ok = parseCommandLine(['--otlp-endpoint', 'http://localhost:4318'], '0.0.0');
    expect(ok.kind === 'run' && ok.options.otlpEndpoint).toBe('http://localhost:4318');
    const bad = parseCommandLine(['--otlp-endpoint=localhost:4318'], '0.0.0');
    expect(bad).toMatchObject({ kind: 'print', exitCode: 2 });
    expect(bad.kind === 'print' && bad.text).toContain('--otlp-endpoint must be an http(s) URL');
  });
});

describe('trace context in the event itself (connectors)', () => {
  const context = { traceparent: TRACEPARENT, tracestate: 'a=1' };

  it('adds the distributed-tracing extension to a 1.0 event', () => {
    const event = { specversion: '1.0', type: 't', source: '/s', id: '1', data: { x: 1 } };
    expect(JSON.parse(eventWithTraceContext(JSON.stringify(event), context))).toEqual({ ...event, traceparent: TRACEPARENT, tracestate: 'a=1' });
  });

  it("adds it to a 0.1 event's extensions, keeping the others", () => {
    const event = { eventType: 't', cloudEventsVersion: '0.1', source: '/s', eventID: '1', extensions: { eventgateway: { transformed: 'true' } } };
    expect(JSON.parse(eventWithTraceContext(JSON.stringify(event), context)).extensions).toEqual({ eventgateway: { transformed: 'true' }, traceparent: TRACEPARENT, tracestate: 'a=1' });
  });

  it('keeps an extension the event already has, and leaves what is not an event alone', () => {
    const own = JSON.stringify({ specversion: '1.0', type: 't', source: '/s', id: '1', traceparent: `00-${'a'.repeat(32)}-${SPAN_ID}-01` });
    expect(eventWithTraceContext(own, context)).toBe(own);
    expect(eventWithTraceContext('not json', context)).toBe('not json');
    expect(eventWithTraceContext('[1]', context)).toBe('[1]');
    expect(eventWithTraceContext('{"a":1}', undefined)).toBe('{"a":1}');
  });
});

describe('trace context on Lambda (X-Ray)', () => {
  const xray = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
  const request = (headers: Record<string, string> = {}) => ({ method: 'POST', path: '/', query: '', headers, body: Buffer.alloc(0) });

  it('turns an X-Ray trace header into a traceparent of the same trace', () => {
    expect(traceparentOfXRay(xray)).toBe('00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01');
    expect(traceparentOfXRay('Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0')).toMatch(/^00-5759e988bd862e3fe1be46a994272793-[0-9a-f]{16}-00$/);
    expect(traceparentOfXRay('Root=oops')).toBeUndefined();
    expect(traceparentOfXRay(undefined)).toBeUndefined();
  });

  it("passes on the client's traceparent, else the invocation's X-Ray trace, else a new one", () => {
    const tracing = xrayTracing(() => xray);
    expect(tracing.request(request({ traceparent: TRACEPARENT })).accepting().traceparent).toBe(TRACEPARENT);
    expect(tracing.request(request()).call('invoke', { space: 's', functionId: 'f', functionType: 'http', eventType: 't' }).context.traceparent).toBe(
      '00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01',
    );
    expect(parseTraceparent(xrayTracing(() => undefined).request(request()).accepting().traceparent)).toBeDefined();
  });

  it("keeps a delivery's stored trace context for every attempt", () => {
    const delivery = { deliveryId: 'd', space: 's', subscriptionId: 'x', functionId: 'f', eventType: 't', eventId: 'e', payload: '{}', traceparent: TRACEPARENT };
    const attempt = xrayTracing(() => xray).attempt(delivery, 2, { space: 's', functionId: 'f', functionType: 'http', eventType: 't' });
    expect(attempt.context).toEqual({ traceparent: TRACEPARENT });
  });
});
