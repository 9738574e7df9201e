import { randomBytes } from 'node:crypto';
import { startOtelTracing } from '../../lib/tracing/otel';
import type { Tracing } from '../../lib/tracing/tracing';
import { call, sharedGateway, startTestGateway, subscribe, type TestGateway } from '../support/gateway';
import { OtlpReceiver, SPAN_KIND, STATUS_ERROR, type ReceivedSpan } from '../support/otlp-receiver';
import { TestTarget, type ReceivedRequest } from '../support/target';
import { eventually } from '../support/waiting';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${CLIENT_SPAN}-01`;
const TRACEPARENT_FORMAT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[0-3]$/;

/** The trace id and parent span id of the traceparent a target received. */
function traceOf(request: ReceivedRequest | undefined): { traceId: string; parentId: string } {
  const match = TRACEPARENT_FORMAT.exec(String(request?.headers.traceparent));
  if (!match) throw new Error(`no valid traceparent: ${String(request?.headers.traceparent)}`);
  return { traceId: match[1] as string, parentId: match[2] as string };
}

function emit(gw: TestGateway, path: string, headers: Record<string, string>, body: unknown): Promise<Response> {
  return fetch(`${gw.eventsUrl}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
}

const cloudEvent01 = (type: string) => ({ eventType: type, cloudEventsVersion: '0.1', source: '/test', eventID: 'e-1', data: { n: 1 } });
const ce01Headers = { 'content-type': 'application/cloudevents+json' };

describe('trace context without an OpenTelemetry SDK (always on)', () => {
  let gw: TestGateway;
  let target: TestTarget;
  let space: string;
  sharedGateway('tracectx', (fixture) => ({ gw, target, space } = fixture));

  it("passes the client's traceparent and tracestate on to a sync target unchanged", async () => {
    await subscribe(gw, { type: 'sync', eventType: 'http.request', functionId: 'fn', url: target.url, path: `/${space}/hello`, method: 'GET', space });
    target.respondWith({ statusCode: 200, body: 'hi' });

    const res = await fetch(`${gw.eventsUrl}/${space}/hello`, { headers: { traceparent: TRACEPARENT, tracestate: 'vendor=abc,other=1' } });

    expect(res.status).toBe(200);
    expect(target.received[0]?.headers.traceparent).toBe(TRACEPARENT);
    expect(target.received[0]?.headers.tracestate).toBe('vendor=abc,other=1');
  });

  it('starts a new trace for each request that brings none', async () => {
    await subscribe(gw, { type: 'sync', eventType: 'http.request', functionId: 'fn', url: target.url, path: `/${space}/hello`, method: 'GET', space });
    target.respondWith({ statusCode: 200 });

    await fetch(`${gw.eventsUrl}/${space}/hello`);
    await fetch(`${gw.eventsUrl}/${space}/hello`);

    const [first, second] = [traceOf(target.received[0]), traceOf(target.received[1])];
    expect(first.traceId).not.toBe(second.traceId);
    expect(target.received[0]?.headers.traceparent).toMatch(/-01$/);
  });

  it.each([
    ['version ff', `ff-${TRACE_ID}-${CLIENT_SPAN}-01`],
    ['upper-case hex', `00-${TRACE_ID.toUpperCase()}-${CLIENT_SPAN}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${CLIENT_SPAN}-01`],
    ['version 00 with more fields', `${TRACEPARENT}-extra`],
  ])('starts a new trace instead of passing on a traceparent with %s', async (_case, header) => {
    await subscribe(gw, { type: 'sync', eventType: 'http.request', functionId: 'fn', url: target.url, path: `/${space}/hello`, method: 'GET', space });
    target.respondWith({ statusCode: 200 });

    await fetch(`${gw.eventsUrl}/${space}/hello`, { headers: { traceparent: header } });

    expect(traceOf(target.received[0]).traceId).not.toBe(TRACE_ID.toLowerCase());
  });

  it('passes on a later version of traceparent as version 00, keeping its ids', async () => {
    await subscribe(gw, { type: 'sync', eventType: 'http.request', functionId: 'fn', url: target.url, path: `/${space}/hello`, method: 'GET', space });
    target.respondWith({ statusCode: 200 });

    await fetch(`${gw.eventsUrl}/${space}/hello`, { headers: { traceparent: `01-${TRACE_ID}-${CLIENT_SPAN}-01-future` } });

    expect(target.received[0]?.headers.traceparent).toBe(TRACEPARENT);
  });

  it("continues the trace of a structured 1.0 event's traceparent extension, and the delivered event keeps it", async () => {
    await subscribe(gw, { type: 'async', eventType: 'order.placed', functionId: 'fn', url: target.url, path: `/${space}`, space });
    const event = { specversion: '1.0', type: 'order.placed', source: '/shop', id: 'o-1', traceparent: TRACEPARENT, tracestate: 'shop=1', data: {} };

    const res = await emit(gw, `/${space}`, { 'content-type': 'application/cloudevents+json' }, event);

    expect(res.status).toBe(202);
    await target.waitFor(1);
    expect(target.received[0]?.headers.traceparent).toBe(TRACEPARENT);
    expect(target.received[0]?.headers.tracestate).toBe('shop=1');
    expect(target.received[0]?.json()).toMatchObject({ traceparent: TRACEPARENT, tracestate: 'shop=1' });
  });

  it('continues the trace of a binary 1.0 event (ce-traceparent)', async () => {
    await subscribe(gw, { type: 'async', eventType: 'order.placed', functionId: 'fn', url: target.url, path: `/${space}`, space });

    const res = await fetch(`${gw.eventsUrl}/${space}`, {
      method: 'POST',
      headers: { 'ce-specversion': '1.0', 'ce-type': 'order.placed', 'ce-source': '/shop', 'ce-id': 'o-2', 'ce-traceparent': TRACEPARENT, 'content-type': 'application/json' },
      body: '{}',
    });

    expect(res.status).toBe(202);
    await target.waitFor(1);
    expect(traceOf(target.received[0]).traceId).toBe(TRACE_ID);
  });

  it("prefers the request's traceparent header to the event's extension", async () => {
    await subscribe(gw, { type: 'async', eventType: 'order.placed', functionId: 'fn', url: target.url, path: `/${space}`, space });
    const other = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;
    const event = { specversion: '1.0', type: 'order.placed', source: '/shop', id: 'o-3', traceparent: other };

    await emit(gw, `/${space}`, { 'content-type': 'application/cloudevents+json', traceparent: TRACEPARENT }, event);

    await target.waitFor(1);
    expect(target.received[0]?.headers.traceparent).toBe(TRACEPARENT);
    expect(target.received[0]?.json()).toMatchObject({ traceparent: other });
  });

  it('keeps the trace id across a failed attempt of an async delivery', async () => {
    await subscribe(gw, { type: 'async', eventType: 'job', functionId: 'fn', url: target.url, path: `/${space}`, space });
    target.behaviour = () => ({ status: target.received.length === 1 ? 500 : 200, body: '{}' });

    await emit(gw, `/${space}`, { ...ce01Headers, traceparent: TRACEPARENT }, cloudEvent01('job'));

    await target.waitFor(2);
    expect(target.received.map((r) => r.headers.traceparent)).toEqual([TRACEPARENT, TRACEPARENT]);
  });

  it('keeps the trace id when a dead letter is replayed from the durable queue', async () => {
    await subscribe(gw, { type: 'async', eventType: 'job', functionId: 'fn', url: target.url, path: `/${space}`, space });
    const base = gw.space(space);
    const subscriptionId = (await call('GET', `${base}/subscriptions`)).body.subscriptions[0].subscriptionId;
    await call('PUT', `${base}/subscriptions/${subscriptionId}`, { type: 'async', eventType: 'job', functionId: 'fn', path: `/${space}`, retry: { maxAttempts: 1, maxAgeSeconds: 60 } });
    target.behaviour = () => ({ status: 503, body: '{}' });
    await emit(gw, `/${space}`, { ...ce01Headers, traceparent: TRACEPARENT }, cloudEvent01('job'));
    await target.waitFor(1);
    await eventually(async () => ((await call('GET', `${base}/deadletters`)).body.deadLetters.length === 1 ? true : undefined), 'the dead letter');

    target.behaviour = () => ({ status: 200, body: '{}' });
    const replay = await call('POST', `${base}/deadletters/replay`);

    expect(replay.status).toBe(202);
    await target.waitFor(2);
    expect(target.received[1]?.headers.traceparent).toBe(TRACEPARENT);
  });

  it('passes the trace context to the authorizer', async () => {
    const base = gw.space(space);
    await call('POST', `${base}/functions`, { functionId: 'auth', type: 'http', provider: { url: `${target.url}auth` } });
    await subscribe(gw, { type: 'sync', eventType: 'http.request', functionId: 'fn', url: target.url, path: `/${space}/private`, method: 'GET', space });
    await call('PUT', `${base}/eventtypes/http.request`, { authorizerId: 'auth' });
    target.behaviour = (req) => ({ status: 200, body: JSON.stringify(req.url === '/auth' ? { authorization: { principalId: 'u' } } : { statusCode: 200 }) });

    const res = await fetch(`${gw.eventsUrl}/${space}/private`, { headers: { traceparent: TRACEPARENT } });

    expect(res.status).toBe(200);
    expect(target.received.map((r) => [r.url, r.headers.traceparent])).toEqual([
      ['/auth', TRACEPARENT],
      ['/', TRACEPARENT],
    ]);
  });
});

/** A gateway whose spans go to a loopback OTLP receiver. */
async function tracedGateway(protocol: 'http/json' | 'http/protobuf'): Promise<{ gw: TestGateway; receiver: OtlpReceiver; tracing: Tracing }> {
  const receiver = await OtlpReceiver.start();
  const tracing = startOtelTracing({ endpoint: receiver.endpoint, protocol, serviceName: 'gateway-under-test', resourceFromEnv: false });
  const gw = await startTestGateway({ tracing });
  return { gw, receiver, tracing };
}

/** Flushes until `count` spans named like `name` have arrived. */
async function spansNamed(tracing: Tracing, receiver: OtlpReceiver, name: RegExp, count: number): Promise<ReceivedSpan[]> {
  return eventually(async () => {
    await tracing.flush();
    const spans = receiver.spans.filter((span) => name.test(span.name));
    return spans.length >= count ? spans : undefined;
  }, `${count} spans named ${String(name)}`);
}

describe.each(['http/json', 'http/protobuf'] as const)('spans exported over OTLP %s', (protocol) => {
  let gw: TestGateway;
  let receiver: OtlpReceiver;
  let tracing: Tracing;
  let target: TestTarget;
  let space: string;
  /** A trace of its own for each test, so that spans of earlier tests never match. */
  let traceId: string;
  let traceparent: string;
  let n = 0;
  beforeAll(async () => {
    ({ gw, receiver, tracing } = await tracedGateway(protocol));
  });
  afterAll(async () => {
    await gw.stop();
    await tracing.shutdown();
    await receiver.close();
  });
  beforeEach(async () => {
    target = await TestTarget.start();
    space = `otel${++n}`;
    traceId = randomBytes(16).toString('hex');
    traceparent = `00-${traceId}-${CLIENT_SPAN}-01`;
  });
  afterEach(() => target.close());

  it("records a sync call as a server span under the client's span and a client span under it, whose id the target receives", async () => {
    await subscribe(gw, { type: 'sync', eventType: 'http.request', functionId: 'hello', url: target.url, path: `/${space}/users/:id`, method: 'GET', space });
    target.respondWith({ statusCode: 200, body: 'hi' });

    const res = await fetch(`${gw.eventsUrl}/${space}/users/7`, { headers: { traceparent, tracestate: 'vendor=abc' } });

    expect(res.status).toBe(200);
    const [invoke] = await spansNamed(tracing, receiver, /^invoke hello$/, 1);
    const server = receiver.trace(traceId).find((span) => span.kind === SPAN_KIND.server && span.spanId === invoke?.parentSpanId);
    expect(server).toMatchObject({
      traceId: traceId,
      parentSpanId: CLIENT_SPAN,
      traceState: 'vendor=abc',
      name: `GET /${space}/users/:id`,
      serviceName: 'gateway-under-test',
      attributes: expect.objectContaining({ 'http.request.method': 'GET', 'http.route': `/${space}/users/:id`, 'http.response.status_code': 200, 'cloudevents.event_type': 'http.request' }),
    });
    expect(invoke).toMatchObject({
      traceId: traceId,
      kind: SPAN_KIND.client,
      attributes: expect.objectContaining({ 'eventgateway.space': space, 'eventgateway.function.id': 'hello', 'eventgateway.function.type': 'http', 'cloudevents.event_type': 'http.request' }),
    });
    expect(traceOf(target.received[0])).toEqual({ traceId: traceId, parentId: invoke?.spanId });
    expect(target.received[0]?.headers.tracestate).toBe('vendor=abc');
  });

  it('records each attempt of an async delivery under the accepting request, linked to it, the failed one as an error', async () => {
    await subscribe(gw, { type: 'async', eventType: 'job', functionId: 'worker', url: target.url, path: `/${space}`, space });
    target.behaviour = () => ({ status: target.received.length === 1 ? 500 : 200, body: '{}' });

    const res = await emit(gw, `/${space}`, { ...ce01Headers, traceparent }, cloudEvent01('job'));

    expect(res.status).toBe(202);
    const attempts = (await spansNamed(tracing, receiver, /^deliver worker$/, 2)).sort((a, b) => Number(a.attributes['eventgateway.delivery.attempt']) - Number(b.attributes['eventgateway.delivery.attempt']));
    const server = receiver.trace(traceId).find((span) => span.kind === SPAN_KIND.server && span.parentSpanId === CLIENT_SPAN);
    expect(server?.attributes['http.response.status_code']).toBe(202);
    for (const [i, attempt] of attempts.entries()) {
      expect(attempt).toMatchObject({ traceId: traceId, parentSpanId: server?.spanId, kind: SPAN_KIND.consumer, links: [{ traceId: traceId, spanId: server?.spanId }] });
      expect(attempt.attributes).toMatchObject({ 'eventgateway.delivery.attempt': i + 1, 'eventgateway.function.id': 'worker', 'messaging.operation.type': 'process', 'eventgateway.space': space });
      expect(traceOf(target.received[i])).toEqual({ traceId: traceId, parentId: attempt.spanId });
    }
    expect(attempts[0]?.status.code).toBe(STATUS_ERROR);
    expect(attempts[0]?.attributes['http.response.status_code']).toBe(500);
    expect(attempts[1]?.status.code).not.toBe(STATUS_ERROR);
    expect(attempts[0]?.attributes['eventgateway.delivery.id']).toBe(attempts[1]?.attributes['eventgateway.delivery.id']);
  });

  it("records the authorizer call under the request's span", async () => {
    const base = gw.space(space);
    await call('POST', `${base}/eventtypes`, { name: 'job' });
    await call('POST', `${base}/functions`, { functionId: 'gatekeeper', type: 'http', provider: { url: `${target.url}auth` } });
    await call('PUT', `${base}/eventtypes/job`, { authorizerId: 'gatekeeper' });
    await subscribe(gw, { type: 'async', eventType: 'job', functionId: 'worker', url: target.url, path: `/${space}`, space });
    target.behaviour = (req) => ({ status: 200, body: JSON.stringify(req.url === '/auth' ? { error: { message: 'no' } } : {}) });

    await emit(gw, `/${space}`, { ...ce01Headers, traceparent }, cloudEvent01('job'));

    const [authorize] = await spansNamed(tracing, receiver, /^authorize gatekeeper$/, 1);
    const server = receiver.trace(traceId).find((span) => span.spanId === authorize?.parentSpanId);
    expect(server?.kind).toBe(SPAN_KIND.server);
    expect(authorize?.attributes['eventgateway.authorizer.allowed']).toBe(false);
    expect(traceOf(target.received[0])).toEqual({ traceId: traceId, parentId: authorize?.spanId });
  });

  it('starts a root span for a request without trace context, and the target joins its trace', async () => {
    await subscribe(gw, { type: 'sync', eventType: 'http.request', functionId: 'hello', url: target.url, path: `/${space}/root`, method: 'GET', space });
    target.respondWith({ statusCode: 200 });

    await fetch(`${gw.eventsUrl}/${space}/root`);

    const { traceId, parentId } = traceOf(target.received[0]);
    const spans = await eventually(async () => {
      await tracing.flush();
      const found = receiver.trace(traceId);
      return found.length >= 2 ? found : undefined;
    }, 'the spans of the new trace');
    const server = spans.find((span) => span.kind === SPAN_KIND.server);
    expect(server?.parentSpanId).toBe('');
    expect(spans.find((span) => span.spanId === parentId)?.parentSpanId).toBe(server?.spanId);
  });
});
