import { accessKeysFromEnv, ConfigAccess, parseAccessKeys } from '../../lib/http/config-access';

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
