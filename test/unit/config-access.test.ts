import type { IncomingRequest } from '../../lib/events/request';
import type { GatewayResponse } from '../../lib/gateway/response';
import { accessKeysFromEnv, ConfigAccess, parseAccessKeys, withConfigAccess } from '../../lib/http/config-access';

const ADMIN = 'admin-key-0123456789abcdef';
const TEAM = 'team-key-0123456789abcdef';
const VIEWER = 'viewer-key-0123456789abcdef';
const MIXED = 'Mixed-Case-Key-0123456789ABCDEF';
const TEAM_VIEWER = 'team-viewer-key-0123456789abcdef';

describe('Config API access keys', () => {
  const access = new ConfigAccess({
    keys: [{ key: ADMIN }, { key: TEAM, spaces: ['team'] }, { key: VIEWER, readOnly: true }, { key: MIXED }, { key: TEAM_VIEWER, spaces: ['team'], readOnly: true }],
    withoutKeys: 'open',
  });
  const decide = (method: string, path: string, authorization?: string) => access.decide({ method, path, authorization });

  it('leaves the health check open and asks for a key everywhere else', () => {
    expect(decide('GET', '/v1/status')).toEqual({ allowed: true });
    expect(decide('GET', '/v1/status/live')).toEqual({ allowed: true });
    expect(decide('GET', '/v1/spaces/team/functions')).toMatchObject({ allowed: false, statusCode: 401 });
    expect(decide('GET', '/v1/metrics')).toMatchObject({ allowed: false, statusCode: 401 });
    expect(decide('GET', '/nowhere')).toMatchObject({ allowed: false, statusCode: 401 });
  });

  it("serves the console's files without a key (it asks for one itself), and nothing else under /console", () => {
    expect(decide('GET', '/console')).toEqual({ allowed: true });
    expect(decide('GET', '/console/app.js')).toEqual({ allowed: true });
    expect(decide('POST', '/console/')).toMatchObject({ allowed: false, statusCode: 401 });
    expect(decide('GET', '/consoleX')).toMatchObject({ allowed: false, statusCode: 401 });
  });

  it('accepts the bearer scheme in any case, and nothing else', () => {
    expect(decide('POST', '/v1/spaces/a/functions', `bearer ${ADMIN}`)).toEqual({ allowed: true });
    expect(decide('POST', '/v1/spaces/a/functions', `Bearer ${ADMIN}`)).toEqual({ allowed: true });
    expect(decide('POST', '/v1/spaces/a/functions', `BEARER  ${ADMIN} `)).toEqual({ allowed: true });
    expect(decide('POST', '/v1/spaces/a/functions', `Basic ${ADMIN}`)).toMatchObject({ statusCode: 401 });
    expect(decide('POST', '/v1/spaces/a/functions', ADMIN)).toMatchObject({ statusCode: 401 });
    expect(decide('POST', '/v1/spaces/a/functions', `bearer ${ADMIN}x`)).toMatchObject({ statusCode: 401 });
    expect(decide('POST', '/v1/spaces/a/functions', `bearer ${ADMIN.slice(0, -1)}`)).toMatchObject({ statusCode: 401 });
  });

  it('compares keys exactly, capitals included', () => {
    expect(decide('POST', '/v1/spaces/a/functions', `Bearer ${MIXED}`)).toEqual({ allowed: true });
    expect(decide('POST', '/v1/spaces/a/functions', `bearer ${MIXED.toLowerCase()}`)).toMatchObject({ statusCode: 401 });
    expect(decide('POST', '/v1/spaces/a/functions', `bearer ${MIXED.toUpperCase()}`)).toMatchObject({ statusCode: 401 });
  });

  it('keeps a space-limited key to its spaces, however the space is spelled in the path', () => {
    expect(decide('PUT', '/v1/spaces/team/functions/f', `bearer ${TEAM}`)).toEqual({ allowed: true });
    expect(decide('PUT', '/v1/spaces/%74eam/functions/f', `bearer ${TEAM}`)).toEqual({ allowed: true });
    expect(decide('GET', '/v1/spaces/other/functions', `bearer ${TEAM}`)).toMatchObject({ statusCode: 403, message: 'This access key may not use space "other".' });
    expect(decide('GET', '/v1/spaces/team/../other/functions', `bearer ${TEAM}`)).toEqual({ allowed: true });
    expect(decide('GET', '/v1/metrics', `bearer ${TEAM}`)).toMatchObject({ statusCode: 403 });
  });

  it('lets a read-only key read but not write', () => {
    expect(decide('GET', '/v1/spaces/x/functions', `bearer ${VIEWER}`)).toEqual({ allowed: true });
    expect(decide('GET', '/v1/metrics', `bearer ${VIEWER}`)).toEqual({ allowed: true });
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      expect(decide(method, '/v1/spaces/x/functions/f', `bearer ${VIEWER}`)).toMatchObject({ statusCode: 403, message: 'This access key is read-only.' });
    }
  });

  it('keeps a read-only key that is limited to spaces to reading its own spaces', () => {
    expect(decide('GET', '/v1/spaces/team/functions', `bearer ${TEAM_VIEWER}`)).toEqual({ allowed: true });
    for (const method of ['POST', 'PUT', 'DELETE']) {
      expect(decide(method, '/v1/spaces/team/functions/f', `bearer ${TEAM_VIEWER}`)).toMatchObject({ statusCode: 403, message: 'This access key is read-only.' });
    }
    expect(decide('GET', '/v1/spaces/other/functions', `bearer ${TEAM_VIEWER}`)).toMatchObject({ statusCode: 403, message: 'This access key may not use space "other".' });
  });

  it('without keys is open or read-only as configured', () => {
    const readOnly = new ConfigAccess({ keys: [], withoutKeys: 'read-only' });
    expect(readOnly.decide({ method: 'GET', path: '/v1/spaces/x/functions' })).toEqual({ allowed: true });
    expect(readOnly.decide({ method: 'POST', path: '/v1/spaces/x/functions' })).toMatchObject({ statusCode: 403, message: expect.stringContaining('read-only') });
    const open = new ConfigAccess({ keys: [], withoutKeys: 'open' });
    expect(open.decide({ method: 'DELETE', path: '/v1/spaces/x/functions/f' })).toEqual({ allowed: true });
  });

  it('reads keys from JSON files and the environment, and never echoes a key in an error', () => {
    expect(parseAccessKeys(JSON.stringify({ keys: [ADMIN, { key: TEAM, spaces: ['team'], readOnly: true, name: 'ci' }] }), 'keys.json')).toEqual([
      { key: ADMIN },
      { key: TEAM, spaces: ['team'], readOnly: true, name: 'ci' },
    ]);
    expect(accessKeysFromEnv(`${ADMIN}, ${TEAM}`)).toEqual([{ key: ADMIN }, { key: TEAM }]);
    expect(accessKeysFromEnv(JSON.stringify([{ key: VIEWER, readOnly: true }]))).toEqual([{ key: VIEWER, readOnly: true }]);
    expect(accessKeysFromEnv(undefined)).toEqual([]);
    const short = () => parseAccessKeys(JSON.stringify(['tooshort-secret']), 'keys.json');
    expect(short).toThrow(/keys.json: access key #1: "key" must be a string of at least 16 characters/);
    expect(short).not.toThrow(/tooshort-secret/);
    expect(() => parseAccessKeys('{nope', 'keys.json')).toThrow('keys.json: access keys are not valid JSON');
    expect(() => parseAccessKeys(JSON.stringify([{ key: ADMIN, spaces: 'team' }]), 'k')).toThrow(/"spaces" must be an array/);
  });
});

describe('Config API access decisions at the edges', () => {
  const access = new ConfigAccess({ keys: [{ key: TEAM, spaces: ['team'] }, { key: VIEWER, readOnly: true }], withoutKeys: 'open' });
  const decide = (method: string, path: string, authorization?: string) => access.decide({ method, path, authorization });

  it('opens only GET /v1/status without a key', () => {
    expect(decide('POST', '/v1/status')).toEqual({ allowed: false, statusCode: 401, message: 'Missing or invalid access key. Send "Authorization: Bearer <key>".' });
    expect(decide('GET', '/v1/statusx')).toMatchObject({ statusCode: 401 });
  });

  it('takes HEAD and OPTIONS as reads', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS']) expect(decide(method, '/v1/spaces/x/functions', `bearer ${VIEWER}`)).toEqual({ allowed: true });
  });

  it('wants the whole header to be the bearer scheme and one token', () => {
    expect(decide('GET', '/v1/spaces/x/functions', `xbearer ${VIEWER}`)).toMatchObject({ statusCode: 401 });
    expect(decide('GET', '/v1/spaces/x/functions', `bearer ${VIEWER} extra`)).toMatchObject({ statusCode: 401 });
    expect(decide('GET', '/v1/spaces/x/functions', `bearer\t${VIEWER}\t`)).toEqual({ allowed: true });
    expect(access.decide({ method: 'GET', path: '/v1/spaces/x/functions', authorization: [`bearer ${VIEWER}`, 'bearer other'] })).toEqual({ allowed: true });
  });

  it('tells a space-limited key why metrics and paths without a space are refused', () => {
    expect(decide('GET', '/v1/metrics', `bearer ${TEAM}`)).toEqual({ allowed: false, statusCode: 403, message: 'Metrics need an access key that is not limited to spaces.' });
    expect(decide('GET', '/v1/spaces', `bearer ${TEAM}`)).toEqual({ allowed: false, statusCode: 403, message: 'This access key may not use space "".' });
    expect(decide('GET', '/v1/spaces/%E0/functions', `bearer ${TEAM}`)).toEqual({ allowed: false, statusCode: 403, message: 'This access key may not use space "%E0".' });
  });
});

describe('withConfigAccess', () => {
  const access = new ConfigAccess({ keys: [{ key: VIEWER, readOnly: true }], withoutKeys: 'open' });
  const handled: IncomingRequest[] = [];
  const handler = withConfigAccess(async (req) => {
    handled.push(req);
    return { statusCode: 200, headers: {}, body: 'ok' };
  }, access);
  const request = (method: string, authorization?: string): IncomingRequest => ({
    method,
    path: '/v1/spaces/x/functions',
    query: '',
    headers: authorization ? { authorization } : {},
    body: Buffer.alloc(0),
  });

  it('passes an allowed request to the handler', async () => {
    const req = request('GET', `Bearer ${VIEWER}`);
    expect(await handler(req)).toEqual({ statusCode: 200, headers: {}, body: 'ok' });
    expect(handled).toEqual([req]);
  });

  it('answers a refused request with the JSON error, a challenge on 401 only, and never calls the handler', async () => {
    handled.splice(0);
    const unauthorized: GatewayResponse = await handler(request('GET'));
    expect(unauthorized).toEqual({
      statusCode: 401,
      headers: { 'www-authenticate': 'Bearer realm="event-gateway-config"', 'content-type': 'application/json' },
      body: JSON.stringify({ errors: [{ message: 'Missing or invalid access key. Send "Authorization: Bearer <key>".' }] }),
    });
    expect(await handler(request('POST', `bearer ${VIEWER}`))).toEqual({
      statusCode: 403,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ errors: [{ message: 'This access key is read-only.' }] }),
    });
    expect(handled).toEqual([]);
  });
});

describe('reading access keys', () => {
  const KEY16 = 'k'.repeat(16);

  it('keeps only the fields an entry gives', () => {
    expect(parseAccessKeys(JSON.stringify([ADMIN, { key: TEAM }]), 'k')).toStrictEqual([{ key: ADMIN }, { key: TEAM }]);
    expect(parseAccessKeys(JSON.stringify([{ key: TEAM, readOnly: false, spaces: [] }]), 'k')).toStrictEqual([{ key: TEAM, spaces: [], readOnly: false }]);
  });

  it('wants keys of at least 16 characters without white space', () => {
    expect(parseAccessKeys(JSON.stringify([KEY16]), 'k')).toEqual([{ key: KEY16 }]);
    for (const key of [KEY16.slice(1), `${KEY16} x`, `${KEY16}\t`, 1234567890123456]) {
      expect(() => parseAccessKeys(JSON.stringify([{ key }]), 'k')).toThrow('k: access key #1: "key" must be a string of at least 16 characters without spaces');
    }
  });

  it.each([
    ['null', 'k: expected an array of access keys or {"keys": [...]}'],
    ['5', 'k: expected an array of access keys or {"keys": [...]}'],
    ['{"keys": "x"}', 'k: expected an array of access keys or {"keys": [...]}'],
    ['[5]', 'k: access key #1 must be a string or an object'],
    [`["${ADMIN}", null]`, 'k: access key #2 must be a string or an object'],
    [`[{"key": "${ADMIN}", "spaces": ["a", 5]}]`, 'k: access key #1: "spaces" must be an array of space names'],
    [`[{"key": "${ADMIN}", "readOnly": "yes"}]`, 'k: access key #1: "readOnly" must be true or false'],
    [`[{"key": "${ADMIN}", "name": 5}]`, 'k: access key #1: "name" must be a string'],
  ])('refuses %s with a message naming the entry', (json, message) => {
    expect(() => parseAccessKeys(json, 'k')).toThrow(new Error(message));
  });

  it('reads EVENT_GATEWAY_ACCESS_KEYS as JSON (with white space around it) or as keys separated by commas', () => {
    expect(accessKeysFromEnv('')).toEqual([]);
    expect(accessKeysFromEnv('  ')).toEqual([]);
    expect(accessKeysFromEnv(` ${JSON.stringify({ keys: [ADMIN] })} `)).toEqual([{ key: ADMIN }]);
    expect(accessKeysFromEnv(` ${JSON.stringify([ADMIN])}`)).toEqual([{ key: ADMIN }]);
    expect(accessKeysFromEnv(` ${ADMIN} `)).toEqual([{ key: ADMIN }]);
    expect(() => accessKeysFromEnv('[nope')).toThrow(new Error('EVENT_GATEWAY_ACCESS_KEYS: access keys are not valid JSON'));
    expect(() => accessKeysFromEnv(`${ADMIN},short`)).toThrow(
      new Error('EVENT_GATEWAY_ACCESS_KEYS: access key #2: "key" must be a string of at least 16 characters without spaces'),
    );
  });
});
