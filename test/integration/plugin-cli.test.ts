import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { call, errorOf, tempDir } from '../support/gateway';
import { runCli, startGatewayProcess, type GatewayProcess } from '../support/process';
import { TestTarget } from '../support/target';
import { eventually } from '../support/waiting';

const EXAMPLES = join(__dirname, '..', '..', 'examples', 'plugins');

describe('event-gateway --plugin', () => {
  let dir: string;
  let target: TestTarget;
  let gateway: GatewayProcess | undefined;

  beforeEach(async () => {
    dir = tempDir('eg-plugins-');
    target = await TestTarget.start();
  });
  afterEach(async () => {
    if (gateway) {
      gateway.child.kill('SIGTERM');
      await gateway.exited;
      gateway = undefined;
    }
    await target.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const register = async (g: GatewayProcess) => {
    const base = `${g.configUrl}/v1/spaces/default`;
    await call('POST', `${base}/eventtypes`, { name: 'user.created' });
    await call('POST', `${base}/functions`, { functionId: 'f', type: 'http', provider: { url: target.url } });
    await call('POST', `${base}/subscriptions`, { type: 'async', eventType: 'user.created', functionId: 'f', path: '/' });
  };
  const emit = (g: GatewayProcess, source: string, id: string, data: unknown) =>
    fetch(`${g.eventsUrl}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({ eventType: 'user.created', cloudEventsVersion: '0.1', source, eventID: id, data }),
    });

  it('loads the three examples (CommonJS and ES module) in order: audit log, allow-list by source, redactor', async () => {
    gateway = await startGatewayProcess(
      ['--dev', `--embed-data-dir=${dir}`, '--plugin', join(EXAMPLES, 'audit-log.js'), `--plugin=${join(EXAMPLES, 'allow-list.mjs')}`, '--plugin', join(EXAMPLES, 'redact.js')],
      { ALLOWED_SOURCES: '/users,/orders' },
    );
    expect(gateway.output()).toContain('"plugins":["audit-log","allow-list","redact"]');
    await register(gateway);

    const refused = await emit(gateway, '/evil', 'e1', {});
    expect(refused.status).toBe(403);
    expect(errorOf(await refused.json())).toBe('Source "/evil" is not allowed.');

    expect((await emit(gateway, '/users/signup', 'e2', { name: 'Ada', password: 'hunter2', card: '4111' })).status).toBe(202);
    await target.waitFor(1);
    expect(target.received.map((r) => (r.json() as any).eventID)).toEqual(['e2']);
    expect((target.received[0]?.json() as any).data).toEqual({ name: 'Ada' });

    // The audit log saw both events (it comes first) and the call, as JSON log lines.
    const lines = await eventually(async () => {
      const audit = gateway?.output().split('\n').filter((l) => l.includes('"plugin":"audit-log"')).map((l) => JSON.parse(l));
      return audit && audit.length >= 3 ? audit : undefined;
    }, 'three audit lines');
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ audit: 'eventgateway.event.received', eventId: 'e1', source: '/evil', path: '/' }),
        expect.objectContaining({ audit: 'eventgateway.event.received', eventId: 'e2', source: '/users/signup' }),
        expect.objectContaining({ audit: 'eventgateway.function.invoked', eventId: 'e2', space: 'default', functionId: 'f' }),
      ]),
    );
    expect(gateway.output()).not.toContain('hunter2');
  });

  it('loads a plugin package by name from the working directory', async () => {
    const pkg = join(dir, 'node_modules', 'eg-plugin-stamp');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'eg-plugin-stamp', type: 'module', main: 'index.js' }));
    writeFileSync(
      join(pkg, 'index.js'),
      `export default { name: 'stamp', subscriptions: [{ eventType: 'eventgateway.event.received', type: 'sync' }],
         react: (e) => ({ event: { ...e.data.event, data: { ...e.data.event.data, stamped: true } } }) };\n`,
    );
    gateway = await startGatewayProcess(['--dev', `--embed-data-dir=${join(dir, 'data')}`, '--plugin', 'eg-plugin-stamp'], {}, dir);
    await register(gateway);
    expect((await emit(gateway, '/users', 's1', { n: 1 })).status).toBe(202);
    await target.waitFor(1);
    expect((target.received[0]?.json() as any).data).toEqual({ n: 1, stamped: true });
  });

  it.each([
    ['a missing file', () => './missing.js', (d: string) => `event-gateway: cannot load plugin ./missing.js (${join(d, 'missing.js')}): no such file`],
    ['a syntax error', (d: string) => file(d, 'syntax.js', 'module.exports = {'), (d: string) => `event-gateway: cannot load plugin ${join(d, 'syntax.js')}: SyntaxError: Unexpected end of input`],
    [
      'an export without react',
      (d: string) => file(d, 'no-react.mjs', "export default { name: 'x', subscriptions: [{ eventType: 'eventgateway.event.received', type: 'sync' }] };"),
      (d: string) => `event-gateway: plugin ${join(d, 'no-react.mjs')} has the wrong shape: "react" must be a function (event, context) => …`,
    ],
    [
      'an unknown system event',
      (d: string) => file(d, 'bad-type.js', "module.exports = { name: 'x', subscriptions: [{ eventType: 'user.created', type: 'sync' }], react() {} };"),
      (d: string) =>
        `event-gateway: plugin ${join(d, 'bad-type.js')} has the wrong shape: subscriptions[0].eventType must be one of eventgateway.event.received, eventgateway.function.invoking, eventgateway.function.invoked, eventgateway.function.invocationFailed (got "user.created")`,
    ],
    ['a package that is not installed', () => 'eg-no-such-plugin', (d: string) => `event-gateway: cannot load plugin eg-no-such-plugin: no such package from ${d}`],
  ])('refuses to start with %s, naming the file and what is wrong (exit code 2)', async (_name, spec, message) => {
    const result = await runCli(['--dev', `--embed-data-dir=${join(dir, 'data')}`, '--events-port=0', '--config-port=0', '--plugin', spec(dir)], dir);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toContain(message(dir));
    expect(result.stdout).not.toContain('started');
  });

  it('refuses two plugins of one name and a bad --plugin-timeout', async () => {
    const twice = await runCli(['--dev', `--embed-data-dir=${join(dir, 'data')}`, '--plugin', join(EXAMPLES, 'redact.js'), '--plugin', `${join(EXAMPLES, 'redact.js')}`], dir);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('are both named "redact"; names must differ');
    const timeout = await runCli(['--plugin-timeout', '0'], dir);
    expect(timeout.code).toBe(2);
    expect(timeout.stderr).toContain('--plugin-timeout must be an integer from 1 to 600000, got "0"');
  });
});

function file(dir: string, name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}
