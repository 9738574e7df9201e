import type { Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { createRegistryTable, DynamoDbStore } from '../../lib/stores/dynamodb';
import { LOCAL_CREDENTIALS, startDynamoDbLocal } from '../support/dynamodb-local';
import { call, errorOf, startTestGateway, subscribe, tempDir, type TestGateway } from '../support/gateway';
import { TestTarget } from '../support/target';
import { TcpTarget } from '../support/tcp-target';
import { eventually } from '../support/waiting';

// Faults injected while load runs. Bounded: each phase lasts about a second or until a condition
// holds; what matters is what the clients were answered and what reached the targets. The two-minute
// run that watches sockets and memory is fault-soak.test.ts.

/** Sync and async requests sent in parallel loops until stopped; every answer is kept. */
class Load {
  readonly syncStatuses = new Map<number, number>();
  readonly accepted: string[] = [];
  readonly refused: Array<{ id: string; status: number; message: string }> = [];
  private running = true;
  private readonly loops: Array<Promise<void>>;
  private n = 0;

  constructor(
    private readonly gw: TestGateway,
    private readonly asyncType: string,
    private readonly syncPath: string | undefined,
    parallel = 4,
  ) {
    this.loops = Array.from({ length: parallel }, () => this.loop());
  }

  /** Requests answered so far. */
  get answered(): number {
    return this.accepted.length + this.refused.length + [...this.syncStatuses.values()].reduce((a, b) => a + b, 0);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        await this.round();
      } catch (err) {
        // The gateway did not answer at all: that is a failure the test sees, not an error that escapes it.
        this.refused.push({ id: 'none', status: 0, message: (err as Error).message });
      }
    }
  }

  private async round(): Promise<void> {
    const id = `load-${++this.n}`;
    const res = await fetch(`${this.gw.eventsUrl}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({ eventType: this.asyncType, cloudEventsVersion: '0.1', source: '/load', eventID: id, data: {} }),
    });
    const text = await res.text();
    if (res.status === 202) this.accepted.push(id);
    else this.refused.push({ id, status: res.status, message: text === '' ? '' : errorOf(JSON.parse(text)) });
    if (!this.syncPath) return;
    const sync = await fetch(`${this.gw.eventsUrl}${this.syncPath}`);
    await sync.arrayBuffer();
    this.syncStatuses.set(sync.status, (this.syncStatuses.get(sync.status) ?? 0) + 1);
  }
}

const deliveredIds = (target: TestTarget) => new Set(target.received.map((r) => r.json() as { eventType?: string; eventID?: string }).filter((e) => e.eventType !== 'http.request').map((e) => e.eventID));

/** Waits until `count` more requests were answered: load ran through a phase. */
const afterMore = (load: Load, count: number, what: string) => {
  const until = load.answered + count;
  return eventually(async () => (load.answered >= until ? true : undefined), what, 30_000);
};

describe('DynamoDB Local killed and restarted while sync and async load runs', () => {
  const dbPath = tempDir('eg-ddb-');
  const dataDir = tempDir();
  let dynamodb: Awaited<ReturnType<typeof startDynamoDbLocal>>;
  let gw: TestGateway;
  let target: TestTarget;

  beforeAll(async () => {
    dynamodb = await startDynamoDbLocal({ dbPath });
    const connection = { endpoint: dynamodb.endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 1 };
    await createRegistryTable({ tableName: 'registry', ...connection });
    target = await TestTarget.start();
    gw = await startTestGateway({ dataDir, store: new DynamoDbStore({ tableName: 'registry', ...connection }), registryRefreshMs: 100, healthBackoff: { baseMs: 50, capMs: 500 } });
    await subscribe(gw, { type: 'async', eventType: 'order.placed', functionId: 'orders', url: target.url });
    await subscribe(gw, { type: 'sync', eventType: 'http.request', functionId: 'api', url: target.url, path: '/api', method: 'GET' });
  }, 60_000);
  afterAll(async () => {
    await gw?.stop();
    await dynamodb?.stop();
    await target?.close();
    rmSync(dbPath, { recursive: true, force: true });
  });

  it('keeps routing from its cache, answers config writes 503 until DynamoDB is back, and delivers every accepted event', async () => {
    // Sync calls and deliveries both arrive as POSTs; a response object suits both.
    target.respondWith({ statusCode: 200, body: 'from the cache' });
    const load = new Load(gw, 'order.placed', '/api');
    try {
      await outageUnderLoad(load);
    } finally {
      await load.stop();
    }

    // Routing never depended on DynamoDB: every sync call answered by the target, every event accepted.
    expect([...load.syncStatuses.keys()]).toEqual([200]);
    expect(load.refused).toEqual([]);
    await eventually(async () => (load.accepted.every((id) => deliveredIds(target).has(id)) ? true : undefined), 'every accepted event delivered', 30_000);
    expect((await call('GET', `${gw.configUrl}/v1/status`)).body).toEqual({ status: 'ok' });
    // Bounds a failing run only: DynamoDB Local (Java) takes seconds to start again on a loaded machine.
  }, 120_000);

  async function outageUnderLoad(load: Load): Promise<void> {
    await afterMore(load, 50, 'load before the fault');

    await dynamodb.stop('SIGKILL');
    await afterMore(load, 100, 'load during the outage');
    const write = await call('POST', `${gw.space()}/eventtypes`, { name: 'during.outage' });
    expect([write.status, errorOf(write.body), write.headers.get('retry-after')]).toEqual([503, 'Registry unavailable. Please retry.', '1']);
    expect((await call('GET', `${gw.configUrl}/v1/status`)).body).toEqual({ status: 'degraded', registry: expect.stringMatching(/^unavailable: /) });

    dynamodb = await startDynamoDbLocal({ dbPath, port: dynamodb.port });
    const created = await eventually(async () => {
      const res = await call('POST', `${gw.space()}/eventtypes`, { name: 'after.outage' });
      return res.status === 503 ? undefined : res;
    }, 'a config write accepted again', 30_000);
    expect(created.status).toBe(201);
    await afterMore(load, 50, 'load after the recovery');
  }
});

/** A target that misbehaves at the TCP level: resets every connection, or accepts and never answers. */
class RudeTarget extends TcpTarget {
  mode: 'reset' | 'hang' | 'answer' = 'reset';
  /** Every connection, with the mode it met. */
  readonly connections: Array<{ mode: RudeTarget['mode']; socket: Socket }> = [];
  readonly delivered: string[] = [];

  protected accept(socket: Socket): void {
    this.connections.push({ mode: this.mode, socket });
    if (this.mode === 'reset') {
      socket.resetAndDestroy();
      return;
    }
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      if (this.mode !== 'answer') return;
      buffered += chunk.toString();
      // One request per chunk of headers and body is enough for these small events.
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
      if (buffered.length < end + 4 + length) return;
      const body = buffered.slice(end + 4, end + 4 + length);
      buffered = buffered.slice(end + 4 + length);
      this.delivered.push((JSON.parse(body) as { eventID: string }).eventID);
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}');
    });
  }
}

describe('a target that resets connections or hangs', () => {
  let gw: TestGateway;
  let rude: RudeTarget;
  const workers = 8;
  // Not held to a socket count: undici's pool may open a few more connections than calls in flight, and keeps them alive.

  beforeAll(async () => {
    rude = await new RudeTarget().listen();
    gw = await startTestGateway({ workers, targetTimeoutMs: 300 });
    await subscribe(gw, { type: 'async', eventType: 'job.created', functionId: 'rude', url: rude.url });
    await subscribe(gw, { type: 'sync', eventType: 'http.request', functionId: 'rude-sync', url: rude.url, path: '/rude', method: 'GET' });
  });
  afterAll(async () => {
    await gw.stop();
    await rude.close();
  });

  it('bounds every call by the target timeout, retries, closes every hung connection, reuses connections, and delivers everything once the target answers', async () => {
    const load = new Load(gw, 'job.created', undefined, 2);
    try {
      await afterMore(load, 100, 'load against connection resets');
      rude.mode = 'hang';
      await afterMore(load, 100, 'load against a hanging target');
      // A sync call to a hanging target ends with the contract's error once the timeout passed.
      const sync = await fetch(`${gw.eventsUrl}/rude`);
      expect([sync.status, errorOf(await sync.json())]).toEqual([500, 'Function call failed. Please check logs.']);
    } finally {
      await load.stop();
    }
    expect(load.refused).toEqual([]);

    rude.mode = 'answer';
    await eventually(async () => (load.accepted.every((id) => rude.delivered.includes(id)) ? true : undefined), 'every accepted event delivered', 60_000);
    // Hung calls were cut by the timeout: no connection that met a hanging target stays open.
    const hung = rude.connections.filter((c) => c.mode === 'hang');
    expect(hung.length).toBeGreaterThan(0);
    await eventually(async () => (hung.every((c) => c.socket.destroyed) ? true : undefined), 'every hung connection closed by the gateway');
    // Answered calls reuse their connections (keep-alive) instead of opening one per delivery.
    const answering = rude.connections.filter((c) => c.mode === 'answer').length;
    expect(answering).toBeLessThan(rude.delivered.length);
  }, 90_000);
});
