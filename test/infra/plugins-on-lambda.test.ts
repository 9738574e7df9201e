import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { composeConfig } from '../../lib/aws/compose-config';
import { configHandler } from '../../lib/aws/handlers';
import { EventGatewayStack } from '../../lib/infra/gateway-stack';
import { createRegistryTable } from '../../lib/stores/dynamodb';
import { LOCAL_CREDENTIALS, localDynamoDbConfig, uniqueTableName } from '../support/dynamodb-local';
import { configEvent, lambdaContext, sampleEvent, sqsBatch } from '../support/lambda-events';
import { SqsLoopback } from '../support/sqs-loopback';

const ROOT = join(__dirname, '..', '..');
const PLUGINS = ['redact.js', 'tenant.ts', 'pause.ts'].map((name) => join(ROOT, name === 'redact.js' ? 'examples' : 'test/fixtures', 'plugins', name));

/** The asset folder of a synthesised function, by its description. */
function bundleOf(outdir: string, template: Template, description: string): string {
  const [fn] = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Description: description } })) as any[];
  return join(outdir, `asset.${String(fn.Properties.Code.S3Key).replace('.zip', '')}`, 'index.js');
}

describe('plugins on AWS', () => {
  it('refuses a plugin file that does not exist, naming it', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    expect(() => new EventGatewayStack(app, 'Missing', { plugins: ['./plugins/nope.ts'] })).toThrow(`plugin ./plugins/nope.ts (${join(process.cwd(), 'plugins', 'nope.ts')}) does not exist`);
  });

  it('sets the plugin timeout on the handlers that carry plugins', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const template = Template.fromStack(new EventGatewayStack(app, 'Timeout', { plugins: PLUGINS, pluginTimeoutMs: 250 }));
    for (const description of ['Event Gateway: Events API', 'Event Gateway: async delivery worker']) {
      template.hasResourceProperties('AWS::Lambda::Function', { Description: description, Environment: { Variables: { EG_PLUGIN_TIMEOUT_MS: '250' } } });
    }
  });

  describe('bundled into the handlers', () => {
    let outdir: string;
    let template: Template;
    let sqs: SqsLoopback;
    let env: NodeJS.ProcessEnv;

    beforeAll(async () => {
      outdir = mkdtempSync(join(tmpdir(), 'eg-plugins-cdk-'));
      const app = new App({ outdir });
      template = Template.fromStack(new EventGatewayStack(app, 'Plugged', { plugins: PLUGINS }));
      app.synth();
      sqs = await SqsLoopback.start();
      const tableName = uniqueTableName('plugins');
      await createRegistryTable({ tableName, ...localDynamoDbConfig() });
      env = {
        EG_TABLE_NAME: tableName,
        EG_QUEUE_URL: sqs.queueUrl(),
        EG_DEAD_LETTER_QUEUE_URL: sqs.queueUrl('dlq'),
        EG_DYNAMODB_ENDPOINT: localDynamoDbConfig().endpoint,
        EG_SQS_ENDPOINT: sqs.endpoint,
        EG_LOG_LEVEL: 'silent',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      };
      // The registry the sample event is routed by: user.created → an async subscriber.
      Object.assign(process.env, { AWS_REGION: env.AWS_REGION, AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY });
      const config = configHandler(
        composeConfig({ tableName, versionCheckMs: 0, logLevel: 'silent', dynamoDbEndpoint: env.EG_DYNAMODB_ENDPOINT as string, accessKeys: [], targetNetworks: {} }),
      );
      for (const [path, body] of [
        ['/eventtypes', { name: 'user.created' }],
        ['/functions', { functionId: 'welcome', type: 'http', provider: { url: 'https://example.com/welcome' } }],
        ['/subscriptions', { type: 'async', eventType: 'user.created', functionId: 'welcome', path: '/' }],
        // Never called: the pause plugin refuses its invocations.
        ['/functions', { functionId: 'paused', type: 'http', provider: { url: 'https://example.com/paused' } }],
      ] as const) {
        const res = (await config(configEvent('POST', `/v1/spaces/default${path}`, body), lambdaContext)) as { statusCode: number };
        expect(res.statusCode).toBe(201);
      }
    }, 120_000);
    afterAll(async () => {
      await sqs.close();
      rmSync(outdir, { recursive: true, force: true });
    });

    /** Runs a bundled handler in its own Node process, as Lambda's runtime would, with one event. */
    const invoke = async (bundle: string, event: unknown): Promise<any> => {
      const script = `require(${JSON.stringify(bundle)}).handler(JSON.parse(process.argv[1]), { awsRequestId: 'r-1', functionName: 'f', getRemainingTimeInMillis: () => 30000 })
        .then((r) => process.stdout.write(JSON.stringify(r)), (e) => { console.error(e); process.exit(1); })`;
      const { stdout } = await promisify(execFile)(process.execPath, ['-e', script, JSON.stringify(event)], { env: { ...process.env, ...env } });
      // EMF metric lines come first, one per line; the answer is written last.
      return JSON.parse(stdout.trim().split('\n').pop() ?? '');
    };

    it('runs the plugins in the bundled Events API handler: the TypeScript one refuses, the JavaScript one redacts', async () => {
      const events = bundleOf(outdir, template, 'Event Gateway: Events API');
      const refused = await invoke(events, sampleEvent('apigw-events-emit.json'));
      expect(refused.statusCode).toBe(400);
      expect(JSON.parse(refused.body)).toEqual({ errors: [{ message: 'Header X-Tenant is required.' }] });
      expect(sqs.queue(sqs.queueUrl())).toEqual([]);

      const accepted = await invoke(events, sampleEvent('apigw-events-emit-with-secrets.json'));
      expect(accepted.statusCode).toBe(202);
      const [message] = sqs.queue(sqs.queueUrl());
      const event = JSON.parse(JSON.parse(message?.Body ?? '{}').payload);
      expect(event.data).toEqual({ userId: 'u-43' });
      expect(event.extensions.tenant).toBe('acme');
    });

    it('runs the plugins in the bundled worker: a refused invocation is dead-lettered at once with the plugin message', async () => {
      const worker = bundleOf(outdir, template, 'Event Gateway: async delivery worker');
      const payload = JSON.stringify({ eventType: 'user.created', cloudEventsVersion: '0.1', source: '/signup', eventID: 'w1', data: {} });
      const body = JSON.stringify({ deliveryId: 'd-paused', space: 'default', subscriptionId: 's', functionId: 'paused', eventType: 'user.created', eventId: 'w1', payload });
      const result = await invoke(worker, sqsBatch([{ messageId: 'm-paused', body }]));
      expect(result).toEqual({ batchItemFailures: [] });
      const dead = sqs.queue(sqs.queueUrl('dlq'));
      expect(dead.map((m) => [JSON.parse(m.Body).deliveryId, m.MessageAttributes?.['eg-error']?.StringValue, m.MessageAttributes?.['eg-attempts']?.StringValue])).toEqual([
        ['d-paused', 'Function paused is paused.', '1'],
      ]);
    });

    it('bundles the plugins into the worker, and not into the Config API handler', () => {
      const has = (description: string) => readFileSync(bundleOf(outdir, template, description), 'utf8').includes('Header X-Tenant is required.');
      expect([has('Event Gateway: Events API'), has('Event Gateway: async delivery worker'), has('Event Gateway: Config API')]).toEqual([true, true, false]);
    });
  });
});
