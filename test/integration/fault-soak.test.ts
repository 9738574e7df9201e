import { readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { call, errorOf, tempDir } from '../support/gateway';
import { startGatewayProcess, type GatewayProcess } from '../support/process';
import { TcpTarget } from '../support/tcp-target';
import { eventually } from '../support/waiting';

// Two minutes of steady load on the built gateway (durable queue) against a target that resets
// connections and hangs: what must not grow is the gateway's open sockets and its live heap, and what
// must not go missing is any accepted event. The two minutes are the run's length, not an assertion.

const DURATION_MS = Number(process.env.EG_SOAK_MS ?? 120_000);
const SAMPLE_MS = Math.max(1000, Math.floor(DURATION_MS / 12));
const MAX_ATTEMPTS = 3;

/**
 * A preload for the gateway process: on SIGUSR2 it collects garbage (twice: the second pass takes
 * what finalizers of the first freed) and prints the heap then in use. Only the test needs it.
 */
const HEAP_PROBE = `
const v8 = require('node:v8');
v8.setFlagsFromString('--expose-gc');
const gc = require('node:vm').runInNewContext('gc');
process.on('SIGUSR2', () => {
  gc();
  gc();
  const m = process.memoryUsage();
  process.stderr.write(JSON.stringify({ heapProbe: { heapUsed: m.heapUsed, rss: m.rss, external: m.external } }) + '\\n');
});
`;

/**
 * A target misbehaving at the TCP level, request by request in turn: of every ten requests it resets
 * the connection of one and never answers another (the gateway's target timeout must end that call),
 * and answers the rest. Failing one call in five, its circuit mostly stays closed and calls keep going
 * out (failing more, its circuit would hold the deliveries back and the run would make few calls).
 */
class ResettingHangingTarget extends TcpTarget {
  readonly delivered = new Set<string>();
  readonly outcomes = { answer: 0, reset: 0, hang: 0 };
  private n = 0;

  protected accept(socket: Socket): void {
    let buffered = Buffer.alloc(0);
    let hung = false;
    socket.on('data', (chunk: Buffer) => {
      if (hung) return;
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buffered.subarray(0, end).toString();
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        const body = buffered.subarray(end + 4, end + 4 + length).toString();
        buffered = buffered.subarray(end + 4 + length);
        const turn = this.n++ % 10;
        if (turn === 3) {
          this.outcomes.reset++;
          socket.resetAndDestroy();
          return;
        }
        if (turn === 7) {
          this.outcomes.hang++;
          hung = true;
          return;
        }
        this.outcomes.answer++;
        const event = JSON.parse(body) as { eventType?: string; eventID?: string };
        if (event.eventType === 'job.created' && event.eventID) this.delivered.add(event.eventID);
        socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}');
      }
    });
  }
}

/** Events emitted so far, for unique event IDs across loads. */
let emitted = 0;

/** Async events (and sync calls) sent by a few loops, each pausing a little between requests: steady, not flat out. */
class SteadyLoad {
  readonly accepted: string[] = [];
  readonly refused: Array<{ status: number; message: string }> = [];
  readonly syncStatuses = new Map<number, number>();
  private running = true;
  private readonly loops: Array<Promise<void>>;

  constructor(
    private readonly eventsUrl: string,
    loops: number,
    private readonly pauseMs: number,
  ) {
    this.loops = Array.from({ length: loops }, (_, i) => this.loop(i === 0));
  }

  get requests(): number {
    return this.accepted.length + this.refused.length + [...this.syncStatuses.values()].reduce((a, b) => a + b, 0);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(sync: boolean): Promise<void> {
    while (this.running) {
      try {
        await (sync ? this.syncCall() : this.emit());
      } catch (err) {
        // No answer at all: a failure the test sees, never an error escaping it.
        this.refused.push({ status: 0, message: (err as Error).message });
      }
      await new Promise((resolve) => setTimeout(resolve, this.pauseMs));
    }
  }

  private async emit(): Promise<void> {
    const id = `soak-${++emitted}`;
    const res = await fetch(`${this.eventsUrl}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({ eventType: 'job.created', cloudEventsVersion: '0.1', source: '/soak', eventID: id, data: { pad: 'x'.repeat(200) } }),
    });
    const text = await res.text();
    if (res.status === 202) this.accepted.push(id);
    else this.refused.push({ status: res.status, message: text === '' ? '' : errorOf(JSON.parse(text)) });
  }

  private async syncCall(): Promise<void> {
    const res = await fetch(`${this.eventsUrl}/rude`);
    await res.arrayBuffer();
    this.syncStatuses.set(res.status, (this.syncStatuses.get(res.status) ?? 0) + 1);
  }
}

/** Open sockets of a process: its file descriptors that are sockets (Linux's /proc). */
function openSockets(pid: number): number {
  let count = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) count++;
    } catch {
      // closed between the listing and the read
    }
  }
  return count;
}

interface Sample {
  atMs: number;
  requests: number;
  sockets: number;
  heapUsed: number;
  rss: number;
}

/** The value of one sample in the Prometheus text, 0 when absent. */
async function metric(configUrl: string, name: string): Promise<number> {
  const text = (await call('GET', `${configUrl}/v1/metrics`)).body as string;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('two minutes against a target that resets connections and hangs', () => {
  const dir = tempDir('eg-soak-');
  let target: ResettingHangingTarget;
  let gw: GatewayProcess;

  beforeAll(async () => {
    target = await new ResettingHangingTarget().listen();
    const probe = join(dir, 'heap-probe.cjs');
    writeFileSync(probe, HEAP_PROBE);
    gw = await startGatewayProcess(
      ['--dev', `--embed-data-dir=${join(dir, 'data')}`, '--target-timeout=200', `--retry-max-attempts=${MAX_ATTEMPTS}`],
      { NODE_OPTIONS: `--require ${probe}` },
    );
    const space = `${gw.configUrl}/v1/spaces/default`;
    for (const [path, body] of [
      ['eventtypes', { name: 'job.created' }],
      ['eventtypes', { name: 'http.request' }],
      ['functions', { functionId: 'rude', type: 'http', provider: { url: target.url } }],
      ['subscriptions', { type: 'async', eventType: 'job.created', functionId: 'rude', path: '/' }],
      ['subscriptions', { type: 'sync', eventType: 'http.request', functionId: 'rude', path: '/rude', method: 'GET' }],
    ] as const) {
      expect((await call('POST', `${space}/${path}`, body)).status).toBe(201);
    }
  });
  afterAll(async () => {
    gw?.child.kill('SIGTERM');
    await gw?.exited;
    await target?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Asks the gateway's heap probe for the live heap (after a full GC) and reads its sockets. */
  async function sample(load: SteadyLoad, startedAt: number): Promise<Sample> {
    const pid = gw.child.pid as number;
    const seen = gw.output().length;
    gw.child.kill('SIGUSR2');
    const probe = await eventually(async () => {
      const line = gw.output().slice(seen).split('\n').find((l) => l.includes('"heapProbe"'));
      return line ? (JSON.parse(line) as { heapProbe: { heapUsed: number; rss: number } }).heapProbe : undefined;
    }, 'the heap probe', 30_000);
    return { atMs: Date.now() - startedAt, requests: load.requests, sockets: openSockets(pid), heapUsed: probe.heapUsed, rss: probe.rss };
  }

  /** Waits until every accepted delivery was delivered or dead-lettered. */
  const workedOff = () => eventually(async () => ((await metric(gw.configUrl, 'eventgateway_events_backlog')) === 0 ? true : undefined), 'the backlog worked off', 180_000);

  /** Runs load for `ms`, sampling every SAMPLE_MS; then stops it and waits for the backlog to be worked off. */
  async function phase(load: SteadyLoad, ms: number, startedAt: number, samples: Sample[]): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(SAMPLE_MS, Math.max(0, until - Date.now()))));
      samples.push(await sample(load, startedAt));
    }
  }

  it('keeps its open sockets and live heap flat, and delivers or dead-letters every accepted event per the retry policy', async () => {
    const startedAt = Date.now();
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
    const show = (s: Sample) => `${(s.atMs / 1000).toFixed(0)} s: ${s.requests} requests, ${s.sockets} sockets, heap ${mb(s.heapUsed)} MB, rss ${mb(s.rss)} MB`;

    // Warm-up (a sixth of the run), then idle with nothing pending: the reference point.
    const warm = new SteadyLoad(gw.eventsUrl, 4, 20);
    const warmSamples: Sample[] = [];
    try {
      await phase(warm, DURATION_MS / 6, startedAt, warmSamples);
    } finally {
      await warm.stop();
    }
    await workedOff();
    const baseline = await sample(warm, startedAt);

    // The rest of the run under load, then idle again with nothing pending.
    const load = new SteadyLoad(gw.eventsUrl, 4, 20);
    const samples: Sample[] = [];
    try {
      await phase(load, (DURATION_MS * 5) / 6, startedAt, samples);
    } finally {
      await load.stop();
    }
    await workedOff();
    const final = await sample(load, startedAt);
    console.log(
      `soak: target ${JSON.stringify(target.outcomes)}\n  warm-up:\n${warmSamples.map((s) => `    ${show(s)}`).join('\n')}\n  idle: ${show(baseline)}\n  load:\n` +
        `${samples.map((s) => `    ${show(s)}`).join('\n')}\n  idle: ${show(final)}`,
    );

    // The target really reset and hung calls all along, and the gateway kept accepting.
    expect(target.outcomes.reset).toBeGreaterThan(100);
    expect(target.outcomes.hang).toBeGreaterThan(100);
    expect([...warm.refused, ...load.refused]).toEqual([]);
    expect([...load.syncStatuses.keys()].sort()).toEqual([200, 500]);

    // Sockets: under load and idle after it they stay within a small constant of the warm-up's (the
    // keep-alive pools of both sides come and go). A leak of one socket per failed call would add one
    // per reset and hang: thousands.
    const warmMax = Math.max(...warmSamples.map((s) => s.sockets), baseline.sockets);
    expect(Math.max(...samples.map((s) => s.sockets), final.sockets)).toBeLessThanOrEqual(warmMax + 32);

    // Live heap (after a full GC, nothing pending) grows between the two idle points by less than 128
    // bytes per request made in between (2 MB at least: measured, it moves by a few hundred KB). A leak
    // of one 1 KB object per target call (tried: +1 KB per call showed as +3.8 MB over 4,200 requests)
    // or of a socket's buffers per failed call exceeds that several times over in two minutes.
    expect(load.requests).toBeGreaterThan(1000);
    expect(final.heapUsed - baseline.heapUsed).toBeLessThan(Math.max(2 * 1024 * 1024, 128 * load.requests));

    // Nothing lost: every accepted event was delivered or, its attempts used up, dead-lettered with exactly that many.
    const deadLetters = (await call('GET', `${gw.configUrl}/v1/spaces/default/deadletters`)).body.deadLetters as Array<{ eventId: string; attempts: number }>;
    expect(new Set(deadLetters.map((d) => d.attempts))).toEqual(new Set(deadLetters.length > 0 ? [MAX_ATTEMPTS] : []));
    const dead = new Set(deadLetters.map((d) => d.eventId));
    const accepted = [...warm.accepted, ...load.accepted];
    expect(accepted.filter((id) => !target.delivered.has(id) && !dead.has(id))).toEqual([]);
    console.log(`soak: ${accepted.length} accepted, ${target.delivered.size} delivered, ${dead.size} dead-lettered`);
  }, DURATION_MS + 420_000);
});
