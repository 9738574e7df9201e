import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

/**
 * One command, every scenario: the gateway and the target each run in their own process on loopback,
 * autocannon drives them from this one. Results are printed as ratios to the direct target measured
 * in the same run, because absolute figures depend on the machine.
 */

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** Length of the optional memory soak (sync GET load while sampling the gateway's RSS); 0 skips it. */
const SOAK_SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 0);
/** Only the scenario of one target down (`BENCH_ONLY=breaker`), for a quick look at the circuit breaker. */
const ONLY_BREAKER = process.env.BENCH_ONLY === 'breaker';
const ROOT = join(__dirname, '..', '..');

interface Row {
  scenario: string;
  rps: number;
  p99: number;
  ratio?: number;
  /** Gateway CPU time per request, in µs (all its processes). */
  cpuUs?: number;
  note?: string;
}

/** Starts a process and resolves with the first line of its output that `wanted` accepts (any line by default). */
function spawnAndReadFirstLine(args: string[], env: NodeJS.ProcessEnv = {}, wanted: (line: string) => boolean = () => true): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      const line = lines.find(wanted);
      if (line === undefined) return;
      child.stdout?.off('data', onData);
      child.stdout?.resume();
      resolve({ child, line });
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}

async function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return autocannon({ duration: SECONDS, ...opts });
}

/** The bench runs the gateway as in production: Config API behind an access key. */
const BENCH_KEY = 'bench-access-key-0123456789';

/** One keep-alive connection, as a config client (the SDK, a deploy tool) uses; fetch's own overhead would dominate. */
const configAgent = new Agent({ keepAlive: true, maxSockets: 1 });

function json(method: string, url: string, body: unknown): Promise<number> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method,
        agent: configAgent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), authorization: `Bearer ${BENCH_KEY}` },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function rssOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Clock ticks per second of /proc's CPU times. */
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** The gateway's processes: the one started and every descendant (the workers of `--processes`). */
function processTree(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = statOf(Number(entry));
    if (stat) parents.set(Number(entry), Number(stat[1]));
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const [pid, ppid] of parents) if (ppid === tree[i]) tree.push(pid);
  return tree;
}

/** The fields of /proc/<pid>/stat after the command name (state, ppid, …), or undefined once it exited. */
function statOf(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) the gateway's processes have used so far. */
function cpuSeconds(root: number): number {
  let ticks = 0;
  for (const pid of processTree(root)) {
    const stat = statOf(pid);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command name.
    if (stat) ticks += Number(stat[11]) + Number(stat[12]);
  }
  return ticks / CLOCK_TICKS;
}

/** Resident memory of the gateway's processes, in MB. */
function treeRss(root: number): number {
  return processTree(root).reduce((sum, pid) => sum + rssOf(pid), 0);
}

interface Gateway {
  child: ChildProcess;
  pid: number;
  events: string;
  config: string;
  dataDir: string;
}

async function startGateway(targetUrl: string, processes: number): Promise<Gateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'eg-bench-'));
  const started = await spawnAndReadFirstLine([
    join(ROOT, 'dist', 'bin', 'event-gateway.js'),
    '--events-port=0',
    '--config-port=0',
    '--log-format=json',
    '--log-level=info',
    `--embed-data-dir=${dataDir}`,
    // The bench target listens on loopback, which production mode refuses by default.
    '--allow-target-networks=127.0.0.0/8',
    // It registers thousands of functions in one space, beyond the default cap of 1000.
    '--max-records-per-space=1000000',
    ...(processes > 1 ? [`--processes=${processes}`] : []),
    ...(process.env.BENCH_GATEWAY_ARGS ?? '').split(' ').filter(Boolean),
  ], { EVENT_GATEWAY_ACCESS_KEYS: BENCH_KEY }, (line) => line.includes('"events"'));
  const urls = JSON.parse(started.line) as { events: string; config: string };
  const config = `${urls.config}/v1/spaces/default`;
  await json('POST', `${config}/eventtypes`, { name: 'http.request' });
  await json('POST', `${config}/eventtypes`, { name: 'bench.event' });
  await json('POST', `${config}/functions`, { functionId: 'target', type: 'http', provider: { url: `${targetUrl}/` } });
  await json('POST', `${config}/subscriptions`, { type: 'sync', eventType: 'http.request', functionId: 'target', path: '/hello', method: 'GET' });
  await json('POST', `${config}/subscriptions`, { type: 'async', eventType: 'bench.event', functionId: 'target', path: '/emit' });
  // The same delivery through a JSONata transform (a Slack-style body made from the event).
  await json('POST', `${config}/subscriptions`, {
    type: 'async',
    eventType: 'bench.event',
    functionId: 'target',
    path: '/emit-transformed',
    transform: { jsonata: '{"text": "New user " & data.user.name & " <" & data.user.email & "> from " & source, "n": data.n}', replace: 'event' },
  });
  return { child: started.child, pid: started.child.pid ?? 0, events: urls.events, config: urls.config, dataDir };
}

async function stopGateway(gateway: Gateway): Promise<void> {
  gateway.child.kill('SIGTERM');
  await new Promise((resolve) => gateway.child.once('exit', resolve));
  rmSync(gateway.dataDir, { recursive: true, force: true });
}

/** A load run through the gateway, with the gateway's CPU time per request. */
async function measured(gateway: Gateway, opts: autocannon.Options): Promise<{ result: autocannon.Result; cpuUs: number }> {
  const cpu0 = cpuSeconds(gateway.pid);
  const result = await run(opts);
  const cpuUs = ((cpuSeconds(gateway.pid) - cpu0) * 1e6) / Math.max(1, result.requests.total);
  return { result, cpuUs };
}

async function syncRows(gateway: Gateway, targetUrl: string, label: string, connectionsList: number[]): Promise<Row[]> {
  const rows: Row[] = [];
  for (const connections of connectionsList) {
    const direct = await run({ url: `${targetUrl}/hello`, connections });
    const { result: through, cpuUs } = await measured(gateway, { url: `${gateway.events}/hello`, connections });
    rows.push({ scenario: `direct target GET, ${connections} conns`, rps: direct.requests.average, p99: direct.latency.p99 });
    rows.push({
      scenario: `gateway sync GET, ${connections} conns, ${label}`,
      rps: through.requests.average,
      p99: through.latency.p99,
      ratio: through.requests.average / direct.requests.average,
      cpuUs,
    });
  }
  return rows;
}

/** Async emit at 8 connections (to `/emit`, or `/emit-transformed` through a transform); CPU counted until every accepted event was delivered. */
async function asyncRow(gateway: Gateway, targetUrl: string, label: string, directRps: number, path = '/emit', what = 'gateway async emit'): Promise<Row> {
  const before = Number(await (await fetch(`${targetUrl}/__count`)).text());
  const cpu0 = cpuSeconds(gateway.pid);
  const body = JSON.stringify({ eventType: 'bench.event', cloudEventsVersion: '0.1', source: '/bench', eventID: '1', data: { n: 1, user: { name: 'Ada', email: 'ada@example.com' } } });
  const emitted = await run({ url: `${gateway.events}${path}`, method: 'POST', connections: 8, headers: { 'content-type': 'application/cloudevents+json' }, body });
  const accepted = emitted['2xx'];
  let delivered = 0;
  for (let i = 0; i < 120; i++) {
    delivered = Number(await (await fetch(`${targetUrl}/__count`)).text()) - before;
    if (delivered >= accepted) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const cpuUs = ((cpuSeconds(gateway.pid) - cpu0) * 1e6) / Math.max(1, accepted);
  return {
    scenario: `${what}, 8 conns, ${label}`,
    rps: emitted.requests.average,
    p99: emitted.latency.p99,
    ratio: emitted.requests.average / directRps,
    cpuUs,
    note: `accepted ${accepted}, delivered ${delivered} (${((100 * delivered) / Math.max(1, accepted)).toFixed(1)} %); CPU per accepted and delivered event`,
  };
}

/** Sequential function creates in the default space: how long a config write takes at the registry's size. */
async function configRow(gateway: Gateway, targetUrl: string, label: string, prefix: string): Promise<Row> {
  const config = `${gateway.config}/v1/spaces/default`;
  const create = async (functionId: string) => {
    const status = await json('POST', `${config}/functions`, { functionId, type: 'http', provider: { url: `${targetUrl}/` } });
    if (status !== 201) throw new Error(`create ${functionId} answered ${status}`);
  };
  // Warm the Config API's code the way the events paths were warmed: steady state, not JIT compilation, is measured.
  for (let i = 0; i < 200; i++) await create(`${prefix}-warm-${i}`);
  const creates = 1000;
  const t0 = performance.now();
  for (let i = 0; i < creates; i++) await create(`${prefix}-${i}`);
  const seconds = (performance.now() - t0) / 1000;
  return { scenario: `config: ${creates} sequential function creates, ${label}`, rps: creates / seconds, p99: NaN, note: `${((seconds * 1000) / creates).toFixed(2)} ms each, after 200 to warm up` };
}

const SPACES = 1000;
const SUBSCRIPTIONS_PER_SPACE = 10;

/**
 * What many teams sharing a gateway register: 1,000 more spaces, each with its event types, a function
 * and 10 subscriptions (5 sync routes, 5 async), none of them matching the measured requests.
 */
async function registerSpaces(gateway: Gateway, targetUrl: string): Promise<void> {
  for (let i = 0; i < SPACES; i++) {
    const config = `${gateway.config}/v1/spaces/team-${i}`;
    await json('POST', `${config}/eventtypes`, { name: 'http.request' });
    await json('POST', `${config}/eventtypes`, { name: 'bench.event' });
    await json('POST', `${config}/functions`, { functionId: 'target', type: 'http', provider: { url: `${targetUrl}/` } });
    for (let j = 0; j < SUBSCRIPTIONS_PER_SPACE / 2; j++) {
      const sync = await json('POST', `${config}/subscriptions`, { type: 'sync', eventType: 'http.request', functionId: 'target', path: `/team-${i}/r${j}/:id`, method: 'GET' });
      const async = await json('POST', `${config}/subscriptions`, { type: 'async', eventType: 'bench.event', functionId: 'target', path: `/team-${i}/e${j}` });
      if (sync !== 201 || async !== 201) throw new Error(`subscriptions of team-${i} answered ${sync}, ${async}`);
    }
  }
}

async function main(): Promise<void> {
  const processesList = (process.env.BENCH_PROCESSES ?? '1 2').split(' ').filter(Boolean).map(Number);
  const target = await spawnAndReadFirstLine([join(ROOT, 'dist', 'bench', 'target.js')]);
  const targetUrl = `http://127.0.0.1:${target.line.trim()}`;
  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    for (const [n, processes] of processesList.entries()) {
      const gateway = await startGateway(targetUrl, processes);
      const label = `${processes} process${processes > 1 ? 'es' : ''}`;
      try {
        if (ONLY_BREAKER) {
          await oneTargetDown(gateway.events, `${gateway.config}/v1/spaces/default`, targetUrl, rows);
          break;
        }
        // Warm both paths so that JIT and connection pools are in steady state.
        await run({ url: `${gateway.events}/hello`, connections: 8, duration: 2 });
        const sync = await syncRows(gateway, targetUrl, label, [8, 64]);
        rows.push(...sync);
        const plain = await asyncRow(gateway, targetUrl, label, sync[0]?.rps ?? 1);
        rows.push(plain);
        if (n > 0) continue;
        const transformed = await asyncRow(gateway, targetUrl, label, sync[0]?.rps ?? 1, '/emit-transformed', 'gateway async emit through a transform');
        transformed.note = `${(transformed.rps / plain.rps).toFixed(2)}× the plain async emit; ${transformed.note ?? ''}`;
        rows.push(transformed);
        rows.push(await configRow(gateway, targetUrl, `1 space`, 'small'));
        await oneTargetDown(gateway.events, `${gateway.config}/v1/spaces/default`, targetUrl, rows);
        // The registry grows: the same requests, then the same config writes, with 1,000 more spaces.
        const rssBefore = treeRss(gateway.pid);
        const t0 = performance.now();
        await registerSpaces(gateway, targetUrl);
        const registerSeconds = (performance.now() - t0) / 1000;
        const big = `${SPACES + 1} spaces, ${SPACES * SUBSCRIPTIONS_PER_SPACE + 2} subscriptions`;
        await run({ url: `${gateway.events}/hello`, connections: 8, duration: 2 });
        const rssAfter = treeRss(gateway.pid);
        const bigSync = await syncRows(gateway, targetUrl, big, [8]);
        rows.push(...bigSync);
        rows.push(await asyncRow(gateway, targetUrl, big, bigSync[0]?.rps ?? 1));
        rows.push(await configRow(gateway, targetUrl, big, 'big'));
        notes.push(
          `registering ${SPACES} spaces (${SPACES * (3 + SUBSCRIPTIONS_PER_SPACE)} config writes) took ${registerSeconds.toFixed(1)} s; ` +
            `gateway RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MB: ≈ ${(((rssAfter - rssBefore) * 1000) / (SPACES * SUBSCRIPTIONS_PER_SPACE)).toFixed(2)} MB per 1,000 subscriptions (with their spaces, functions and event types)`,
        );
        notes.push(`gateway RSS after the ${label} run: ${treeRss(gateway.pid).toFixed(0)} MB`);
        if (SOAK_SECONDS > 0) await soak(`${gateway.events}/hello`, gateway.pid);
      } finally {
        await stopGateway(gateway);
      }
    }
    print(rows, notes);
  } finally {
    configAgent.destroy();
    target.child.kill('SIGTERM');
  }
  if (process.env.BENCH_LAMBDA !== '0') lambdaBundles();
}

const countOf = async (url: string) => Number(await (await fetch(`${url}/__count`)).text());

/** Polls until `done` holds (at most `limitMs`); returns how long it took, in seconds. */
async function waitUntil(done: () => Promise<boolean>, limitMs: number): Promise<number> {
  const t0 = performance.now();
  while (!(await done()) && performance.now() - t0 < limitMs) await new Promise((resolve) => setTimeout(resolve, 50));
  return (performance.now() - t0) / 1000;
}

/**
 * One of two async targets down (connection refused) while events for both keep coming, then back:
 * intake and delivery to the healthy target against the all-healthy figures of the same run, and how
 * fast the dead target's backlog drains once its circuit closes, against the live delivery rate.
 */
async function oneTargetDown(events: string, config: string, healthyUrl: string, rows: Row[]): Promise<void> {
  const second = await spawnAndReadFirstLine([join(ROOT, 'dist', 'bench', 'target.js')]);
  const port = second.line.trim();
  let downUrl = `http://127.0.0.1:${port}`;
  let down = second.child;
  try {
    await json('POST', `${config}/eventtypes`, { name: 'bench.pair' });
    for (const [functionId, url] of [['pair-healthy', healthyUrl], ['pair-down', downUrl]] as const) {
      await json('POST', `${config}/functions`, { functionId, type: 'http', provider: { url: `${url}/` } });
      await json('POST', `${config}/subscriptions`, { type: 'async', eventType: 'bench.pair', functionId, path: '/pair' });
    }
    const body = JSON.stringify({ eventType: 'bench.pair', cloudEventsVersion: '0.1', source: '/bench', eventID: '1', data: { n: 1 } });
    const emit = (duration = SECONDS) => run({ url: `${events}/pair`, method: 'POST', connections: 8, headers: { 'content-type': 'application/cloudevents+json' }, body, duration });
    /** Emits for the scenario's length; the healthy target's deliveries during it, per second. */
    const phase = async () => {
      const before = await countOf(healthyUrl);
      const t0 = performance.now();
      const result = await emit();
      const deliveredPerSecond = ((await countOf(healthyUrl)) - before) / ((performance.now() - t0) / 1000);
      return { result, deliveredPerSecond };
    };
    // Warm up (JIT, connection pools), and let what that queued be delivered before measuring.
    const warm = await emit(2);
    await waitUntil(async () => (await countOf(downUrl)) >= warm['2xx'], 60_000);
    const downBefore = await countOf(downUrl);
    const healthyBefore = await countOf(healthyUrl);
    const allHealthy = await phase();
    await waitUntil(async () => (await countOf(downUrl)) - downBefore >= allHealthy.result['2xx'], 60_000);
    const liveRate = allHealthy.deliveredPerSecond;

    down.kill('SIGTERM');
    await new Promise((resolve) => down.once('exit', resolve));
    const oneDown = await phase();
    const backlog = oneDown.result['2xx'];

    const back = await spawnAndReadFirstLine([join(ROOT, 'dist', 'bench', 'target.js')], { PORT: port });
    down = back.child;
    downUrl = `http://127.0.0.1:${back.line.trim()}`;
    // From the target's return: first the wait for the circuit's probe, then the drain of what waited.
    const untilProbe = await waitUntil(async () => (await countOf(downUrl)) > 0, 60_000);
    const drainSeconds = await waitUntil(async () => (await countOf(downUrl)) >= backlog, 120_000);
    const drained = await countOf(downUrl);
    const healthyTotal = (await countOf(healthyUrl)) - healthyBefore;
    const accepted = allHealthy.result['2xx'] + oneDown.result['2xx'];
    rows.push({ scenario: 'two async targets, both up (accepted/s)', rps: allHealthy.result.requests.average, p99: allHealthy.result.latency.p99, note: `healthy target delivered ${Math.round(liveRate)}/s` });
    rows.push({
      scenario: 'two async targets, one down (accepted/s)',
      rps: oneDown.result.requests.average,
      p99: oneDown.result.latency.p99,
      note: `${(oneDown.result.requests.average / allHealthy.result.requests.average).toFixed(2)}× intake; healthy target delivered ${Math.round(oneDown.deliveredPerSecond)}/s = ${(oneDown.deliveredPerSecond / liveRate).toFixed(2)}× (goal ≥ 0.9× both)`,
    });
    rows.push({
      scenario: 'the dead target back: its backlog drained (deliveries/s)',
      rps: backlog / Math.max(0.001, drainSeconds),
      p99: NaN,
      note: `${backlog} waiting, first delivery ${untilProbe.toFixed(1)} s after its return (the probe), drained in ${drainSeconds.toFixed(1)} s = ${(backlog / Math.max(0.001, drainSeconds) / liveRate).toFixed(2)}× the live rate (goal ≥ 0.5×); lost: healthy ${Math.max(0, accepted - healthyTotal)}, back target ${Math.max(0, backlog - drained)}`,
    });
  } finally {
    down.kill('SIGTERM');
  }
}

/** The Lambda handlers' bundle sizes and cold `require` times (bench/lambda.ts, run from source: lib/infra is not built into dist). */
function lambdaBundles(): void {
  // esbuild's progress goes to stderr; the table to stdout.
  spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'lambda.ts')], { cwd: ROOT, stdio: ['ignore', 'inherit', 'ignore'] });
}

/** Sustained sync load with the gateway's RSS sampled every 10 s: memory should stay flat. */
async function soak(url: string, pid: number): Promise<void> {
  const samples: number[] = [treeRss(pid)];
  const timer = setInterval(() => samples.push(treeRss(pid)), 10_000);
  const result = await run({ url, connections: 8, duration: SOAK_SECONDS });
  clearInterval(timer);
  samples.push(treeRss(pid));
  const firstMinute = samples.slice(1, 7);
  const settled = firstMinute.length > 0 ? Math.max(...firstMinute) : samples[0] ?? 0;
  const last = samples.at(-1) ?? 0;
  process.stdout.write(
    `\nsoak: ${SOAK_SECONDS} s of sync GET at ${Math.round(result.requests.average)} req/s; RSS MB every 10 s: ${samples.map((m) => m.toFixed(0)).join(' ')}\n` +
      `RSS at the end / highest in the first minute: ${(last / Math.max(1, settled)).toFixed(2)}\n`,
  );
}

function print(rows: Row[], notes: string[]): void {
  const lines = [
    `| scenario | req/s | p99 ms | ratio to direct (8 conns for async) | gateway CPU µs/request | note |`,
    `|---|---:|---:|---:|---:|---|`,
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${Math.round(r.rps)} | ${Number.isNaN(r.p99) ? '' : r.p99} | ${r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`} | ${r.cpuUs === undefined ? '' : Math.round(r.cpuUs)} | ${r.note ?? ''} |`,
    ),
    '',
    ...notes,
    `${SECONDS} s per load scenario; CPU is user + system time of every gateway process, from /proc; node ${process.version}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
