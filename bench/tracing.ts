import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

/**
 * Tracing's cost: two gateways in one run, one exporting spans over OTLP/protobuf to a loopback
 * collector and one without any SDK (trace context propagation only), each driven with the same sync
 * and async load, alternately, twice. Prints requests per second, the gateway's CPU time per request
 * (utime+stime from /proc, the fairest figure on a shared machine) and the on/off ratios.
 */

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROOTS = join(__dirname, '..', '..');

/** Starts a process and resolves with the first line it prints that passes `wanted`. */
function spawnFirstLine(args: string[], wanted: (line: string) => boolean = () => true): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const line = buffer.split('\n').slice(0, -1).find(wanted);
      if (line === undefined) return;
      child.stdout?.off('data', onData);
      child.stdout?.resume();
      resolve({ child, line });
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}

/** CPU seconds (user + system) a process has used. */
function cpuSeconds(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Gateway {
  name: 'off' | 'on';
  child: ChildProcess;
  events: string;
  config: string;
  dataDir: string;
}

async function startGateway(name: 'off' | 'on', extra: string[]): Promise<Gateway> {
  const dataDir = mkdtempSync(join(tmpdir(), `eg-bench-tracing-${name}-`));
  const { child, line } = await spawnFirstLine([
    join(ROOTS, 'dist', 'bin', 'event-gateway.js'),
    '--events-port=0',
    '--config-port=0',
    '--log-format=json',
    '--allow-unauthenticated-config',
    '--allow-target-networks=127.0.0.0/8',
    `--embed-data-dir=${dataDir}`,
    ...extra,
  ], (text) => text.includes('"events"'));
  const started = JSON.parse(line) as { events: string; config: string };
  return { name, child, events: started.events, config: started.config, dataDir };
}

async function register(config: string, targetUrl: string): Promise<void> {
  const post = (path: string, body: unknown) => fetch(`${config}/v1/spaces/default${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await post('/eventtypes', { name: 'http.request' });
  await post('/eventtypes', { name: 'bench.event' });
  await post('/functions', { functionId: 'target', type: 'http', provider: { url: `${targetUrl}/` } });
  await post('/subscriptions', { type: 'sync', eventType: 'http.request', functionId: 'target', path: '/hello', method: 'GET' });
  await post('/subscriptions', { type: 'async', eventType: 'bench.event', functionId: 'target', path: '/emit' });
}

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const EVENT = JSON.stringify({ eventType: 'bench.event', cloudEventsVersion: '0.1', source: '/bench', eventID: '1', data: { n: 1 } });

/** One load run; returns req/s and the gateway's CPU microseconds per request. */
async function load(gw: Gateway, scenario: 'sync' | 'async', seconds: number): Promise<{ rps: number; cpuUs: number; requests: number }> {
  const cpu0 = cpuSeconds(gw.child.pid);
  const options: autocannon.Options =
    scenario === 'sync'
      ? { url: `${gw.events}/hello`, connections: 8, duration: seconds, headers: { traceparent: TRACEPARENT } }
      : { url: `${gw.events}/emit`, method: 'POST', connections: 8, duration: seconds, headers: { 'content-type': 'application/cloudevents+json', traceparent: TRACEPARENT }, body: EVENT };
  const result = await autocannon(options);
  // Async deliveries finish after the load: wait for the backlog, so that their CPU is counted.
  if (scenario === 'async') await new Promise((resolve) => setTimeout(resolve, 1000));
  const requests = result['2xx'];
  return { rps: result.requests.average, cpuUs: ((cpuSeconds(gw.child.pid) - cpu0) * 1e6) / Math.max(1, requests), requests };
}

async function main(): Promise<void> {
  const target = await spawnFirstLine([join(ROOTS, 'dist', 'bench', 'target.js')]);
  const collector = await spawnFirstLine([join(ROOTS, 'dist', 'bench', 'collector.js')]);
  const targetUrl = `http://127.0.0.1:${target.line.trim()}`;
  const collectorUrl = `http://127.0.0.1:${collector.line.trim()}`;
  const off = await startGateway('off', []);
  const on = await startGateway('on', [`--otlp-endpoint=${collectorUrl}`]);
  const gateways = [off, on];
  try {
    for (const gw of gateways) await register(gw.config, targetUrl);
    for (const gw of gateways) {
      await load(gw, 'sync', 2);
      await load(gw, 'async', 2);
    }
    const results: Record<string, Array<{ rps: number; cpuUs: number }>> = {};
    for (const scenario of ['sync', 'async'] as const) {
      // off, on, on, off: drift in the machine's load falls on both alike.
      for (const gw of [off, on, on, off]) (results[`${scenario} ${gw.name}`] ??= []).push(await load(gw, scenario, SECONDS));
    }
    const mean = (key: string, field: 'rps' | 'cpuUs') => (results[key] ?? []).reduce((sum, r) => sum + r[field], 0) / (results[key]?.length ?? 1);
    const exported = JSON.parse(await (await fetch(`${collectorUrl}/__count`)).text()) as { exports: number; bytes: number };
    const lines = ['| scenario (8 conns) | export off req/s | export on req/s | on/off | CPU µs/req off | on |', '|---|---:|---:|---:|---:|---:|'];
    for (const scenario of ['sync GET', 'async emit']) {
      const key = scenario.split(' ')[0] as string;
      const [rOff, rOn] = [mean(`${key} off`, 'rps'), mean(`${key} on`, 'rps')];
      lines.push(`| ${scenario} | ${Math.round(rOff)} | ${Math.round(rOn)} | ${(rOn / rOff).toFixed(2)}× | ${mean(`${key} off`, 'cpuUs').toFixed(0)} | ${mean(`${key} on`, 'cpuUs').toFixed(0)} |`);
    }
    lines.push('', `collector took ${exported.exports} exports, ${(exported.bytes / 1e6).toFixed(1)} MB; ${SECONDS} s per run, each gateway twice per scenario; node ${process.version}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    for (const gw of gateways) {
      gw.child.kill('SIGTERM');
      await new Promise((resolve) => gw.child.once('exit', resolve));
      rmSync(gw.dataDir, { recursive: true, force: true });
    }
    target.child.kill('SIGTERM');
    collector.child.kill('SIGTERM');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
