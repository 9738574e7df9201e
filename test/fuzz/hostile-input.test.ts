import fc from 'fast-check';
import { GatewayError } from '../../lib/errors';
import { eventFromRequest } from '../../lib/events/parse';
import { call, startTestGateway, subscribe, type TestGateway } from '../support/gateway';
import { rawRequest } from '../support/raw';
import { TestTarget } from '../support/target';

const deepJson = fc.integer({ min: 1, max: 5000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth));
const garbageJson = fc.oneof(fc.string(), fc.json(), deepJson, fc.constantFrom('{', '{"a":', 'nul', '"\\u', '{"__proto__":{"x":1}}', '[1,2,'));
const invalidUtf8 = fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.concat([Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from(bytes)]));
const body = fc.oneof(garbageJson.map((s) => Buffer.from(s)), invalidUtf8, fc.constant(Buffer.alloc(0)));
const contentType = fc.constantFrom(undefined, 'application/json', 'application/cloudevents+json', 'application/cloudevents+json; charset=utf-8', 'text/plain', 'multipart/form-data', ';;;', 'application/x-www-form-urlencoded');
const ceHeaders = fc.dictionary(
  fc.constantFrom('ce-eventtype', 'ce-cloudeventsversion', 'ce-source', 'ce-eventid', 'ce-specversion', 'ce-type', 'ce-id', 'ce-x-ext', 'event', 'ce-eventtime'),
  fc.oneof(fc.string(), fc.constantFrom('0.1', '1.0', 'http.request', 'eventgateway.x', '/src')),
);
const pathPiece = fc.constantFrom('v1', 'spaces', 'default', '..', '.', '%00', '%2F', '%2e%2e', '%ZZ', '%', 'functions', 'eventtypes', 'subscriptions', 'cors', '', 'x'.repeat(3000), '\u00e9', ':id', '*');
const path = fc.array(pathPiece, { maxLength: 8 }).map((pieces) => `/${pieces.join('/')}`);
const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE');

/** Parses the raw answer of a connection-closing request. */
function parseAnswer(raw: string): { status: number; headers: string; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = split === -1 ? raw : raw.slice(0, split);
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]);
  return { status, headers: head.toLowerCase(), body: split === -1 ? '' : raw.slice(split + 4) };
}

/** Every answer is a success or the contract's JSON error, and never shows internals. */
function expectSaneAnswer(raw: string, request: string): void {
  const { status, headers, body } = parseAnswer(raw);
  const context = `${request.slice(0, 200)}\n→ ${raw.slice(0, 300)}`;
  if (!(status >= 200 && status < 600)) throw new Error(`no valid status line: ${context}`);
  expect(body).not.toMatch(/\n\s+at |node_modules|\/work\/|\.ts:\d+|\.js:\d+/);
  if (status >= 400) {
    // A HEAD answer has no body by definition.
    if (body === '' && request.startsWith('HEAD ')) return;
    expect(headers).toContain('content-type: application/json');
    const parsed = JSON.parse(body) as { errors: Array<{ message: unknown }> };
    if (!(Array.isArray(parsed.errors) && typeof parsed.errors[0]?.message === 'string')) throw new Error(`not the contract's error: ${context}`);
  }
}

function rawHttp(m: string, p: string, headers: Record<string, string>, payload: Buffer): Buffer {
  const lines = [`${m} ${p} HTTP/1.1`, 'host: 127.0.0.1', 'connection: close', `content-length: ${payload.length}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v.replace(/[\r\n]/g, ' ')}`);
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), payload]);
}

describe('hostile input', () => {
  it('the event parser returns an event or throws a client error, for any request', () => {
    fc.assert(
      fc.property(body, contentType, ceHeaders, (payload, type, headers) => {
        const req = { method: 'POST', path: '/', query: '', headers: { ...headers, ...(type ? { 'content-type': type } : {}) }, body: payload, host: 'h' };
        try {
          const event = eventFromRequest(req);
          expect(typeof event).toBe('object');
        } catch (err) {
          expect(err).toBeInstanceOf(GatewayError);
          expect((err as GatewayError).statusCode).toBeGreaterThanOrEqual(400);
          expect((err as GatewayError).statusCode).toBeLessThan(500);
        }
      }),
      { numRuns: 300 },
    );
  });

  describe('through a started gateway', () => {
    let gw: TestGateway;
    let target: TestTarget;
    beforeAll(async () => {
      gw = await startTestGateway({ maxHeaderSize: 8192 });
      target = await TestTarget.start();
      await subscribe(gw, { type: 'async', eventType: 'fuzz.event', functionId: 'fuzz', url: target.url });
    });
    afterAll(async () => {
      await target.close();
      await gw.stop();
    });

    const headerSet = fc.record({
      'content-type': fc.oneof(contentType.map((t) => t ?? 'text/plain'), fc.string({ maxLength: 50 })),
      'x-pad': fc.oneof(fc.constant(''), fc.constant('y'.repeat(10_000))),
      authorization: fc.constantFrom('', 'bearer', 'Bearer x', 'Basic Zm9vOmJhcg=='),
    });

    for (const api of ['config', 'events'] as const) {
      it(`the ${api} API answers every hostile request with a valid answer and keeps running`, async () => {
        const port = () => (api === 'config' ? gw.configPort : gw.eventsPort);
        const seen = new Set<number>();
        await fc.assert(
          fc.asyncProperty(method, path, headerSet, body, async (m, p, headers, payload) => {
            const request = rawHttp(m, p, headers, payload);
            const raw = await rawRequest(port(), request);
            expectSaneAnswer(raw, request.toString('latin1'));
            seen.add(parseAnswer(raw).status);
          }),
          { numRuns: 120 },
        );
        // The runs reached the handlers and the error paths, not just one answer.
        expect(seen.size).toBeGreaterThan(2);
        const status = await call('GET', `${gw.configUrl}/v1/status`);
        expect(status.status).toBe(200);
      });
    }

    it('never lets a path trick reach another space or crash the router', async () => {
      await call('POST', `${gw.space('victim')}/functions`, { functionId: 'kept', type: 'http', provider: { url: target.url } });
      for (const p of ['/v1/spaces/default/../victim/functions/kept', '/v1/spaces/victim%00/functions/kept', '/v1/spaces/%2e%2e/victim/functions/kept', `/v1/spaces/${'a'.repeat(20_000)}/functions`]) {
        const raw = await rawRequest(gw.configPort, rawHttp('DELETE', p, {}, Buffer.alloc(0)));
        expectSaneAnswer(raw, `DELETE ${p}`);
        expect([p, parseAnswer(raw).status]).not.toEqual([p, 204]);
      }
      expect((await call('GET', `${gw.space('victim')}/functions/kept`)).status).toBe(200);
    });
  });
});
