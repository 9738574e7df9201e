import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
const ROOT = join(__dirname, '..', '..');

interface Row {
  scenario: string;
  rps: number;
  p99: number;
  ratio?: number;
  note?: string;
}

function spawnAndReadFirstLine(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const newline = buffer.indexOf('\n');
      if (newline === -1) return;
      child.stdout?.off('data', onData);
      child.stdout?.resume();
      resolve({ child, line: buffer.slice(0, newline) });
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

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'eg-bench-'));
  const target = await spawnAndReadFirstLine([join(ROOT, 'dist', 'bench', 'target.js')]);
  const targetUrl = `http://127.0.0.1:${target.line.trim()}`;
  const gateway = await spawnAndReadFirstLine([
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
    ...(process.env.BENCH_GATEWAY_ARGS ?? '').split(' ').filter(Boolean),
  ], { EVENT_GATEWAY_ACCESS_KEYS: BENCH_KEY });
  const started = JSON.parse(gateway.line) as { events: string; config: string };
  const config = `${started.config}/v1/spaces/default`;
  const rows: Row[] = [];
  try {
    await json('POST', `${config}/eventtypes`, { name: 'http.request' });
    await json('POST', `${config}/eventtypes`, { name: 'bench.event' });
    await json('POST', `${config}/functions`, { functionId: 'target', type: 'http', provider: { url: `${targetUrl}/` } });
    await json('POST', `${config}/subscriptions`, { type: 'sync', eventType: 'http.request', functionId: 'target', path: '/hello', method: 'GET' });
    await json('POST', `${config}/subscriptions`, { type: 'async', eventType: 'bench.event', functionId: 'target', path: '/emit' });

    // Warm both paths so that JIT and connection pools are in steady state.
    await run({ url: `${started.events}/hello`, connections: 8, duration: 2 });

    for (const connections of [8, 64]) {
      const direct = await run({ url: `${targetUrl}/hello`, connections });
      const through = await run({ url: `${started.events}/hello`, connections });
      rows.push({ scenario: `direct target GET, ${connections} conns`, rps: direct.requests.average, p99: direct.latency.p99 });
      rows.push({
        scenario: `gateway sync GET, ${connections} conns`,
        rps: through.requests.average,
        p99: through.latency.p99,
        ratio: through.requests.average / direct.requests.average,
      });
    }
    const directRps = rows[0]?.rps ?? 1;

    const before = Number(await (await fetch(`${targetUrl}/__count`)).text());
    const body = JSON.stringify({ eventType: 'bench.event', cloudEventsVersion: '0.1', source: '/bench', eventID: '1', data: { n: 1 } });
    const emitted = await run({
      url: `${started.events}/emit`,
      method: 'POST',
      connections: 8,
      headers: { 'content-type': 'application/cloudevents+json' },
      body,
    });
    const accepted = emitted['2xx'];
    let delivered = 0;
    for (let i = 0; i < 60; i++) {
      delivered = Number(await (await fetch(`${targetUrl}/__count`)).text()) - before;
      if (delivered >= accepted) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    rows.push({
      scenario: 'gateway async emit, 8 conns',
      rps: emitted.requests.average,
      p99: emitted.latency.p99,
      ratio: emitted.requests.average / directRps,
      note: `accepted ${accepted}, delivered ${delivered} (${((100 * delivered) / Math.max(1, accepted)).toFixed(1)} %)`,
    });

    const create = async (functionId: string) => {
      const status = await json('POST', `${config}/functions`, { functionId, type: 'http', provider: { url: `${targetUrl}/` } });
      if (status !== 201) throw new Error(`create ${functionId} answered ${status}`);
    };
    // Warm the Config API's code the way the events paths were warmed: steady state, not JIT compilation, is measured.
    for (let i = 0; i < 200; i++) await create(`warm-${i}`);
    const creates = 1000;
    const t0 = performance.now();
    for (let i = 0; i < creates; i++) await create(`bench-${i}`);
    const seconds = (performance.now() - t0) / 1000;
    rows.push({ scenario: `config: ${creates} sequential function creates`, rps: creates / seconds, p99: NaN, note: `${seconds.toFixed(2)} s, after 200 to warm up` });

    const rss = rssOf(gateway.child.pid);
    print(rows, rss);
    if (SOAK_SECONDS > 0) await soak(`${started.events}/hello`, gateway.child.pid);
  } finally {
    configAgent.destroy();
    gateway.child.kill('SIGTERM');
    target.child.kill('SIGTERM');
    await new Promise((resolve) => gateway.child.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
  lambdaBundles();
}

/** The Lambda handlers' bundle sizes and cold `require` times (bench/lambda.ts, run from source: lib/infra is not built into dist). */
function lambdaBundles(): void {
  // esbuild's progress goes to stderr; the table to stdout.
  spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'lambda.ts')], { cwd: ROOT, stdio: ['ignore', 'inherit', 'ignore'] });
}

/** Sustained sync load with the gateway's RSS sampled every 10 s: memory should stay flat. */
async function soak(url: string, pid: number | undefined): Promise<void> {
  const samples: number[] = [rssOf(pid)];
  const timer = setInterval(() => samples.push(rssOf(pid)), 10_000);
  const result = await run({ url, connections: 8, duration: SOAK_SECONDS });
  clearInterval(timer);
  samples.push(rssOf(pid));
  const firstMinute = samples.slice(1, 7);
  const settled = firstMinute.length > 0 ? Math.max(...firstMinute) : samples[0] ?? 0;
  const last = samples.at(-1) ?? 0;
  process.stdout.write(
    `\nsoak: ${SOAK_SECONDS} s of sync GET at ${Math.round(result.requests.average)} req/s; RSS MB every 10 s: ${samples.map((m) => m.toFixed(0)).join(' ')}\n` +
      `RSS at the end / highest in the first minute: ${(last / Math.max(1, settled)).toFixed(2)}\n`,
  );
}

function print(rows: Row[], rssMb: number): void {
  const lines = [
    `| scenario | req/s | p99 ms | ratio to direct (8 conns for async) | note |`,
    `|---|---:|---:|---:|---|`,
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${Math.round(r.rps)} | ${Number.isNaN(r.p99) ? '' : r.p99} | ${r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`} | ${r.note ?? ''} |`,
    ),
    '',
    `gateway RSS after the run: ${rssMb.toFixed(0)} MB; ${SECONDS} s per load scenario; node ${process.version}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
