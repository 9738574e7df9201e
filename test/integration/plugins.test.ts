import type { Plugin, SystemEvent } from '../../lib';
import { call, errorOf, startTestGateway, type TestGateway } from '../support/gateway';
import { TestTarget } from '../support/target';
import { eventually } from '../support/waiting';
import tenant from '../fixtures/plugins/tenant';

// The example redactor is CommonJS, so jest loads it as the gateway would.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const redact = require('../../examples/plugins/redact.js') as Plugin;

const RECEIVED = 'eventgateway.event.received';

/** A plugin reacting to one system event type with `react`. */
function plugin(name: string, type: 'sync' | 'async', react: Plugin['react'], eventType: Plugin['subscriptions'][number]['eventType'] = RECEIVED): Plugin {
  return { name, subscriptions: [{ eventType, type }], react };
}

const refusing = (err: Error & { statusCode?: number }) =>
  plugin('refuser', 'sync', () => {
    throw err;
  });

describe('plugins', () => {
  let gw: TestGateway;
  let target: TestTarget;

  const start = async (plugins: Plugin[], pluginTimeoutMs = 1000) => {
    gw = await startTestGateway({ plugins, pluginTimeoutMs });
    const base = gw.space();
    await call('POST', `${base}/eventtypes`, { name: 'user.created' });
    await call('POST', `${base}/eventtypes`, { name: 'http.request' });
    await call('POST', `${base}/functions`, { functionId: 'f', type: 'http', provider: { url: target.url } });
    await call('POST', `${base}/subscriptions`, { type: 'async', eventType: 'user.created', functionId: 'f', path: '/' });
  };
  const emit = (event: Record<string, unknown>, path = '/') =>
    fetch(`${gw.eventsUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(event) });
  const userCreated = (data: unknown, id = '1') => ({ eventType: 'user.created', cloudEventsVersion: '0.1', source: '/users', eventID: id, data });
  const metrics = async () => (await fetch(`${gw.configUrl}/v1/metrics`)).text();

  beforeEach(async () => {
    target = await TestTarget.start();
  });
  afterEach(async () => {
    await gw.stop();
    await target.close();
  });

  describe('eventgateway.event.received, sync', () => {
    it('refuses the event with 403 and the plugin message, and delivers nothing', async () => {
      const allowList = plugin('allow', 'sync', (event) => {
        if (event.data.event.source === '/evil') throw new Error('Source "/evil" is not allowed.');
      });
      await start([allowList]);
      const res = await emit({ ...userCreated({}, 'evil'), source: '/evil' });
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await res.json()).toEqual({ errors: [{ message: 'Source "/evil" is not allowed.' }] });
      // The refused event was never accepted: only the probe arrives.
      expect((await emit(userCreated({}, 'probe'))).status).toBe(202);
      await target.waitFor(1);
      expect(target.received.map((r) => (r.json() as any).eventID)).toEqual(['probe']);
    });

    it.each([
      [422, 422],
      [429, 429],
      [500, 403],
      [302, 403],
    ])('answers with the error statusCode %i as %i', async (statusCode, expected) => {
      await start([refusing(Object.assign(new Error('refused'), { statusCode }))]);
      const res = await emit(userCreated({}));
      expect(res.status).toBe(expected);
      expect(errorOf(await res.json())).toBe('refused');
    });

    it('counts a timeout as an error: 403 with a message naming the plugin and the limit', async () => {
      await start([plugin('slow', 'sync', () => new Promise(() => {}))], 100);
      const res = await emit(userCreated({}));
      expect(res.status).toBe(403);
      expect(errorOf(await res.json())).toBe('Plugin slow timed out after 100 ms');
      expect(await metrics()).toContain('eventgateway_plugin_calls_total{plugin="slow",eventType="eventgateway.event.received",outcome="timeout"} 1');
      expect(target.received).toHaveLength(0);
    });

    it('gives react the system event as async subscribers get it, and counts the call', async () => {
      const seen: Array<{ event: SystemEvent; context: unknown }> = [];
      await start([plugin('spy', 'sync', (event, context) => void seen.push({ event, context }))]);
      expect((await emit(userCreated({ n: 1 }), '/?x=1')).status).toBe(202);
      const [first] = seen;
      expect(first?.event).toMatchObject({
        eventType: RECEIVED,
        cloudEventsVersion: '0.1',
        source: 'https://serverless.com/event-gateway/#transformationVersion=0.1',
        contentType: 'application/json',
        data: { event: userCreated({ n: 1 }), path: '/', headers: expect.objectContaining({ 'Content-Type': 'application/cloudevents+json' }) },
      });
      expect(first?.context).toEqual({ logger: expect.any(Object) });
      await target.waitFor(1);
      expect(await metrics()).toMatch(/eventgateway_plugin_calls_total\{plugin="spy",eventType="eventgateway.event.received",outcome="ok"\} 1/);
      expect(await metrics()).toMatch(/eventgateway_plugin_duration_seconds_count\{plugin="spy",eventType="eventgateway.event.received"\} 1/);
    });

    it('replaces the event with the one returned (the example redactor removes data.password and data.card)', async () => {
      await start([redact]);
      expect((await emit(userCreated({ name: 'Ada', password: 'hunter2', card: '4111 1111 1111 1111' }))).status).toBe(202);
      await target.waitFor(1);
      expect(target.received[0]?.json()).toEqual(userCreated({ name: 'Ada' }));
      expect(target.received[0]?.body).not.toContain('hunter2');
    });

    it('routes a replacement by its own type', async () => {
      await start([plugin('retype', 'sync', (event) => ({ event: { ...event.data.event, eventType: 'user.created' } }))]);
      await call('POST', `${gw.space()}/eventtypes`, { name: 'user.signedup' });
      expect((await emit({ ...userCreated({}), eventType: 'user.signedup' })).status).toBe(202);
      await target.waitFor(1);
      expect((target.received[0]?.json() as any).eventType).toBe('user.created');
    });

    it.each([
      ['an event without a source', { eventType: 'user.created', cloudEventsVersion: '0.1', eventID: '1' }],
      ['a system event', { ...userCreated({}), eventType: 'eventgateway.event.received' }],
      ['not an event', 'hello'],
    ])('answers 500 "Plugin returned an invalid event" for %s, and delivers nothing', async (_name, replacement) => {
      await start([plugin('broken', 'sync', () => ({ event: replacement as never }))]);
      const res = await emit(userCreated({}));
      expect(res.status).toBe(500);
      expect(errorOf(await res.json())).toBe('Plugin returned an invalid event');
      expect(target.received).toHaveLength(0);
    });

    it('runs the README plugin written from scratch: refuses without X-Tenant, stamps the tenant otherwise', async () => {
      await start([tenant]);
      const refused = await emit(userCreated({}));
      expect(refused.status).toBe(400);
      expect(errorOf(await refused.json())).toBe('Header X-Tenant is required.');
      const res = await fetch(`${gw.eventsUrl}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json', 'x-tenant': 'acme' },
        body: JSON.stringify({ specversion: '1.0', type: 'user.created', source: '/users', id: 't1' }),
      });
      expect(res.status).toBe(202);
      await target.waitFor(1);
      expect(target.received[0]?.json()).toEqual({ specversion: '1.0', type: 'user.created', source: '/users', id: 't1', tenant: 'acme' });
    });

    it('runs plugins in order and stops at the first sync error', async () => {
      const calls: string[] = [];
      const recorder = (name: string) => plugin(name, 'sync', () => void calls.push(name));
      const thrower = plugin('second', 'sync', () => {
        calls.push('second');
        throw new Error('stop');
      });
      await start([recorder('first'), thrower, recorder('third')]);
      expect((await emit(userCreated({}))).status).toBe(403);
      expect(calls).toEqual(['first', 'second']);
    });

    it('rejects only the refused entries of a batch', async () => {
      await start([plugin('no-test', 'sync', (e) => { if (e.data.event.source === '/test') throw new Error('no tests here'); })]);
      const res = await fetch(`${gw.eventsUrl}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents-batch+json' },
        body: JSON.stringify([
          { specversion: '1.0', type: 'user.created', source: '/users', id: 'a' },
          { specversion: '1.0', type: 'user.created', source: '/test', id: 'b' },
        ]),
      });
      expect(res.status).toBe(202);
      expect(((await res.json()) as any).results).toEqual([
        { index: 0, id: 'a', type: 'user.created', accepted: true },
        { index: 1, id: 'b', type: 'user.created', accepted: false, error: 'no tests here' },
      ]);
    });
  });

  describe('async subscriptions', () => {
    it('does not wait for the reaction, and only logs its error', async () => {
      let responded = false;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let sawResponse: boolean | undefined;
      const waiting = plugin('waiting', 'async', async () => {
        await gate;
        sawResponse = responded;
      });
      const failing = plugin('failing', 'async', () => {
        throw new Error('audit store down');
      });
      await start([waiting, failing], 10_000);
      const res = await emit(userCreated({}));
      responded = true;
      expect(res.status).toBe(202);
      release();
      await eventually(async () => sawResponse, 'the async reaction to finish');
      expect(sawResponse).toBe(true);
      const text = await eventually(async () => {
        const current = await metrics();
        return current.includes('plugin="waiting",eventType="eventgateway.event.received",outcome="ok"} 1') ? current : undefined;
      }, 'the async reaction to be counted');
      expect(text).toContain('eventgateway_plugin_calls_total{plugin="failing",eventType="eventgateway.event.received",outcome="error"} 1');
      await target.waitFor(1);
    });
  });

  describe('eventgateway.function.invoking, sync', () => {
    const refuseInvoking = plugin(
      'guard',
      'sync',
      (_event, context) => {
        throw Object.assign(new Error(`${context.functionId} is paused`), { statusCode: 423 });
      },
      'eventgateway.function.invoking',
    );

    it('answers a sync request with the refusal and calls nothing', async () => {
      await start([refuseInvoking]);
      await call('POST', `${gw.space()}/subscriptions`, { type: 'sync', eventType: 'http.request', functionId: 'f', path: '/hello', method: 'GET' });
      const res = await fetch(`${gw.eventsUrl}/hello`);
      expect(res.status).toBe(423);
      expect(errorOf(await res.json())).toBe('f is paused');
      expect(target.received).toHaveLength(0);
    });

    it('dead-letters an async delivery with the plugin message, without retrying it', async () => {
      await start([refuseInvoking]);
      expect((await emit(userCreated({}))).status).toBe(202);
      const letters = await eventually(async () => {
        const list = (await call('GET', `${gw.space()}/deadletters`)).body.deadLetters as any[];
        return list.length > 0 ? list : undefined;
      }, 'a dead letter');
      expect(letters).toEqual([expect.objectContaining({ functionId: 'f', attempts: 1, error: 'f is paused' })]);
      expect(target.received).toHaveLength(0);
    });

    it('tells the plugin the space, the function and the event to be sent', async () => {
      const seen: Array<{ data: unknown; space?: string; functionId?: string }> = [];
      await start([plugin('spy', 'sync', (event, { space, functionId }) => void seen.push({ data: event.data, space, functionId }), 'eventgateway.function.invoking')]);
      await emit(userCreated({ n: 2 }));
      await target.waitFor(1);
      expect(seen).toEqual([{ data: { space: 'default', functionId: 'f', event: userCreated({ n: 2 }) }, space: 'default', functionId: 'f' }]);
    });
  });

  describe('eventgateway.function.invoked and invocationFailed', () => {
    it('reports the result of a call and the error of a failed one', async () => {
      const seen: Array<[string, unknown]> = [];
      const observer: Plugin = {
        name: 'observer',
        subscriptions: [
          { eventType: 'eventgateway.function.invoked', type: 'sync' },
          { eventType: 'eventgateway.function.invocationFailed', type: 'sync' },
        ],
        react: (event) => {
          seen.push([event.eventType, event.data]);
          // An error here is logged: the call already happened.
          throw new Error('ignored');
        },
      };
      await start([observer]);
      target.behaviour = () => ({ status: 200, body: 'thanks' });
      await emit(userCreated({}, 'ok'));
      await eventually(async () => (seen.length > 0 ? true : undefined), 'the invoked reaction');
      expect(seen[0]).toEqual(['eventgateway.function.invoked', { space: 'default', functionId: 'f', event: userCreated({}, 'ok'), result: Buffer.from('thanks').toString('base64') }]);
      target.behaviour = () => ({ status: 400, body: 'no' });
      await emit(userCreated({}, 'bad'));
      await eventually(async () => (seen.length > 1 ? true : undefined), 'the invocationFailed reaction');
      expect(seen[1]).toEqual([
        'eventgateway.function.invocationFailed',
        { space: 'default', functionId: 'f', event: userCreated({}, 'bad'), error: { message: expect.stringContaining('answered 400') } },
      ]);
    });
  });
});
