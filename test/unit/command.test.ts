import cluster from 'node:cluster';
import { diag } from '@opentelemetry/api';
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { accessKeysFromEnv, parseAccessKeys } from '../../lib/http/config-access';
import type { Plugin } from '../../lib/plugins/plugin';
import { HELP, parseCommandLine } from '../../lib/server/cli';
import { configAccessOf, createLogger, main, startUpLine, tracingConfigOf } from '../../lib/server/main';
import { TAIL_HELP } from '../../lib/server/tail-cli';
import { StandInProcess } from '../support/command-process';
import { call, startTestGateway, tempDir } from '../support/gateway';
import { OtlpReceiver, SPAN_KIND } from '../support/otlp-receiver';
import { SqsLoopback } from '../support/sqs-loopback';
import { TestTarget } from '../support/target';
import { eventually } from '../support/waiting';

const VERSION = '9.8.7';
const KEY = 'production-key-0123456789abcdef';
const ENV_KEY = 'environment-key-0123456789abcdef';
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

const optionsOf = (args: string[]) => {
  const request = parseCommandLine(args, VERSION);
  if (request.kind !== 'run') throw new Error(request.text);
  return request.options;
};

const dir = tempDir('eg-command-');
let files = 0;
const standIn = (env: NodeJS.ProcessEnv = {}, isTTY = false) => {
  const proc = StandInProcess.in(dir, `stdout-${files++}.log`, env, isTTY);
  return proc;
};
const dataDir = () => join(dir, `data-${files++}`);

/** Runs the command in this process on free ports with JSON logs; resolves with its URLs once it has started. */
async function start(args: string[], env: NodeJS.ProcessEnv = {}) {
  const proc = standIn(env);
  await main(['--events-port=0', '--config-port=0', '--log-format=json', `--embed-data-dir=${dataDir()}`, ...args], VERSION, proc);
  // A started gateway waits for its stop signal; without a listener, it did not start.
  if (proc.listenerCount('SIGTERM') === 0) throw new Error(`the gateway did not start (exit code ${String(proc.exitCode)}): ${proc.errorOutput()}`);
  const line = await proc.started();
  return { proc, line, eventsUrl: String(line.events), configUrl: String(line.config), space: `${String(line.config)}/v1/spaces/default` };
}

/** Runs the command in this process to its end (a usage error, help): what it printed and its exit code. */
async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const proc = standIn(env);
  await main(args, VERSION, proc);
  return { code: proc.exitCode, stdout: proc.output(), stderr: proc.errorOutput() };
}

const authed = (key: string) => ({ authorization: `bearer ${key}`, 'content-type': 'application/json' });
const post = (url: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });

/** A sync subscription on GET /<path> calling `url`, made with `headers`. */
async function syncRoute(space: string, path: string, url: string, headers?: Record<string, string>) {
  expect((await post(`${space}/eventtypes`, { name: 'http.request' }, headers)).status).toBe(201);
  expect((await post(`${space}/functions`, { functionId: path, type: 'http', provider: { url } }, headers)).status).toBe(201);
  expect((await post(`${space}/subscriptions`, { type: 'sync', eventType: 'http.request', functionId: path, method: 'GET', path: `/${path}` }, headers)).status).toBe(201);
}

// A cluster's primary forks this instead of the test runner: a worker that exits at once, code 3.
// setupPrimary merges into the settings before it, so they are put back field by field afterwards.
const settings = { exec: process.argv[1], args: process.argv.slice(2), silent: false, ...cluster.settings };
beforeAll(() => {
  const worker = join(dir, 'exiting-worker.js');
  writeFileSync(worker, 'process.exit(3);\n');
  cluster.setupPrimary({ exec: worker, args: [], silent: true });
});
afterAll(() => {
  cluster.setupPrimary(settings);
  rmSync(dir, { recursive: true, force: true });
});

describe('the command run in this process: printing and refusing', () => {
  it('prints its help on stdout with exit code 0, and a usage error on stderr with exit code 2', async () => {
    expect(await run(['--help'])).toEqual({ code: 0, stdout: HELP, stderr: '' });
    const refused = await run(['--no-such-flag']);
    expect(refused).toMatchObject({ code: 2, stdout: '' });
    expect(refused.stderr).toContain('no-such-flag');
  });

  it('refuses an invalid keys file, a missing one, and a plugin it cannot load, with exit code 2 and without starting', async () => {
    const bad = join(dir, 'short-keys.json');
    writeFileSync(bad, '["short"]');
    const invalid = await run([`--embed-data-dir=${dataDir()}`, `--config-keys-file=${bad}`]);
    expect(invalid).toMatchObject({ code: 2, stdout: '' });
    expect(invalid.stderr).toMatch(/^event-gateway: .*access key #1.*\n$/);
    const missing = join(dir, 'missing-keys.json');
    const unreadable = await run([`--embed-data-dir=${dataDir()}`, `--config-keys-file=${missing}`]);
    expect(unreadable).toEqual({ code: 2, stdout: '', stderr: `event-gateway: cannot read --config-keys-file ${missing}: ENOENT\n` });
    const plugin = await run([`--embed-data-dir=${dataDir()}`, '--plugin=./no-such-plugin.js']);
    expect(plugin).toMatchObject({ code: 2, stdout: '' });
    expect(plugin.stderr).toMatch(/^event-gateway: cannot load plugin \.\/no-such-plugin\.js/);
  });

  it('refuses the gRPC protocol, which it cannot export, with exit code 2', async () => {
    const grpc = await run([`--embed-data-dir=${dataDir()}`, '--otlp-endpoint=http://127.0.0.1:4317'], { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    expect(grpc).toMatchObject({ code: 2, stdout: '' });
    expect(grpc.stderr).toMatch(/^event-gateway: OTLP protocol "grpc" is not supported/);
  });
});

describe('the command run in this process: a start', () => {
  let target: TestTarget;
  beforeEach(async () => {
    target = await TestTarget.start();
    target.behaviour = () => ({ status: 200, body: '{"statusCode":200,"body":"called"}' });
  });
  afterEach(async () => {
    await target.close();
  });

  it('in production (no --dev) wants a key from the keys file or the environment, and refuses a loopback target', async () => {
    const keysFile = join(dir, 'keys.json');
    writeFileSync(keysFile, JSON.stringify([KEY]));
    diag.disable();
    const gw = await start([`--config-keys-file=${keysFile}`], { EVENT_GATEWAY_ACCESS_KEYS: ENV_KEY });
    // Without an SDK, OpenTelemetry's diagnostics are not routed to the log.
    diag.error('a diagnostic nothing should route');
    expect((await post(`${gw.space}/eventtypes`, { name: 'without.key' })).status).toBe(401);
    expect((await post(`${gw.space}/eventtypes`, { name: 'with.env.key' }, authed(ENV_KEY))).status).toBe(201);
    await syncRoute(gw.space, 'local', target.url, authed(KEY));

    const res = await fetch(`${gw.eventsUrl}/local`);
    expect(res.status).toBe(500);
    await gw.proc.printed('127.0.0.1 is a loopback address');
    expect(target.received).toEqual([]);
    expect(gw.line).toMatchObject({ msg: `Event Gateway ${VERSION} started: Events API ${gw.eventsUrl}, Config API ${gw.configUrl}`, dev: false, delivery: 'durable', tracing: 'propagation only', plugins: [] });
    expect(gw.proc.output()).not.toContain('development mode');
    expect(await gw.proc.stop()).toBe(0);
    expect(gw.proc.output()).not.toContain('a diagnostic nothing should route');
    expect(gw.proc.logLines()).toContainEqual(expect.objectContaining({ signal: 'SIGTERM', msg: 'stopping: draining in-flight requests and queued deliveries' }));
  });

  it('in production without keys serves reads but refuses writes; --allow-unauthenticated-config opens it', async () => {
    const closed = await start(['--delivery=memory']);
    expect((await post(`${closed.space}/eventtypes`, { name: 'refused' })).status).toBe(403);
    expect((await call('GET', `${closed.space}/eventtypes`)).status).toBe(200);
    expect(closed.line).toMatchObject({ delivery: 'memory' });
    expect(await closed.proc.stop('SIGINT')).toBe(0);

    const open = await start(['--allow-unauthenticated-config', '--delivery=memory']);
    expect((await post(`${open.space}/eventtypes`, { name: 'accepted' })).status).toBe(201);
    expect(await open.proc.stop()).toBe(0);
  });

  it('in --dev is open, calls loopback targets, says so, and drains on SIGINT', async () => {
    const gw = await start(['--dev']);
    await syncRoute(gw.space, 'local', target.url);
    const res = await fetch(`${gw.eventsUrl}/local`);
    expect([res.status, await res.text()]).toEqual([200, 'called']);
    expect(gw.line).toMatchObject({ dev: true });
    expect(await gw.proc.stop('SIGINT')).toBe(0);
    expect(gw.proc.logLines()).toContainEqual(expect.objectContaining({ dev: true, level: 40, msg: 'development mode: targets on loopback addresses (127.0.0.0/8, ::1) are allowed' }));
  });

  it('delivers through SQS with --sqs-queue-url: retried up to --retry-max-attempts, dead-lettered to its dead-letter queue', async () => {
    const sqs = await SqsLoopback.start();
    const saved = { ...process.env };
    // The SDK signs with these, from this process's own environment.
    Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' });
    try {
      const gw = await start(['--dev', `--sqs-queue-url=${sqs.queueUrl('deliveries')}`, `--sqs-dead-letter-queue-url=${sqs.queueUrl('dlq')}`, `--sqs-endpoint=${sqs.endpoint}`, '--retry-max-attempts=2']);
      expect(gw.line).toMatchObject({ delivery: 'sqs' });
      // o-refused cannot succeed (dead-lettered at once); o-down may later (retried: 1 attempt of 2).
      target.behaviour = (req) => (req.body.includes('o-refused') ? { status: 422, body: 'unknown customer' } : { status: 503, body: 'down' });
      expect((await post(`${gw.space}/eventtypes`, { name: 'order.placed' })).status).toBe(201);
      expect((await post(`${gw.space}/functions`, { functionId: 'orders', type: 'http', provider: { url: target.url } })).status).toBe(201);
      expect((await post(`${gw.space}/subscriptions`, { type: 'async', eventType: 'order.placed', functionId: 'orders', path: '/' })).status).toBe(201);
      for (const id of ['o-refused', 'o-down']) {
        const event = { eventType: 'order.placed', cloudEventsVersion: '0.1', source: '/shop', eventID: id };
        const emitted = await fetch(`${gw.eventsUrl}/`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(event) });
        expect(emitted.status).toBe(202);
      }
      await target.waitFor(2);
      const retriedOrDeadLettered = (c: (typeof sqs.calls)[number]) =>
        (c.target === 'AmazonSQS.ChangeMessageVisibility' || (c.target === 'AmazonSQS.SendMessage' && c.body.QueueUrl === sqs.queueUrl('dlq'))) && !String(c.body.MessageBody ?? '').includes('o-refused');
      const handled = await eventually(async () => sqs.calls.find(retriedOrDeadLettered), 'o-down retried or dead-lettered');
      expect(handled.target).toBe('AmazonSQS.ChangeMessageVisibility');
      const list = await eventually(async () => {
        const letters = (await call('GET', `${gw.space}/deadletters`)).body.deadLetters as Array<Record<string, unknown>>;
        return letters.length > 0 ? letters : undefined;
      }, 'the dead letter');
      expect(list).toEqual([expect.objectContaining({ functionId: 'orders', eventId: 'o-refused', attempts: 1, error: expect.stringContaining('422') })]);
      expect(await gw.proc.stop()).toBe(0);
    } finally {
      process.env = saved;
      await sqs.close();
    }
  });

  it('exports spans to --otlp-endpoint with its version, and flushes them when stopped', async () => {
    const receiver = await OtlpReceiver.start();
    try {
      const gw = await start(['--dev', `--otlp-endpoint=${receiver.endpoint}`]);
      expect(gw.line).toMatchObject({ tracing: 'otlp' });
      await syncRoute(gw.space, 'traced', target.url);
      expect((await fetch(`${gw.eventsUrl}/traced`, { headers: { traceparent: TRACEPARENT } })).status).toBe(200);
      expect(await gw.proc.stop()).toBe(0);
      const spans = receiver.trace('0af7651916cd43dd8448eb211c80319c');
      expect(spans.map((span) => span.kind).sort()).toEqual([SPAN_KIND.server, SPAN_KIND.client]);
      expect(spans.every((span) => span.serviceVersion === VERSION)).toBe(true);
    } finally {
      await receiver.close();
    }
  });

  it('logs the failure to export spans, which OpenTelemetry would otherwise drop in silence', async () => {
    const receiver = await OtlpReceiver.start();
    try {
      // Not a collector's path: every export is answered 404.
      const gw = await start(['--dev', `--otlp-endpoint=${receiver.endpoint}/nowhere`]);
      await syncRoute(gw.space, 'traced', target.url);
      expect((await fetch(`${gw.eventsUrl}/traced`)).status).toBe(200);
      // The last export fails too, which makes the stop itself fail (exit code 1).
      await gw.proc.stop();
      expect(gw.proc.logLines()).toContainEqual(expect.objectContaining({ component: 'opentelemetry', level: 40 }));
      expect(receiver.spans).toEqual([]);
    } finally {
      await receiver.close();
    }
  });

  it('with --processes 2 runs a cluster: its start fails when a worker exits during start-up', async () => {
    const proc = standIn();
    await expect(main(['--events-port=0', '--config-port=0', '--log-format=json', `--embed-data-dir=${dataDir()}`, '--delivery=memory', '--processes=2'], VERSION, proc)).rejects.toThrow(
      /^worker [01] exited during start-up \(code 3/,
    );
  });
});

describe('the tail subcommand run in this process', () => {
  it('prints its help with exit code 0, and refuses an unknown flag with exit code 2', async () => {
    expect(await run(['tail', '--help'])).toEqual({ code: 0, stdout: TAIL_HELP, stderr: '' });
    const refused = await run(['tail', '--nope']);
    expect(refused).toMatchObject({ code: 2, stdout: '' });
    expect(refused.stderr).toMatch(/^event-gateway tail: /);
  });

  it('follows a space until SIGINT or SIGTERM, in color on a terminal, and leaves no signal listener behind', async () => {
    // A gateway of its own (not the command's): the tail is what is tested here.
    const gw = await startTestGateway({ delivery: { mode: 'memory' } });
    expect((await post(`${gw.space()}/eventtypes`, { name: 'user.created' })).status).toBe(201);
    const emit = (id: string) =>
      fetch(`${gw.eventsUrl}/`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify({ eventType: 'user.created', cloudEventsVersion: '0.1', source: '/t', eventID: id }) });
    for (const [signal, isTTY] of [['SIGINT', true], ['SIGTERM', false]] as const) {
      const tail = standIn({ EVENT_GATEWAY_CONFIG_URL: gw.configUrl }, isTTY);
      const following = main(['tail'], VERSION, tail);
      const id = `followed-${signal}`;
      await eventually(async () => {
        await emit(id);
        return tail.output().includes(id) ? true : undefined;
      }, 'the event in the tail');
      expect(tail.listenerCount(signal)).toBe(1);
      tail.emit(signal);
      await following;
      expect(tail.exitCode).toBe(0);
      expect(tail.output().includes('\u001b[')).toBe(isTTY);
      expect([tail.listenerCount('SIGINT'), tail.listenerCount('SIGTERM')]).toEqual([0, 0]);
    }
    await gw.stop();
  });
});

describe('the composition root, piece by piece', () => {
  it('opens the Config API without keys only with --dev or --allow-unauthenticated-config', () => {
    expect(configAccessOf(optionsOf([]), undefined)).toEqual({ keys: [], withoutKeys: 'read-only' });
    expect(configAccessOf(optionsOf(['--dev']), undefined)).toEqual({ keys: [], withoutKeys: 'open' });
    expect(configAccessOf(optionsOf(['--allow-unauthenticated-config']), '')).toEqual({ keys: [], withoutKeys: 'open' });
  });

  it('takes the keys of the keys file first, then those of the environment', () => {
    const keysFile = join(dir, 'piece-keys.json');
    const text = JSON.stringify([{ key: KEY, name: 'ops', readOnly: true }]);
    writeFileSync(keysFile, text);
    expect(configAccessOf(optionsOf([`--config-keys-file=${keysFile}`]), ENV_KEY)).toEqual({
      keys: [...parseAccessKeys(text, keysFile), ...accessKeysFromEnv(ENV_KEY)],
      withoutKeys: 'read-only',
    });
    const unreadable = join(dir, 'a-directory');
    mkdirSync(unreadable);
    expect(() => configAccessOf(optionsOf([`--config-keys-file=${unreadable}`]), undefined)).toThrow(`cannot read --config-keys-file ${unreadable}: EISDIR`);
  });

  it('exports spans from a single process and from a cluster worker, never from the primary', () => {
    const env = { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' };
    const endpoint = '--otlp-endpoint=http://127.0.0.1:4318';
    expect(tracingConfigOf(optionsOf([endpoint]), env, true)).toEqual({ protocol: 'http/json', endpoint: 'http://127.0.0.1:4318' });
    expect(tracingConfigOf(optionsOf([endpoint, '--processes=2']), env, false)).toEqual({ protocol: 'http/json', endpoint: 'http://127.0.0.1:4318' });
    expect(tracingConfigOf(optionsOf([endpoint, '--processes=2']), env, true)).toBeUndefined();
    expect(tracingConfigOf(optionsOf([]), {}, true)).toBeUndefined();
  });

  it('names in its start-up line the URLs, the delivery, the plugins and whether spans are exported', () => {
    const plugin: Plugin = { name: 'audit', subscriptions: [], react: () => undefined };
    const options = optionsOf(['--dev', '--embed-data-dir=/data']);
    const urls = { eventsUrl: 'http://127.0.0.1:1', configUrl: 'http://127.0.0.1:2' };
    expect(startUpLine('1.0.0', options, urls, { sqs: true, plugins: [plugin], tracing: true })).toEqual({
      fields: { events: urls.eventsUrl, config: urls.configUrl, dataDir: '/data', delivery: 'sqs', dev: true, plugins: ['audit'], tracing: 'otlp' },
      message: 'Event Gateway 1.0.0 started: Events API http://127.0.0.1:1, Config API http://127.0.0.1:2',
    });
    expect(startUpLine('1.0.0', options, urls, { sqs: false, plugins: [], tracing: false }).fields).toMatchObject({ delivery: 'durable', plugins: [], tracing: 'propagation only' });
  });

  it('logs JSON lines at its level, with credentials censored', async () => {
    const file = join(dir, 'json.log');
    // Left open: the logger writes to it asynchronously.
    const fd = openSync(file, 'w');
    const logger = createLogger({ logFormat: 'json', logLevel: 'info' }, fd);
    logger.debug('below the level');
    logger.info(
      { authorization: 'a', headers: { authorization: 'b' }, req: { authorization: 'c', headers: { authorization: 'd' } }, provider: { signingSecret: 'e' }, fn: { provider: { signingSecret: 'f' } } },
      'above the level',
    );
    logger.flush();
    const line = await eventually(async () => readFileSync(file, 'utf8') || undefined, 'the line');
    expect(JSON.parse(line)).toMatchObject({
      msg: 'above the level',
      authorization: '[Redacted]',
      headers: { authorization: '[Redacted]' },
      req: { authorization: '[Redacted]', headers: { authorization: '[Redacted]' } },
      provider: { signingSecret: '[Redacted]' },
      fn: { provider: { signingSecret: '[Redacted]' } },
    });
    expect(line.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('logs text lines through pino-pretty: the time of day, the level, the message, no pid or host', async () => {
    const file = join(dir, 'text.log');
    // Left open: the logger writes to it from its own thread.
    const fd = openSync(file, 'w');
    const logger = createLogger({ logFormat: 'text', logLevel: 'warn' }, fd, false);
    logger.info('below the level');
    logger.warn({ headers: { authorization: 'secret' } }, 'above the level');
    const text = await eventually(async () => (readFileSync(file, 'utf8').includes('above the level') ? readFileSync(file, 'utf8') : undefined), 'the text line');
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: above the level\n/);
    expect(text).toContain('[Redacted]');
    expect(text).not.toContain('secret');
    expect(text).not.toContain('below the level');
    expect(text).not.toContain(String(process.pid));
  });
});
