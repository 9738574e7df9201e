import { rmSync } from 'node:fs';
import { call, tempDir } from '../support/gateway';
import { runCli, startGatewayProcess } from '../support/process';
import { TestTarget } from '../support/target';

describe('the event-gateway command', () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = tempDir('eg-cli-');
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('prints its flags with --help and its version with --version', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--dev', '--config-port', '--events-port', '--embed-data-dir', '--config-tls-cert', '--events-tls-key', '--log-level', '--log-format', '--workers', '--workers-backlog']) {
      expect(help.stdout).toContain(flag);
    }
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^event-gateway \d+\.\d+\.\d+/);
  });

  it('refuses an unknown flag or a bad value with exit code 2 and a clear message', async () => {
    const unknown = await runCli(['--no-such-flag']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no-such-flag');
    const badPort = await runCli(['--events-port=seventy']);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('--events-port must be an integer');
  });

  it('keeps the registry across a restart on the same data directory, and exits cleanly on SIGTERM', async () => {
    const dir = dataDir();
    const first = await startGatewayProcess(['--dev', `--embed-data-dir=${dir}`]);
    const created = await call('POST', `${first.configUrl}/v1/spaces/default/functions`, { functionId: 'kept', type: 'http', provider: { url: 'http://127.0.0.1:9/' } });
    expect(created.status).toBe(201);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = await startGatewayProcess(['-dev', '--embed-data-dir', dir]);
    try {
      const fetched = await call('GET', `${second.configUrl}/v1/spaces/default/functions/kept`);
      expect(fetched.status).toBe(200);
      expect(fetched.body.functionId).toBe('kept');
    } finally {
      second.child.kill('SIGINT');
      expect(await second.exited).toBe(0);
    }
  });

  it('finishes accepted deliveries before exiting on SIGTERM', async () => {
    const target = await TestTarget.start();
    target.behaviour = () => 'hang';
    const gw = await startGatewayProcess([`--embed-data-dir=${dataDir()}`, '--allow-unauthenticated-config', '--allow-target-networks=127.0.0.0/8']);
    try {
      const base = `${gw.configUrl}/v1/spaces/default`;
      await call('POST', `${base}/eventtypes`, { name: 'slow.event' });
      await call('POST', `${base}/functions`, { functionId: 'slow', type: 'http', provider: { url: target.url } });
      await call('POST', `${base}/subscriptions`, { type: 'async', eventType: 'slow.event', functionId: 'slow' });
      const event = { eventType: 'slow.event', cloudEventsVersion: '0.1', source: '/cli', eventID: 'drain-1' };
      const res = await fetch(gw.eventsUrl, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(event) });
      expect(res.status).toBe(202);
      await target.waitFor(1);
      gw.child.kill('SIGTERM');
      let exitedEarly = false;
      void gw.exited.then(() => (exitedEarly = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      // The delivery is still in flight: the gateway must wait for it.
      expect(exitedEarly).toBe(false);
    } finally {
      // Closing the target ends the held call, which lets the drain finish.
      await target.close();
    }
    expect(await gw.exited).toBe(0);
  });
});
