import { rmSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { SqsQueue } from '../../lib/delivery/sqs';
import { silentLogger } from '../../lib/logger';
import { createRegistryTable, DynamoDbStore } from '../../lib/stores/dynamodb';
import { LOCAL_CREDENTIALS, localDynamoDbConfig, uniqueTableName } from '../support/dynamodb-local';
import { call, errorOf, startTestGateway, subscribe, tempDir, type TestGateway } from '../support/gateway';
import { startGatewayProcess } from '../support/process';
import { SqsLoopback } from '../support/sqs-loopback';
import { TestTarget } from '../support/target';
import { eventually } from '../support/waiting';

/** Quick background retries, so that recoveries take milliseconds here. */
const healthBackoff = { baseMs: 20, capMs: 200 };

const emit = (gw: TestGateway, type: string, id: string, padding = '') =>
  fetch(`${gw.eventsUrl}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify({ eventType: type, cloudEventsVersion: '0.1', source: '/faults', eventID: id, data: { id, padding } }),
  });

const eventIdOf = (body: unknown) => (body as { eventID: string }).eventID;

async function status(gw: TestGateway): Promise<{ status: number; body: any }> {
  const res = await call('GET', `${gw.configUrl}/v1/status`);
  return { status: res.status, body: res.body };
}

describe('a registry that cannot be read', () => {
  let gw: TestGateway;
  let tableName: string;
  let target: TestTarget;

  beforeAll(async () => {
    target = await TestTarget.start();
    tableName = uniqueTableName('missing');
    // The table does not exist yet: the gateway starts anyway, degraded.
    gw = await startTestGateway({ store: new DynamoDbStore({ tableName, ...localDynamoDbConfig() }), registryRefreshMs: 100, healthBackoff });
  });
  afterAll(async () => {
    await gw.stop();
    await target.close();
  });

  it('answers 503 with Retry-After on both APIs, says so in its status, and recovers by itself once the table exists', async () => {
    const event = await emit(gw, 'user.created', '1');
    expect(event.status).toBe(503);
    expect(event.headers.get('retry-after')).toBe('1');
    expect(event.headers.get('content-type')).toBe('application/json');
    expect(errorOf(await event.json())).toBe('Registry unavailable. Please retry.');
    const list = await call('GET', `${gw.space()}/functions`);
    expect([list.status, errorOf(list.body), list.headers.get('retry-after')]).toEqual([503, 'Registry unavailable. Please retry.', '1']);
    const create = await call('POST', `${gw.space()}/eventtypes`, { name: 'user.created' });
    expect([create.status, errorOf(create.body)]).toEqual([503, 'Registry unavailable. Please retry.']);
    expect(await status(gw)).toEqual({ status: 503, body: { status: 'degraded', registry: expect.stringMatching(/^unavailable: .*non-existent table/) } });
    expect((await call('GET', `${gw.configUrl}/v1/status/live`)).status).toBe(200);

    await createRegistryTable({ tableName, ...localDynamoDbConfig() });

    await eventually(async () => ((await status(gw)).status === 200 ? true : undefined), 'the status to recover');
    expect((await status(gw)).body).toEqual({ status: 'ok' });
    await subscribe(gw, { type: 'async', eventType: 'user.created', functionId: 'receiver', url: target.url });
    expect((await emit(gw, 'user.created', '2')).status).toBe(202);
    await target.waitFor(1);
    expect(target.received[0]?.json()).toMatchObject({ eventID: '2' });
  });
});

describe('the local server started on a DynamoDB table that does not exist', () => {
  it('logs the table, endpoint and region, keeps running degraded and answers 503s', async () => {
    const endpoint = localDynamoDbConfig().endpoint;
    const table = uniqueTableName('cli-missing');
    const dataDir = tempDir();
    const gateway = await startGatewayProcess(['--dev', `--embed-data-dir=${dataDir}`, '--dynamodb-table', table, '--dynamodb-endpoint', endpoint, '--dynamodb-region', 'eu-west-3'], {
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    });
    try {
      const logged = await eventually(async () => gateway.output().split('\n').find((line) => line.includes('"level":50') && line.includes(table)), 'the error log line');
      expect(JSON.parse(logged).msg).toMatch(new RegExp(`DynamoDB table "${table}" \\(endpoint ${endpoint}, region eu-west-3\\) unavailable: .*non-existent table`));
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${gateway.eventsUrl}/anything`, { method: 'POST', body: '{}' });
        expect(res.status).toBe(503);
        expect(errorOf(await res.json())).toBe('Registry unavailable. Please retry.');
      }
      const health = await call('GET', `${gateway.configUrl}/v1/status`);
      expect([health.status, health.body.status]).toEqual([503, 'degraded']);
      expect(gateway.child.exitCode).toBeNull();
      expect(gateway.output()).not.toMatch(/unhandled|UnhandledPromiseRejection/i);
    } finally {
      gateway.child.kill('SIGTERM');
      await gateway.exited;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('a durable queue whose disk is full', () => {
  let gw: TestGateway;
  let target: TestTarget;
  let db: Database.Database | undefined;

  beforeAll(async () => {
    target = await TestTarget.start();
    const dataDir = tempDir();
    gw = await startTestGateway({
      dataDir,
      healthBackoff,
      // SQLite's max_page_count makes SQLite itself answer SQLITE_FULL, as a full disk would.
      delivery: { mode: 'durable', dataDir, backoff: { baseMs: 20, capMs: 200 }, onOpen: (opened) => (db = opened) },
    });
    await subscribe(gw, { type: 'async', eventType: 'order.placed', functionId: 'orders', url: target.url });
  });
  afterAll(async () => {
    await gw.stop();
    await target.close();
  });

  it('answers 503 while full, loses no accepted delivery, and accepts again once space returns', async () => {
    const database = db as Database.Database;
    const accepted: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await emit(gw, 'order.placed', `before-${i}`);
      expect(res.status).toBe(202);
      accepted.push(`before-${i}`);
    }
    await eventually(async () => (target.received.length >= 5 ? true : undefined), 'the first events delivered');
    // The target fails for a while, so that rows stay (retried) and take the space that is left.
    target.behaviour = () => ({ status: 500, body: 'busy' });
    database.pragma(`max_page_count = ${database.pragma('page_count', { simple: true }) as number}`);
    const refused: string[] = [];
    for (let i = 0; i < 200 && refused.length < 3; i++) {
      const res = await emit(gw, 'order.placed', `full-${i}`, 'x'.repeat(8000));
      if (res.status === 202) {
        accepted.push(`full-${i}`);
        continue;
      }
      expect([res.status, res.headers.get('retry-after'), errorOf(await res.json())]).toEqual([503, '1', 'Delivery queue unavailable. Please retry.']);
      refused.push(`full-${i}`);
    }
    expect(refused).toHaveLength(3);
    expect(await status(gw)).toEqual({ status: 503, body: { status: 'degraded', queue: expect.stringMatching(/^unavailable: database or disk is full/) } });

    database.pragma('max_page_count = 1073741823');
    target.behaviour = () => ({ status: 200, body: '{}' });
    await eventually(async () => ((await status(gw)).status === 200 ? true : undefined), 'the queue to be available again');
    expect((await emit(gw, 'order.placed', 'after')).status).toBe(202);
    accepted.push('after');

    const delivered = () => new Set(target.received.filter((r) => r.body !== '').map((r) => eventIdOf(r.json())));
    await eventually(async () => (accepted.every((id) => delivered().has(id)) ? true : undefined), 'every accepted event delivered');
    for (const id of refused) expect(delivered().has(id)).toBe(false);
  });
});

describe('an SQS queue that fails sends', () => {
  let gw: TestGateway;
  let sqs: SqsLoopback;
  let target: TestTarget;

  beforeAll(async () => {
    sqs = await SqsLoopback.start();
    target = await TestTarget.start();
    const queue = new SqsQueue({
      queueUrl: sqs.queueUrl(),
      logger: silentLogger,
      poll: true,
      waitTimeSeconds: 1,
      connection: { region: 'us-east-1', endpoint: sqs.endpoint, credentials: LOCAL_CREDENTIALS },
    });
    // SQS has no probe: a long backoff keeps the status degraded until an event gets through.
    gw = await startTestGateway({ delivery: { mode: 'queue', queue }, healthBackoff: { baseMs: 60_000, capMs: 60_000 } });
    await subscribe(gw, { type: 'async', eventType: 'invoice.sent', functionId: 'billing', url: target.url });
  });
  afterAll(async () => {
    await gw.stop();
    await Promise.all([sqs.close(), target.close()]);
  });

  it.each([
    ['answering 500', { status: 500, type: 'InternalError' }],
    ['throttling', { status: 400, type: 'ThrottlingException' }],
  ])('answers 503 while SQS is %s, never 202, and 202 again once it recovers', async (_what, fault) => {
    const before = target.received.length;
    sqs.fail = (op) => (op === 'AmazonSQS.SendMessageBatch' ? fault : undefined);
    const res = await emit(gw, 'invoice.sent', `refused-${fault.type}`);
    expect([res.status, res.headers.get('retry-after'), errorOf(await res.json())]).toEqual([503, '1', 'Delivery queue unavailable. Please retry.']);
    expect((await status(gw)).body).toEqual({ status: 'degraded', queue: expect.stringMatching(/^unavailable: /) });

    sqs.fail = () => undefined;
    // Every event tries the queue: the first one after the recovery is accepted, and the status follows.
    await eventually(async () => ((await emit(gw, 'invoice.sent', `accepted-${fault.type}`)).status === 202 ? true : undefined), 'an event accepted again');
    await target.waitFor(before + 1);
    expect((await status(gw)).status).toBe(200);
    // What SQS refused was answered 503 and is not delivered; what it took was answered 202 and is.
    const delivered = target.received.map((r) => eventIdOf(r.json()));
    expect(delivered).toContain(`accepted-${fault.type}`);
    expect(delivered).not.toContain(`refused-${fault.type}`);
  });
});
