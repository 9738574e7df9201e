import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../lib/logger';
import { parseCommandLine } from '../../lib/server/cli';
import { startGateway, type RunningGateway } from '../../lib/server/gateway';
import { createRegistryTable, DynamoDbStore } from '../../lib/stores/dynamodb';
import { localDynamoDbConfig, uniqueTableName } from '../support/dynamodb-local';
import { call, tempDir } from '../support/gateway';
import { startGatewayProcess } from '../support/process';
import { TestTarget } from '../support/target';

describe('local servers sharing one DynamoDB registry', () => {
  let tableName: string;
  let target: TestTarget;
  const gateways: RunningGateway[] = [];

  const start = () =>
    startGateway({
      store: new DynamoDbStore({ tableName, ...localDynamoDbConfig() }),
      logger: silentLogger,
      eventsPort: 0,
      configPort: 0,
      workers: 4,
      workersBacklog: 100,
      registryRefreshMs: 200,
      // Loopback targets and an open Config API, as `--dev` allows.
      configAccess: { keys: [], withoutKeys: 'open' },
      targetNetworks: { allowLoopback: true },
    });

  beforeAll(async () => {
    tableName = uniqueTableName('cluster');
    await createRegistryTable({ tableName, ...localDynamoDbConfig() });
    target = await TestTarget.start();
    gateways.push(await start(), await start());
  });
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await target.close();
  });

  it('routes on one server a subscription registered through the other, within the refresh interval', async () => {
    const [first, second] = gateways as [RunningGateway, RunningGateway];
    // The second server builds its routing table before the registration, so it must notice the change.
    expect((await fetch(`${second.eventsUrl}/hello`)).status).toBe(202);
    const base = `${first.configUrl}/v1/spaces/default`;
    await call('POST', `${base}/eventtypes`, { name: 'http.request' });
    await call('POST', `${base}/functions`, { functionId: 'hello', type: 'http', provider: { url: target.url } });
    const sub = await call('POST', `${base}/subscriptions`, { type: 'sync', eventType: 'http.request', functionId: 'hello', path: '/hello', method: 'GET' });
    expect(sub.status).toBe(201);
    target.respondWith({ statusCode: 200, body: 'routed by the other server' });

    const deadline = Date.now() + 20_000;
    let answer = '';
    while (Date.now() < deadline) {
      const res = await fetch(`${second.eventsUrl}/hello`);
      answer = await res.text();
      if (res.status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(answer).toBe('routed by the other server');
    expect((await call('GET', `${second.configUrl}/v1/spaces/default/subscriptions`)).body.subscriptions).toHaveLength(1);
  });

  it('takes the DynamoDB and SQS flags on the command line', () => {
    const request = parseCommandLine(
      ['--dynamodb-table', 'registry', '--dynamodb-region', 'eu-west-1', '--dynamodb-endpoint', 'http://127.0.0.1:8000', '--sqs-queue-url', 'https://sqs.eu-west-1.amazonaws.com/1/q', '--registry-refresh-ms=500'],
      '0.0.0',
    );
    expect(request).toMatchObject({
      kind: 'run',
      options: { dynamodb: { table: 'registry', region: 'eu-west-1', endpoint: 'http://127.0.0.1:8000' }, sqsQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/q', registryRefreshMs: 500 },
    });
    expect(parseCommandLine(['--dynamodb-endpoint', 'http://x'], '0.0.0')).toMatchObject({ kind: 'print', exitCode: 2 });
  });

  it('finds DynamoDB through AWS_ENDPOINT_URL_DYNAMODB and its region in the AWS_PROFILE of a config file, as every AWS tool does', async () => {
    // DynamoDB Local keeps one database per region: the table exists only in the profile's region.
    const region = 'eu-north-1';
    const table = uniqueTableName('profile');
    const { endpoint, credentials } = localDynamoDbConfig();
    await createRegistryTable({ tableName: table, endpoint, credentials, region });
    const dir = tempDir('eg-aws-config-');
    const configFile = join(dir, 'config');
    writeFileSync(configFile, `[profile gateway]\nregion = ${region}\n`);
    writeFileSync(join(dir, 'credentials'), `[gateway]\naws_access_key_id = ${credentials.accessKeyId}\naws_secret_access_key = ${credentials.secretAccessKey}\n`);
    const gateway = await startGatewayProcess(['--dev', '--dynamodb-table', table], {
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_CONFIG_FILE: configFile,
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
      AWS_PROFILE: 'gateway',
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_SESSION_TOKEN: undefined,
      AWS_REGION: undefined,
      AWS_DEFAULT_REGION: undefined,
      AWS_ENDPOINT_URL: undefined,
    });
    try {
      const created = await call('POST', `${gateway.configUrl}/v1/spaces/default/eventtypes`, { name: 'user.created' });
      expect(created.status).toBe(201);
      const store = new DynamoDbStore({ tableName: table, endpoint, credentials, region });
      try {
        expect(await store.list('default', 'eventType')).toEqual([expect.objectContaining({ name: 'user.created' })]);
      } finally {
        await store.close();
      }
    } finally {
      gateway.child.kill('SIGTERM');
      await gateway.exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
