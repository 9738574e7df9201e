import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRegistryTable } from '../../lib/stores/dynamodb';
import { localDynamoDbConfig, uniqueTableName } from '../support/dynamodb-local';
import { call, tempDir } from '../support/gateway';
import { startGatewayProcess, type GatewayProcess } from '../support/process';
import { openTail } from '../support/tail';
import { TestTarget } from '../support/target';

/** The worker processes of a cluster: the primary's children. */
function workerPids(primary: GatewayProcess): number[] {
  const pid = primary.child.pid as number;
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

/** One request on a connection of its own, so that the primary's round-robin spreads requests over the workers. */
function freshRequest(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', agent: false, headers: init.headers ?? {} }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    // A connection handed to a worker that is then killed may never be answered.
    req.setTimeout(5000, () => req.destroy(new Error('no answer in 5 s')));
    req.end(init.body);
  });
}

/** Retries an assertion until it passes; the deadline only bounds a failing test. */
async function eventually(assertion: () => unknown, deadlineMs = 10_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    try {
      await assertion();
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

const cloudEvent = (eventType: string, eventID: string) => JSON.stringify({ eventType, cloudEventsVersion: '0.1', source: '/cluster', eventID });
const ceHeaders = { 'content-type': 'application/cloudevents+json' };

describe('--processes 2', () => {
  let dataDir: string;
  let gw: GatewayProcess;
  let target: TestTarget;
  let base: string;
  beforeAll(async () => {
    dataDir = tempDir('eg-cluster-');
    gw = await startGatewayProcess(['--dev', `--embed-data-dir=${dataDir}`, '--processes=2', '--retry-max-attempts=1']);
    base = `${gw.configUrl}/v1/spaces/default`;
  });
  afterAll(async () => {
    if (gw.child.exitCode === null) {
      gw.child.kill('SIGTERM');
      await gw.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    target = await TestTarget.start();
  });
  afterEach(() => target.close());

  it('runs two workers beside the primary', () => {
    expect(workerPids(gw)).toHaveLength(2);
  });

  it('routes by a subscription in every process as soon as its creation is answered', async () => {
    await call('POST', `${base}/eventtypes`, { name: 'http.request' });
    await call('POST', `${base}/functions`, { functionId: 'ryw', type: 'http', provider: { url: target.url } });
    target.respondWith({ body: 'routed' });
    for (let i = 0; i < 10; i++) {
      const created = await call('POST', `${base}/subscriptions`, { type: 'sync', eventType: 'http.request', functionId: 'ryw', path: `/ryw/${i}`, method: 'GET' });
      expect(created.status).toBe(201);
      // Four connections: both workers answer at least once.
      const answers = await Promise.all(Array.from({ length: 4 }, () => freshRequest(`${gw.eventsUrl}/ryw/${i}`)));
      expect(answers).toEqual(Array.from({ length: 4 }, () => ({ status: 200, body: 'routed' })));
    }
  });

  it('reports the metrics of every process in /v1/metrics', async () => {
    await call('POST', `${base}/eventtypes`, { name: 'metered' });
    await call('POST', `${base}/functions`, { functionId: 'metered', type: 'http', provider: { url: target.url } });
    await call('POST', `${base}/subscriptions`, { type: 'async', eventType: 'metered', functionId: 'metered', path: '/metered' });
    for (let i = 0; i < 6; i++) {
      expect((await freshRequest(`${gw.eventsUrl}/metered`, { method: 'POST', headers: ceHeaders, body: cloudEvent('metered', `m-${i}`) })).status).toBe(202);
    }
    await target.waitFor(6);
    const text = (await call('GET', `${gw.configUrl}/v1/metrics`)).body as string;
    expect(text).toContain('eventgateway_events_received_total{space="default",type="metered"} 6');
    // Read from the store by every process, counted once.
    expect(text).toMatch(/eventgateway_subscriptions_total\{space="default"\} \d+\n/);
    const functions = Number(/eventgateway_functions_total\{space="default"\} (\d+)/.exec(text)?.[1]);
    expect(functions).toBe((await call('GET', `${base}/functions`)).body.functions.length);
  });

  it('relays the activity of every worker to a live tail on the primary', async () => {
    await call('POST', `${base}/eventtypes`, { name: 'tailed' });
    await call('POST', `${base}/functions`, { functionId: 'tailed', type: 'http', provider: { url: target.url } });
    await call('POST', `${base}/subscriptions`, { type: 'async', eventType: 'tailed', functionId: 'tailed', path: '/tailed' });
    const tail = await openTail(`${base}/tail`);
    try {
      expect(tail.status).toBe(200);
      const received = new Set<string>();
      const emit = async (id: string) => {
        expect((await freshRequest(`${gw.eventsUrl}/tailed`, { method: 'POST', headers: ceHeaders, body: cloudEvent('tailed', id) })).status).toBe(202);
      };
      const readUntil = async (id: string) => {
        while (!received.has(id)) {
          const frame = await tail.next();
          if (frame.event === 'event.received') received.add(frame.data.eventId as string);
        }
      };
      // The workers hear of the tail shortly after it opened: emit until the first event shows.
      await eventually(async () => {
        await emit('warm-up');
        await readUntil('warm-up');
      });
      const ids = ['t-1', 't-2', 't-3', 't-4', 't-5', 't-6'];
      for (const id of ids) await emit(id);
      for (const id of ids) await readUntil(id);
      expect(ids.every((id) => received.has(id))).toBe(true);
    } finally {
      tail.close();
    }
  });

  it('lists and replays the dead letters of every worker', async () => {
    // A space of its own: deliveries of the other tests may be dead-lettered in theirs.
    const space = `${gw.configUrl}/v1/spaces/deadletters`;
    await call('POST', `${space}/eventtypes`, { name: 'refused' });
    await call('POST', `${space}/functions`, { functionId: 'refuser', type: 'http', provider: { url: target.url } });
    await call('POST', `${space}/subscriptions`, { type: 'async', eventType: 'refused', functionId: 'refuser', path: '/refused' });
    target.behaviour = () => ({ status: 400, body: 'no' });
    for (let i = 0; i < 6; i++) {
      expect((await freshRequest(`${gw.eventsUrl}/refused`, { method: 'POST', headers: ceHeaders, body: cloudEvent('refused', `r-${i}`) })).status).toBe(202);
    }
    await eventually(async () => expect((await call('GET', `${space}/deadletters`)).body.deadLetters).toHaveLength(6));
    target.behaviour = () => ({ status: 200, body: '{}' });
    const before = target.received.length;
    expect((await call('POST', `${space}/deadletters/replay`)).body).toEqual({ replayed: 6 });
    await target.waitFor(before + 6);
    const replayed = target.received.slice(before).map((r) => (r.json() as { eventID: string }).eventID);
    expect(replayed.sort()).toEqual(['r-0', 'r-1', 'r-2', 'r-3', 'r-4', 'r-5']);
    await eventually(async () => expect((await call('GET', `${space}/deadletters`)).body.deadLetters).toEqual([]));
  });

  it('shows in /v1/metrics the most open circuit of a target across the workers, not the sum of their states', async () => {
    const space = `${gw.configUrl}/v1/spaces/circuits`;
    await call('POST', `${space}/eventtypes`, { name: 'tripped' });
    await call('POST', `${space}/functions`, { functionId: 'down', type: 'http', provider: { url: target.url } });
    await call('POST', `${space}/subscriptions`, { type: 'async', eventType: 'tripped', functionId: 'down', path: '/tripped' });
    target.behaviour = () => ({ status: 500, body: 'down' });
    // Round-robin: each worker gets about half, more than the 5 failures that open its circuit.
    for (let i = 0; i < 20; i++) {
      expect((await freshRequest(`${gw.eventsUrl}/tripped`, { method: 'POST', headers: ceHeaders, body: cloudEvent('tripped', `t-${i}`) })).status).toBe(202);
    }
    const state = async () => {
      const text = (await call('GET', `${gw.configUrl}/v1/metrics`)).body as string;
      return Number(/eventgateway_target_circuit_state\{space="circuits",function="down"\} (\d+)/.exec(text)?.[1]);
    };
    // Open (2) in both workers: summed it would read 4.
    await eventually(async () => expect(await state()).toBe(2));
    const opened = (await call('GET', `${gw.configUrl}/v1/metrics`)).body as string;
    expect(Number(/eventgateway_target_circuit_transitions_total\{space="circuits",function="down",state="open"\} (\d+)/.exec(opened)?.[1])).toBeGreaterThanOrEqual(2);
  });

  it('answers /v1/status for every process, naming a degraded or silent worker, and recovers after a restart', async () => {
    const status = async () => {
      const res = await fetch(`${gw.configUrl}/v1/status`);
      return { status: res.status, body: (await res.json()) as unknown };
    };
    expect(await status()).toEqual({ status: 200, body: { status: 'ok' } });

    // Another process holds the write lock of worker 1's delivery file: its enqueues fail after SQLite's busy timeout.
    const space = `${gw.configUrl}/v1/spaces/statusfaults`;
    await call('POST', `${space}/eventtypes`, { name: 'queued' });
    await call('POST', `${space}/functions`, { functionId: 'queued', type: 'http', provider: { url: target.url } });
    await call('POST', `${space}/subscriptions`, { type: 'async', eventType: 'queued', functionId: 'queued', path: '/queued' });
    const lock = new Database(join(dataDir, 'deliveries-1.db'), { timeout: 5000 });
    try {
      lock.exec('BEGIN IMMEDIATE');
      const answers: number[] = [];
      for (let i = 0; i < 10 && !answers.includes(503); i++) {
        answers.push((await freshRequest(`${gw.eventsUrl}/queued`, { method: 'POST', headers: ceHeaders, body: cloudEvent('queued', `q-${i}`) })).status);
      }
      expect(answers).toContain(503);
      expect(await status()).toEqual({ status: 503, body: { status: 'degraded', queue: expect.stringMatching(/^unavailable: .+ \(worker 1\)$/) } });
    } finally {
      lock.exec('ROLLBACK');
      lock.close();
    }
    await eventually(async () => expect(await status()).toEqual({ status: 200, body: { status: 'ok' } }), 20_000);

    // A worker that does not answer within the primary's deadline counts as degraded.
    const [first, second] = workerPids(gw) as [number, number];
    process.kill(second, 'SIGSTOP');
    try {
      expect(await status()).toEqual({ status: 503, body: { status: 'degraded', workers: '1 of 2 not answering' } });
    } finally {
      process.kill(second, 'SIGCONT');
    }
    expect(await status()).toEqual({ status: 200, body: { status: 'ok' } });

    // A killed worker is restarted; the status does not stay degraded.
    process.kill(second, 'SIGKILL');
    await eventually(() => {
      const pids = workerPids(gw);
      expect(pids).toHaveLength(2);
      expect(pids).toContain(first);
      expect(pids).not.toContain(second);
    }, 20_000);
    await eventually(async () => expect(await status()).toEqual({ status: 200, body: { status: 'ok' } }), 20_000);
  }, 60_000);
});

/** A target that answers after `delayMs` and records the event IDs it received. */
async function slowTarget(delayMs: number): Promise<{ url: string; seen: Set<string>; close: () => Promise<void> }> {
  const seen = new Set<string>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const eventID = (JSON.parse(body) as { eventID?: string }).eventID;
      if (eventID) seen.add(eventID);
      setTimeout(() => res.end(JSON.stringify({ statusCode: 200, body: 'slow answer' })), delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('--processes 2, failures and shutdown', () => {
  it('delivers every accepted event when a worker is killed with SIGKILL under async load, and restarts the worker', async () => {
    const dataDir = tempDir('eg-cluster-crash-');
    const target = await slowTarget(5);
    const gw = await startGatewayProcess(['--dev', `--embed-data-dir=${dataDir}`, '--processes=2', '--workers=2']);
    try {
      const base = `${gw.configUrl}/v1/spaces/default`;
      await call('POST', `${base}/eventtypes`, { name: 'order.placed' });
      await call('POST', `${base}/functions`, { functionId: 'orders', type: 'http', provider: { url: target.url } });
      await call('POST', `${base}/subscriptions`, { type: 'async', eventType: 'order.placed', functionId: 'orders' });
      const [victim] = workerPids(gw);

      const accepted: string[] = [];
      let killedAtAccepted = 0;
      let missingAtKill = 0;
      const sender = async (n: number) => {
        for (let i = 0; accepted.length < 800; i++) {
          const eventID = `s${n}-${i}`;
          try {
            const res = await freshRequest(gw.eventsUrl, { method: 'POST', headers: ceHeaders, body: cloudEvent('order.placed', eventID) });
            if (res.status === 202) accepted.push(eventID);
          } catch {
            // A connection to the killed worker: the event was not accepted; send the next one.
          }
          if (accepted.length >= 300 && killedAtAccepted === 0) {
            killedAtAccepted = accepted.length;
            missingAtKill = accepted.filter((id) => !target.seen.has(id)).length;
            process.kill(victim as number, 'SIGKILL');
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, (_, n) => sender(n)));
      // The point of the test: accepted events had not reached the target when the worker died.
      expect(missingAtKill).toBeGreaterThan(0);
      await eventually(() => expect(accepted.filter((id) => !target.seen.has(id))).toEqual([]), 30_000);
      await eventually(() => expect(gw.output()).toContain('worker 0 exited; restarting it'));
      await eventually(() => expect(workerPids(gw)).toHaveLength(2));
      expect(workerPids(gw)).not.toContain(victim);
    } finally {
      gw.child.kill('SIGTERM');
      await gw.exited;
      await target.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('drains on SIGTERM: a request in flight is answered, then every process exits', async () => {
    const dataDir = tempDir('eg-cluster-drain-');
    const target = await slowTarget(1000);
    const gw = await startGatewayProcess(['--dev', `--embed-data-dir=${dataDir}`, '--processes=2']);
    try {
      const base = `${gw.configUrl}/v1/spaces/default`;
      await call('POST', `${base}/eventtypes`, { name: 'http.request' });
      await call('POST', `${base}/functions`, { functionId: 'slow', type: 'http', provider: { url: target.url } });
      await call('POST', `${base}/subscriptions`, { type: 'sync', eventType: 'http.request', functionId: 'slow', path: '/slow', method: 'GET' });
      const workers = workerPids(gw);
      const answer = freshRequest(`${gw.eventsUrl}/slow`);
      // SIGTERM while the target holds the call.
      await eventually(() => expect(target.seen.size).toBe(1));
      gw.child.kill('SIGTERM');
      expect(await answer).toEqual({ status: 200, body: 'slow answer' });
      expect(await gw.exited).toBe(0);
      for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
      expect(gw.output()).toContain('"msg":"stopped"');
    } finally {
      if (gw.child.exitCode === null) gw.child.kill('SIGKILL');
      await target.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('--processes 2 with the registry in DynamoDB', () => {
  it('routes by a subscription in every process as soon as its creation is answered', async () => {
    const { endpoint, region, credentials } = localDynamoDbConfig();
    const tableName = uniqueTableName('cluster-processes');
    await createRegistryTable({ tableName, ...localDynamoDbConfig() });
    const dataDir = tempDir('eg-cluster-dynamodb-');
    const target = await TestTarget.start();
    const gw = await startGatewayProcess(['--dev', `--embed-data-dir=${dataDir}`, '--processes=2', `--dynamodb-table=${tableName}`, `--dynamodb-endpoint=${endpoint}`, `--dynamodb-region=${region}`], {
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    });
    try {
      const base = `${gw.configUrl}/v1/spaces/default`;
      await call('POST', `${base}/eventtypes`, { name: 'http.request' });
      await call('POST', `${base}/functions`, { functionId: 'ryw', type: 'http', provider: { url: target.url } });
      target.respondWith({ body: 'routed' });
      // Every worker builds its table before the registration, so it must hear of the change.
      await Promise.all(Array.from({ length: 4 }, () => freshRequest(`${gw.eventsUrl}/ryw`)));
      expect((await call('POST', `${base}/subscriptions`, { type: 'sync', eventType: 'http.request', functionId: 'ryw', path: '/ryw', method: 'GET' })).status).toBe(201);
      const answers = await Promise.all(Array.from({ length: 4 }, () => freshRequest(`${gw.eventsUrl}/ryw`)));
      expect(answers).toEqual(Array.from({ length: 4 }, () => ({ status: 200, body: 'routed' })));
    } finally {
      gw.child.kill('SIGTERM');
      await gw.exited;
      await target.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 30_000);
});
