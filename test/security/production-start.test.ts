import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { call, tempDir } from '../support/gateway';
import { startGatewayProcess, type GatewayProcess } from '../support/process';
import { TestTarget } from '../support/target';
import { eventually } from '../support/waiting';

const KEY = 'production-key-0123456789abcdef';

describe('a production start (no --dev)', () => {
  const dir = tempDir('eg-prod-');
  const running: GatewayProcess[] = [];
  const start = async (args: string[]) => {
    const gw = await startGatewayProcess([`--embed-data-dir=${join(dir, String(running.length))}`, ...args]);
    running.push(gw);
    return gw;
  };
  afterAll(async () => {
    for (const gw of running) {
      gw.child.kill('SIGTERM');
      await gw.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('without keys refuses config writes, says so at start-up, and still serves reads and health', async () => {
    const gw = await start([]);
    const res = await call('POST', `${gw.configUrl}/v1/spaces/default/functions`, { functionId: 'f', type: 'http', provider: { url: 'https://example.com/' } });
    expect(res.status).toBe(403);
    expect(res.body.errors[0].message).toContain('read-only');
    expect((await call('GET', `${gw.configUrl}/v1/spaces/default/functions`)).status).toBe(200);
    expect((await call('GET', `${gw.configUrl}/v1/status`)).status).toBe(200);
    expect(gw.output()).toContain('Config API is READ-ONLY');
  });

  it('with a keys file wants the key, and refuses to call the cloud metadata address', async () => {
    const keysFile = join(dir, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ keys: [{ key: KEY, name: 'ops' }] }));
    const gw = await start([`--config-keys-file=${keysFile}`]);
    const base = `${gw.configUrl}/v1/spaces/default`;
    expect((await call('POST', `${base}/eventtypes`, { name: 'http.request' })).status).toBe(401);
    const authed = (path: string, body: unknown) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await authed('/eventtypes', { name: 'http.request' })).status).toBe(201);
    expect((await authed('/functions', { functionId: 'imds', type: 'http', provider: { url: 'http://169.254.169.254/latest/meta-data/' } })).status).toBe(201);
    expect((await authed('/subscriptions', { type: 'sync', eventType: 'http.request', functionId: 'imds', method: 'GET', path: '/imds' })).status).toBe(201);
    const res = await fetch(`${gw.eventsUrl}/imds`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ errors: [{ message: 'Function call failed. Please check logs.' }] });
    for (let i = 0; i < 100 && !gw.output().includes('metadata address'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(gw.output()).toContain('169.254.169.254 is a metadata address');
    expect(gw.output()).not.toContain(KEY);
    expect(gw.output()).not.toContain('Config API is');
  });

  it('refuses to call a target on loopback, which only --dev allows', async () => {
    const target = await TestTarget.start();
    try {
      const keysFile = join(dir, 'loopback-keys.json');
      writeFileSync(keysFile, JSON.stringify([KEY]));
      const gw = await start([`--config-keys-file=${keysFile}`]);
      const base = `${gw.configUrl}/v1/spaces/default`;
      const authed = (path: string, body: unknown) =>
        fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect((await authed('/eventtypes', { name: 'http.request' })).status).toBe(201);
      expect((await authed('/functions', { functionId: 'local', type: 'http', provider: { url: target.url } })).status).toBe(201);
      expect((await authed('/subscriptions', { type: 'sync', eventType: 'http.request', functionId: 'local', method: 'GET', path: '/local' })).status).toBe(201);
      const res = await fetch(`${gw.eventsUrl}/local`);
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ errors: [{ message: 'Function call failed. Please check logs.' }] });
      await eventually(async () => (gw.output().includes('127.0.0.1 is a loopback address') ? true : undefined), 'the refusal in the log');
      expect(target.received).toEqual([]);
      expect(gw.output()).not.toContain('development mode');
    } finally {
      await target.close();
    }
  });

  it('in --dev without keys is open and warns about it', async () => {
    const gw = await start(['--dev']);
    expect((await call('POST', `${gw.configUrl}/v1/spaces/default/eventtypes`, { name: 'dev.event' })).status).toBe(201);
    expect(gw.output()).toContain('Config API is OPEN');
  });

  it('refuses to start with an unreadable or invalid keys file, exit code 2', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '["short"]');
    for (const file of [bad, join(dir, 'missing.json')]) {
      const gw = startGatewayProcess([`--embed-data-dir=${join(dir, 'never')}`, `--config-keys-file=${file}`]);
      await expect(gw).rejects.toThrow(/gateway exited with 2:[\s\S]*--config-keys-file|access key #1/);
    }
  });
});
