import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../lib/logger';
import type { ConfigAccessOptions } from '../../lib/http/config-access';
import type { Plugin } from '../../lib/plugins/plugin';
import { gatewayOptionsOf, openQueue, openStore, type SqsDelivery } from '../../lib/server/backends';
import { parseCommandLine } from '../../lib/server/cli';
import type { Tracing } from '../../lib/tracing/tracing';
import { SqsQueue } from '../../lib/delivery/sqs';
import { DynamoDbStore } from '../../lib/stores/dynamodb';
import { SqliteStore } from '../../lib/stores/sqlite';
import { tempDir } from '../support/gateway';
import { SqsLoopback } from '../support/sqs-loopback';
import { eventually } from '../support/waiting';

const optionsOf = (args: string[]) => {
  const request = parseCommandLine(args, '0.0.0');
  if (request.kind !== 'run') throw new Error(request.text);
  return request.options;
};
const ACCESS: ConfigAccessOptions = { keys: [], withoutKeys: 'read-only' };
const TABLE = ['--dynamodb-table=registry', '--dynamodb-region=eu-west-3', '--dynamodb-endpoint=http://127.0.0.1:8000'];

describe('what the command line starts the gateway with', () => {
  const dir = tempDir('eg-backends-');
  const savedEnv = { ...process.env };
  const opened: Array<{ close(): Promise<void> }> = [];
  beforeAll(() => {
    // Clients are built, never called: credentials only have to exist.
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' });
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
  });
  afterAll(async () => {
    for (const store of opened) await store.close();
    process.env = savedEnv;
    rmSync(dir, { recursive: true, force: true });
  });
  const gatewayOptions = (args: string[], sqs?: SqsDelivery, extra?: Parameters<typeof gatewayOptionsOf>[4]) => {
    const options = gatewayOptionsOf(optionsOf([`--embed-data-dir=${join(dir, String(opened.length))}`, ...args]), ACCESS, silentLogger, sqs, extra);
    opened.push(options.store);
    return options;
  };

  it('maps the flags of a default production start, with durable delivery in the data directory and no loopback targets', () => {
    const options = gatewayOptions([]);
    expect(options).toEqual({
      store: expect.any(SqliteStore),
      logger: silentLogger,
      host: '127.0.0.1',
      eventsPort: 4000,
      configPort: 4001,
      workers: 64,
      workersBacklog: 10000,
      eventsBodyLimit: expect.any(Number),
      delivery: { mode: 'durable', dataDir: join(dir, '0'), defaultRetry: { maxAttempts: 30, maxAgeSeconds: expect.any(Number) } },
      configBodyLimit: expect.any(Number),
      maxHeaderSize: expect.any(Number),
      maxRecordsPerSpace: expect.any(Number),
      targetTimeoutMs: expect.any(Number),
      configAccess: ACCESS,
      targetNetworks: { allowNetworks: [], allowPrivate: false, allowLoopback: false },
    });
  });

  it('maps every flag that has a value to its option', () => {
    const args = [
      '--host=0.0.0.0', '--events-port=5000', '--config-port=5001', '--workers=3', '--workers-backlog=7', '--events-body-limit=1000', '--config-body-limit=2000',
      '--max-header-size=3000', '--max-records-per-space=40', '--target-timeout=5000', '--retry-max-attempts=6', '--retry-max-age=70',
      '--allow-target-networks=10.0.0.0/8', '--allow-private-targets', '--dev', '--events-tls-cert=e.crt', '--events-tls-key=e.key', '--config-tls-cert=c.crt', '--config-tls-key=c.key',
    ];
    const options = gatewayOptions(args, undefined, { deliveriesFile: 'deliveries-1.db' });
    expect(options).toMatchObject({
      host: '0.0.0.0', eventsPort: 5000, configPort: 5001, workers: 3, workersBacklog: 7, eventsBodyLimit: 1000, configBodyLimit: 2000,
      maxHeaderSize: 3000, maxRecordsPerSpace: 40, targetTimeoutMs: 5000,
      delivery: { mode: 'durable', dataDir: join(dir, '1'), defaultRetry: { maxAttempts: 6, maxAgeSeconds: 70 }, file: 'deliveries-1.db' },
      targetNetworks: { allowNetworks: ['10.0.0.0/8'], allowPrivate: true, allowLoopback: true },
      eventsTls: { cert: 'e.crt', key: 'e.key' },
      configTls: { cert: 'c.crt', key: 'c.key' },
    });
    expect(options).not.toHaveProperty('registryRefreshMs');
    expect(options).not.toHaveProperty('plugins');
    expect(options).not.toHaveProperty('tracing');
  });

  it('delivers in memory with --delivery=memory, and passes plugins with their time limit and the tracing on', () => {
    const plugin: Plugin = { name: 'audit', subscriptions: [], react: () => undefined };
    const tracing = { recording: false } as unknown as Tracing;
    const options = gatewayOptions(['--delivery=memory', '--plugin-timeout=250'], undefined, { plugins: [plugin], tracing });
    expect(options.delivery).toEqual({ mode: 'memory' });
    expect(options).toMatchObject({ plugins: [plugin], pluginTimeoutMs: 250, tracing });
    expect(gatewayOptions([], undefined, { plugins: [] })).not.toHaveProperty('pluginTimeoutMs');
  });

  it('keeps the registry in DynamoDB with --dynamodb-table, named in start-up errors with its endpoint and region', async () => {
    const options = gatewayOptions([...TABLE, '--registry-refresh-ms=500']);
    expect(options.store).toBeInstanceOf(DynamoDbStore);
    expect(options).toMatchObject({ registryRefreshMs: 500, registryDescription: 'DynamoDB table "registry" (endpoint http://127.0.0.1:8000, region eu-west-3)' });
    const client = (options.store as unknown as { client: { config: { region(): Promise<string>; endpoint?(): Promise<{ hostname: string; port?: number }> } } }).client;
    expect(await client.config.region()).toBe('eu-west-3');
    expect(await client.config.endpoint?.()).toMatchObject({ hostname: '127.0.0.1', port: 8000 });
  });

  it('names the region of the table from AWS_REGION, then AWS_DEFAULT_REGION, then the SDK', () => {
    const describe = () => gatewayOptions(['--dynamodb-table=registry']).registryDescription;
    expect(describe()).toBe(`DynamoDB table "registry" (endpoint the region's, region the SDK's default)`);
    process.env.AWS_DEFAULT_REGION = 'ap-south-1';
    expect(describe()).toBe(`DynamoDB table "registry" (endpoint the region's, region ap-south-1)`);
    process.env.AWS_REGION = 'us-west-2';
    expect(describe()).toBe(`DynamoDB table "registry" (endpoint the region's, region us-west-2)`);
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
  });

  it('opens the embedded store in the data directory without --dynamodb-table', async () => {
    const store = openStore(optionsOf([`--embed-data-dir=${join(dir, 'embedded')}`]));
    opened.push(store);
    expect(store).toBeInstanceOf(SqliteStore);
    expect(readdirSync(join(dir, 'embedded')).length).toBeGreaterThan(0);
  });

  it('takes the queue from SQS with --sqs-queue-url, with its dead letters when a dead-letter queue is named', async () => {
    const sqs = await SqsLoopback.start();
    try {
      expect(openQueue(optionsOf([]), silentLogger)).toBeUndefined();
      const args = [`--sqs-queue-url=${sqs.queueUrl('deliveries')}`, `--sqs-endpoint=${sqs.endpoint}`, '--dynamodb-table=t', '--dynamodb-region=eu-north-1'];
      const plain = openQueue(optionsOf(args), silentLogger);
      expect(plain && Object.keys(plain)).toEqual(['queue']);
      const sqsOf = (delivery: SqsDelivery | undefined) => {
        if (!(delivery?.queue instanceof SqsQueue)) throw new Error('not an SQS queue');
        return delivery.queue.sqs;
      };
      expect(await sqsOf(plain).config.region()).toBe('eu-north-1');
      const withDlq = openQueue(optionsOf([...args, `--sqs-dead-letter-queue-url=${sqs.queueUrl('dlq')}`]), silentLogger);
      expect(withDlq?.deadLetters).toBeDefined();
      await withDlq?.deadLetters?.list({ space: 'default' } as never);
      expect(sqs.calls.map((c) => [c.target, c.body.QueueUrl])).toContainEqual(['AmazonSQS.ReceiveMessage', sqs.queueUrl('dlq')]);
      // The queue polls once started, from the queue's URL.
      withDlq?.queue.start(async () => undefined);
      await eventually(async () => sqs.calls.find((c) => c.target === 'AmazonSQS.ReceiveMessage' && c.body.QueueUrl === sqs.queueUrl('deliveries')), 'a poll of the queue');
      await withDlq?.queue.drain();
      // An amazonaws.com URL names its own region.
      const aws = openQueue(optionsOf(['--sqs-queue-url=https://sqs.ca-central-1.amazonaws.com/1/q', '--dynamodb-table=t', '--dynamodb-region=eu-north-1']), silentLogger);
      expect(await sqsOf(aws).config.region()).toBe('ca-central-1');
      // --sqs-endpoint replaces the queue URL's host.
      const elsewhere = openQueue(optionsOf(['--sqs-queue-url=https://sqs.ca-central-1.amazonaws.com/1/q', '--sqs-endpoint=http://127.0.0.1:9324']), silentLogger);
      expect(await sqsOf(elsewhere).config.endpoint?.()).toMatchObject({ hostname: '127.0.0.1', port: 9324 });
      sqsOf(elsewhere).destroy();
      sqsOf(plain).destroy();
      sqsOf(aws).destroy();
    } finally {
      await sqs.close();
    }
  });

  it('passes the SQS queue and its dead letters to the gateway in place of its own queue', () => {
    const sqs = openQueue(optionsOf(['--sqs-queue-url=https://sqs.ca-central-1.amazonaws.com/1/q', '--sqs-dead-letter-queue-url=https://sqs.ca-central-1.amazonaws.com/1/dlq']), silentLogger);
    expect(gatewayOptions([], sqs).delivery).toEqual({ mode: 'queue', queue: sqs?.queue, deadLetters: sqs?.deadLetters });
    const queueOnly = { queue: sqs!.queue };
    expect(gatewayOptions([], queueOnly).delivery).toEqual({ mode: 'queue', queue: sqs?.queue });
    (sqs?.queue as SqsQueue).sqs.destroy();
  });
});
