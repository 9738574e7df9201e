import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

/**
 * One command, every scenario: the gateway and the target each run in their own process on loopback,
 * autocannon drives them from this one. Results are printed as ratios to the direct target measured
 * in the same run, because absolute figures depend on the machine.
 */

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
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

async function json(method: string, url: string, body: unknown): Promise<number> {
  const res = await fetch(url, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

function rssOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8') as string;
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
    ...(process.env.BENCH_GATEWAY_ARGS ?? '').split(' ').filter(Boolean),
  ]);
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

    const creates = 1000;
    const t0 = performance.now();
    for (let i = 0; i < creates; i++) {
      const status = await json('POST', `${config}/functions`, { functionId: `bench-${i}`, type: 'http', provider: { url: `${targetUrl}/` } });
      if (status !== 201) throw new Error(`create ${i} answered ${status}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    rows.push({ scenario: `config: ${creates} sequential function creates`, rps: creates / seconds, p99: NaN, note: `${seconds.toFixed(2)} s` });

    const rss = rssOf(gateway.child.pid);
    print(rows, rss);
  } finally {
    gateway.child.kill('SIGTERM');
    target.child.kill('SIGTERM');
    await new Promise((resolve) => gateway.child.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
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
