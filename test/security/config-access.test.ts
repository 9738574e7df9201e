// The official client, unchanged: it sends `Authorization: bearer <key>`.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const EventGateway = require('@serverless/event-gateway-sdk');
import { call, startTestGateway, type TestGateway } from '../support/gateway';

const ADMIN = 'admin-key-0123456789abcdef';
const TEAM = 'team-key-0123456789abcdef';
const VIEWER = 'viewer-key-0123456789abcdef';

async function withKey(method: string, url: string, key: string | undefined, body?: unknown) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== undefined) headers.authorization = key;
  const res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as any), headers: res.headers };
}

const fn = (id: string) => ({ functionId: id, type: 'http', provider: { url: 'https://example.com/' } });

describe('the Config API with access keys', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      configAccess: { keys: [{ key: ADMIN }, { key: TEAM, spaces: ['team'] }, { key: VIEWER, readOnly: true }], withoutKeys: 'open' },
    });
  });
  afterAll(() => gw.stop());

  it('answers 401 with the JSON error and changes nothing when the key is missing or wrong', async () => {
    for (const auth of [undefined, 'bearer wrong-key-0123456789abcdef', `Basic ${ADMIN}`, 'bearer']) {
      const res = await withKey('POST', `${gw.space('team')}/functions`, auth, fn('intruder'));
      expect([auth, res.status]).toEqual([auth, 401]);
      expect(res.body).toEqual({ errors: [{ message: 'Missing or invalid access key. Send "Authorization: Bearer <key>".' }] });
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    }
    const listed = await withKey('GET', `${gw.space('team')}/functions`, `bearer ${ADMIN}`);
    expect(listed.body).toEqual({ functions: [] });
  });

  it('keeps the health check open', async () => {
    expect((await call('GET', `${gw.configUrl}/v1/status`)).status).toBe(200);
  });

  it('answers 403 for a key used outside its spaces or to write when read-only, and changes nothing', async () => {
    expect((await withKey('POST', `${gw.space('team')}/functions`, `Bearer ${TEAM}`, fn('ok'))).status).toBe(201);
    const elsewhere = await withKey('POST', `${gw.space('other')}/functions`, `Bearer ${TEAM}`, fn('nope'));
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body.errors[0].message).toBe('This access key may not use space "other".');
    const readOnly = await withKey('DELETE', `${gw.space('team')}/functions/ok`, `bearer ${VIEWER}`);
    expect(readOnly.status).toBe(403);
    expect(readOnly.body.errors[0].message).toBe('This access key is read-only.');
    expect((await withKey('GET', `${gw.space('team')}/functions/ok`, `bearer ${VIEWER}`)).status).toBe(200);
    expect((await withKey('GET', `${gw.space('other')}/functions`, `bearer ${ADMIN}`)).body).toEqual({ functions: [] });
  });

  it('serves metrics only to keys that are not limited to spaces', async () => {
    expect((await withKey('GET', `${gw.configUrl}/v1/metrics`, undefined)).status).toBe(401);
    expect((await withKey('GET', `${gw.configUrl}/v1/metrics`, `bearer ${TEAM}`)).status).toBe(403);
    const res = await fetch(`${gw.configUrl}/v1/metrics`, { headers: { authorization: `bearer ${VIEWER}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('eventgateway_functions_total');
  });

  it('works with the official client, which sends the key from EVENT_GATEWAY_ACCESS_KEY', async () => {
    const eg = new EventGateway({ url: gw.eventsUrl, configurationUrl: gw.configUrl, space: 'team' });
    const saved = process.env.EVENT_GATEWAY_ACCESS_KEY;
    try {
      delete process.env.EVENT_GATEWAY_ACCESS_KEY;
      await expect(eg.createEventType({ name: 'sdk.denied' })).rejects.toThrow(/Missing or invalid access key/);
      process.env.EVENT_GATEWAY_ACCESS_KEY = TEAM;
      await eg.createEventType({ name: 'sdk.allowed' });
      expect((await eg.listEventTypes()).map((e: { name: string }) => e.name)).toEqual(['sdk.allowed']);
    } finally {
      if (saved === undefined) delete process.env.EVENT_GATEWAY_ACCESS_KEY;
      else process.env.EVENT_GATEWAY_ACCESS_KEY = saved;
    }
  });
});

describe('the Config API without keys outside development', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ configAccess: { keys: [], withoutKeys: 'read-only' } });
  });
  afterAll(() => gw.stop());

  it('refuses every write with 403 and still answers reads', async () => {
    for (const [method, url] of [
      ['POST', `${gw.space()}/functions`],
      ['PUT', `${gw.space()}/functions/f`],
      ['DELETE', `${gw.space()}/eventtypes/e`],
    ] as const) {
      const res = await call(method, url, fn('f'));
      expect([method, res.status]).toEqual([method, 403]);
      expect(res.body.errors[0].message).toContain('--config-keys-file');
    }
    expect((await call('GET', `${gw.space()}/functions`)).body).toEqual({ functions: [] });
  });
});
