import type { APIGatewayProxyStructuredResultV2, Context, SQSBatchResponse } from 'aws-lambda';
import { composeEvents, type AwsConfig } from '../../lib/aws/compose';
import { composeConfig } from '../../lib/aws/compose-config';
import { composeWorker } from '../../lib/aws/compose-worker';
import { configHandler, eventsHandler, HTTP_TIME_MARGIN_MS, WORKER_TIME_MARGIN_MS, workerHandler } from '../../lib/aws/handlers';
import { SQS_MAX_MESSAGE_BYTES } from '../../lib/delivery/sqs-message';
import { createRegistryTable } from '../../lib/stores/dynamodb';
import { LOCAL_CREDENTIALS, localDynamoDbConfig, uniqueTableName } from '../support/dynamodb-local';
import { configEvent, lambdaContext, sqsBatch } from '../support/lambda-events';
import { SecretsManagerLoopback } from '../support/secrets-manager-loopback';
import { SqsLoopback } from '../support/sqs-loopback';
import { TestTarget } from '../support/target';

type Result = APIGatewayProxyStructuredResultV2;
const json = (res: Result): any => JSON.parse(res.body ?? '');

/** A Lambda context whose invocation has `ms` left. */
const withTimeLeft = (ms: number): Context => ({ ...lambdaContext, getRemainingTimeInMillis: () => ms });

/** An API Gateway request to the Config API with a bearer key (or none). */
function keyed(method: string, path: string, key?: string, body?: unknown) {
  const event = configEvent(method, path, body);
  if (key) event.headers = { ...event.headers, authorization: `Bearer ${key}` };
  return event;
}

describe('Lambda handlers ready for production (DynamoDB Local, loopback SQS and Secrets Manager)', () => {
  let sqs: SqsLoopback;
  let secrets: SecretsManagerLoopback;
  let target: TestTarget;
  let hanging: TestTarget;
  let config: AwsConfig;
  let admin: ReturnType<typeof configHandler>;
  const env = { ...process.env };

  beforeAll(async () => {
    // Region and credentials from the environment, as on Lambda; never in the functions' own configuration.
    Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey });
    [sqs, secrets, target, hanging] = await Promise.all([SqsLoopback.start(), SecretsManagerLoopback.start(), TestTarget.start(), TestTarget.start()]);
    hanging.behaviour = () => 'hang';
    const tableName = uniqueTableName('production');
    await createRegistryTable({ tableName, ...localDynamoDbConfig() });
    config = {
      tableName,
      queueUrl: sqs.queueUrl(),
      deadLetterQueueUrl: sqs.queueUrl('dlq'),
      versionCheckMs: 0,
      logLevel: 'silent',
      dynamoDbEndpoint: localDynamoDbConfig().endpoint,
      sqsEndpoint: sqs.endpoint,
      accessKeys: [],
      targetNetworks: { allowLoopback: true },
    };
    admin = configHandler(composeConfig(config));
  });
  afterAll(async () => {
    process.env = env;
    await Promise.all([sqs.close(), secrets.close(), target.close(), hanging.close()]);
  });

  const create = async (path: string, body: unknown) => {
    const res = (await admin(configEvent('POST', `/v1/spaces/default${path}`, body), lambdaContext)) as Result;
    expect([path, res.statusCode]).toEqual([path, 201]);
  };

  describe('Config API keys from Secrets Manager', () => {
    const ADMIN_KEY = 'an-admin-key-0123456789';
    const VIEWER_KEY = 'a-viewer-key-0123456789';
    const keyMode = (secretId: string, ttlMs?: number) =>
      configHandler(composeConfig({ ...config, configKeysSecret: secretId, secretsManagerEndpoint: secrets.endpoint, ...(ttlMs !== undefined ? { configKeysTtlMs: ttlMs } : {}) }));
    beforeEach(() => {
      secrets.calls.length = 0;
      secrets.failing = false;
    });

    it('checks keys read from the secret with the SDK, read once at cold start and then cached', async () => {
      secrets.secrets.set('eg/keys', JSON.stringify({ keys: [{ key: ADMIN_KEY }, { key: VIEWER_KEY, readOnly: true }] }));
      const handler = keyMode('eg/keys');
      const anonymous = (await handler(keyed('GET', '/v1/spaces/default/functions'), lambdaContext)) as Result;
      expect([anonymous.statusCode, json(anonymous)]).toEqual([401, { errors: [{ message: 'Missing or invalid access key. Send "Authorization: Bearer <key>".' }] }]);
      const viewing = (await handler(keyed('GET', '/v1/spaces/default/functions', VIEWER_KEY), lambdaContext)) as Result;
      expect(viewing.statusCode).toBe(200);
      const viewerWrite = (await handler(keyed('POST', '/v1/spaces/default/eventtypes', VIEWER_KEY, { name: 'viewer.event' }), lambdaContext)) as Result;
      expect([viewerWrite.statusCode, json(viewerWrite)]).toEqual([403, { errors: [{ message: 'This access key is read-only.' }] }]);
      const adminWrite = (await handler(keyed('POST', '/v1/spaces/default/eventtypes', ADMIN_KEY, { name: 'admin.event' }), lambdaContext)) as Result;
      expect(adminWrite.statusCode).toBe(201);
      // One read for four requests, by the real SDK client: signed for secretsmanager, asking for the configured secret.
      expect(secrets.calls).toEqual([{ target: 'secretsmanager.GetSecretValue', secretId: 'eg/keys', signature: 'valid', service: 'secretsmanager' }]);
    });

    it('reads the secret again once its keys are older than the cache time, so a rotation needs no redeploy', async () => {
      secrets.secrets.set('eg/rotating', JSON.stringify([ADMIN_KEY]));
      const handler = keyMode('eg/rotating', 0);
      expect(((await handler(keyed('GET', '/v1/spaces/default/functions', ADMIN_KEY), lambdaContext)) as Result).statusCode).toBe(200);
      const rotated = 'a-rotated-key-0123456789';
      secrets.secrets.set('eg/rotating', JSON.stringify([rotated]));
      expect(((await handler(keyed('GET', '/v1/spaces/default/functions', ADMIN_KEY), lambdaContext)) as Result).statusCode).toBe(401);
      expect(((await handler(keyed('GET', '/v1/spaces/default/functions', rotated), lambdaContext)) as Result).statusCode).toBe(200);
    });

    it('refuses every request, health check included, when the secret cannot be read', async () => {
      const handler = keyMode('eg/missing');
      for (const event of [keyed('GET', '/v1/status'), keyed('GET', '/v1/spaces/default/functions', ADMIN_KEY), keyed('POST', '/v1/spaces/default/eventtypes', ADMIN_KEY, { name: 'x.y' })]) {
        const res = (await handler(event, lambdaContext)) as Result;
        expect([res.statusCode, res.headers?.['content-type'], json(res)]).toEqual([503, 'application/json', { errors: [{ message: "The Config API's access keys cannot be read: every request is refused." }] }]);
      }
      expect(secrets.calls.map((c) => c.secretId)).toEqual(['eg/missing']);
    });

    it('refuses every request when the secret service fails, or the secret is not keys', async () => {
      secrets.failing = true;
      secrets.secrets.set('eg/down', JSON.stringify([ADMIN_KEY]));
      const down = (await keyMode('eg/down')(keyed('GET', '/v1/spaces/default/functions', ADMIN_KEY), lambdaContext)) as Result;
      expect(down.statusCode).toBe(503);
      secrets.failing = false;
      secrets.secrets.set('eg/garbled', '{"keys": "not a list"');
      const garbled = (await keyMode('eg/garbled')(keyed('GET', '/v1/spaces/default/functions', ADMIN_KEY), lambdaContext)) as Result;
      expect([garbled.statusCode, json(garbled).errors[0].message]).toEqual([503, "The Config API's access keys cannot be read: every request is refused."]);
    });

    it('refuses every request when the secret holds no key, instead of leaving the Config API open', async () => {
      for (const [secretId, value] of [['eg/empty-list', '[]'], ['eg/empty-object', '{"keys":[]}']] as const) {
        secrets.secrets.set(secretId, value);
        const handler = keyMode(secretId);
        for (const event of [keyed('GET', '/v1/spaces/default/functions'), keyed('POST', '/v1/spaces/default/eventtypes', undefined, { name: 'open.door' })]) {
          const res = (await handler(event, lambdaContext)) as Result;
          expect([res.statusCode, json(res)]).toEqual([503, { errors: [{ message: "The Config API's access keys secret holds no key: every request is refused." }] }]);
        }
      }
    });
  });

  it('never sends to the gateway\'s own queues as a target: such a delivery is dead-lettered at once, unsent', async () => {
    const ownQueue = sqs.queueUrl().replace(sqs.endpoint, 'https://sqs.us-east-1.amazonaws.com');
    await create('/functions', { functionId: 'own-queue', type: 'awssqs', provider: { queueUrl: ownQueue, region: 'us-east-1' } });
    const worker = workerHandler(composeWorker(config));
    sqs.calls.length = 0;
    const body = JSON.stringify({ deliveryId: 'd-own', space: 'default', subscriptionId: 's', functionId: 'own-queue', eventType: 'user.created', eventId: 'e-own', payload: '{"eventID":"x"}' });
    const res = (await worker(sqsBatch([{ messageId: 'm-own', body }]), lambdaContext)) as SQSBatchResponse;
    expect(res.batchItemFailures).toEqual([]);
    const sends = sqs.calls.filter((c) => c.target === 'AmazonSQS.SendMessage');
    expect(sends.map((c) => c.body.QueueUrl)).toEqual([sqs.queueUrl('dlq')]);
    expect(sends[0]?.body.MessageAttributes?.['eg-error']?.StringValue).toBe("the gateway's own queues are not targets");
  });

  describe('events too large for the delivery queue', () => {
    beforeAll(async () => {
      await create('/eventtypes', { name: 'big.event' });
      await create('/functions', { functionId: 'big-fn', type: 'http', provider: { url: target.url } });
      await create('/subscriptions', { type: 'async', eventType: 'big.event', functionId: 'big-fn', path: '/big' });
    });
    const emit = (data: string, headers: Record<string, string> = {}) => {
      const event = configEvent('POST', '/big', { eventType: 'big.event', cloudEventsVersion: '0.1', source: '/test', eventID: `id-${data.length}`, data });
      event.headers = { ...event.headers, 'content-type': 'application/cloudevents+json', ...headers };
      return event;
    };

    it('answers 413 with the contract JSON error for an async event SQS would not take, and sends nothing', async () => {
      const events = eventsHandler(composeEvents(config));
      const before = sqs.sentBodies().length;
      const res = (await events(emit('x'.repeat(SQS_MAX_MESSAGE_BYTES)), lambdaContext)) as Result;
      expect(res.statusCode).toBe(413);
      expect(res.headers?.['content-type']).toBe('application/json');
      expect(json(res).errors[0].message).toMatch(/^Event too large for asynchronous delivery: its queue message would be \d+ bytes, the limit is 262144 bytes\.$/);
      expect(sqs.sentBodies().length).toBe(before);
      // Just under the limit still goes through.
      const fits = (await events(emit('x'.repeat(SQS_MAX_MESSAGE_BYTES - 4096)), lambdaContext)) as Result;
      expect(fits.statusCode).toBe(202);
      expect(sqs.sentBodies().length).toBe(before + 1);
    });

    it('rejects only the oversized entry of a CloudEvents 1.0 batch', async () => {
      const events = eventsHandler(composeEvents(config));
      const entry = (id: string, data: string) => ({ specversion: '1.0', type: 'big.event', source: '/test', id, data });
      const event = configEvent('POST', '/big', [entry('small', 'fits'), entry('large', 'y'.repeat(SQS_MAX_MESSAGE_BYTES))]);
      event.headers = { ...event.headers, 'content-type': 'application/cloudevents-batch+json' };
      const res = (await events(event, lambdaContext)) as Result;
      expect(res.statusCode).toBe(202);
      expect(json(res)).toMatchObject({
        accepted: 1,
        rejected: 1,
        results: [
          { index: 0, id: 'small', accepted: true },
          { index: 1, id: 'large', accepted: false, error: expect.stringMatching(/^Event too large for asynchronous delivery/) },
        ],
      });
    });
  });

  describe('calls bounded by the time the invocation has left', () => {
    beforeAll(async () => {
      await create('/eventtypes', { name: 'http.request' });
      await create('/functions', { functionId: 'slow-fn', type: 'http', provider: { url: hanging.url } });
      await create('/subscriptions', { type: 'sync', eventType: 'http.request', functionId: 'slow-fn', path: '/slow', method: 'GET' });
      await create('/eventtypes', { name: 'guarded.event' });
      await create('/functions', { functionId: 'fast-fn', type: 'http', provider: { url: target.url } });
      const guarded = (await admin(configEvent('PUT', '/v1/spaces/default/eventtypes/guarded.event', { authorizerId: 'slow-fn' }), lambdaContext)) as Result;
      expect(guarded.statusCode).toBe(200);
      await create('/subscriptions', { type: 'sync', eventType: 'guarded.event', functionId: 'fast-fn', path: '/guarded', method: 'POST' });
    });

    it('answers a sync call to a target that does not answer with the gateway\'s own JSON 500 before the invocation ends', async () => {
      const events = eventsHandler(composeEvents(config));
      const event = configEvent('GET', '/slow');
      delete event.body;
      const before = hanging.received.length;
      // 200 ms for the call, then the margin for the answer.
      const res = (await events(event, withTimeLeft(HTTP_TIME_MARGIN_MS + 200))) as Result;
      expect([res.statusCode, json(res)]).toEqual([500, { errors: [{ message: 'Function call failed. Please check logs.' }] }]);
      expect(hanging.received.length).toBe(before + 1);
    });

    it('denies an event whose authorizer does not answer in time (403), without calling the subscriber', async () => {
      const events = eventsHandler(composeEvents(config));
      const event = configEvent('POST', '/guarded', { eventType: 'guarded.event', cloudEventsVersion: '0.1', source: '/test', eventID: 'g-1', data: {} });
      event.headers = { ...event.headers, 'content-type': 'application/cloudevents+json' };
      const before = target.received.length;
      const res = (await events(event, withTimeLeft(HTTP_TIME_MARGIN_MS + 200))) as Result;
      expect([res.statusCode, json(res)]).toEqual([403, { errors: [{ message: 'Forbidden. The event was denied by its authorizer.' }] }]);
      expect(target.received.length).toBe(before);
    });

    it('ends a worker delivery that outlasts the batch\'s time, reports it for retry, and keeps the others delivered', async () => {
      const worker = workerHandler(composeWorker(config));
      const delivery = (deliveryId: string, functionId: string) =>
        JSON.stringify({ deliveryId, space: 'default', subscriptionId: 's', functionId, eventType: 'user.created', eventId: `e-${deliveryId}`, payload: '{"eventID":"x"}' });
      sqs.calls.length = 0;
      const before = target.received.length;
      const batch = sqsBatch([
        { messageId: 'm-slow', body: delivery('d-slow', 'slow-fn') },
        { messageId: 'm-fast', body: delivery('d-fast', 'fast-fn') },
      ]);
      const res = (await worker(batch, withTimeLeft(WORKER_TIME_MARGIN_MS + 300))) as SQSBatchResponse;
      expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-slow' }] });
      expect(target.received.length).toBe(before + 1);
      // A timeout is worth retrying: the message comes back after its backoff, it is not dead-lettered.
      expect(sqs.calls.filter((c) => c.target === 'AmazonSQS.ChangeMessageVisibility').map((c) => c.body.ReceiptHandle)).toEqual(['receipt-m-slow']);
      expect(sqs.calls.filter((c) => c.target === 'AmazonSQS.SendMessage')).toEqual([]);
    });
  });
});
