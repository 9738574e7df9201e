import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { composeEvents, type AwsConfig } from '../../lib/aws/compose';
import { composeConfig } from '../../lib/aws/compose-config';
import { composeWorker } from '../../lib/aws/compose-worker';
import { configHandler, eventsHandler, workerHandler } from '../../lib/aws/handlers';
import { createRegistryTable } from '../../lib/stores/dynamodb';
import { LOCAL_CREDENTIALS, localDynamoDbConfig, uniqueTableName } from '../support/dynamodb-local';
import { configEvent, lambdaContext, sampleEvent, sqsBatch } from '../support/lambda-events';
import { SqsLoopback } from '../support/sqs-loopback';
import { eventually } from '../support/waiting';

type Result = APIGatewayProxyStructuredResultV2;
const json = (res: Result): any => JSON.parse(res.body ?? '');

// A cold start during a DynamoDB outage: every handler must answer (or report) and leave no rejection
// behind — Lambda's Node runtime ends the execution environment on an unhandled one.
describe('Lambda handlers whose registry cannot be read at cold start', () => {
  let sqs: SqsLoopback;
  let config: AwsConfig;
  const env = { ...process.env };

  beforeAll(async () => {
    Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey });
    sqs = await SqsLoopback.start();
    // The table does not exist (yet): every read fails as it would during an outage.
    config = { tableName: uniqueTableName('cold'), queueUrl: sqs.queueUrl(), versionCheckMs: 0, logLevel: 'silent', dynamoDbEndpoint: localDynamoDbConfig().endpoint, sqsEndpoint: sqs.endpoint, accessKeys: [], targetNetworks: { allowLoopback: true } };
  });
  afterAll(async () => {
    process.env = env;
    await sqs.close();
  });

  it('answers 503 with Retry-After from the Events API and sends nothing', async () => {
    const events = eventsHandler(composeEvents(config));
    const res = (await events(sampleEvent('apigw-events-emit.json'), lambdaContext)) as Result;
    expect([res.statusCode, res.headers?.['retry-after'], json(res)]).toEqual([503, '1', { errors: [{ message: 'Registry unavailable. Please retry.' }] }]);
    expect(sqs.sentBodies()).toEqual([]);
  });

  it('answers 503 from the Config API for reads, writes and its status', async () => {
    const handler = configHandler(composeConfig(config));
    const list = (await handler(configEvent('GET', '/v1/spaces/default/functions'), lambdaContext)) as Result;
    expect([list.statusCode, json(list)]).toEqual([503, { errors: [{ message: 'Registry unavailable. Please retry.' }] }]);
    const create = (await handler(configEvent('POST', '/v1/spaces/default/eventtypes', { name: 'user.created' }), lambdaContext)) as Result;
    expect([create.statusCode, create.headers?.['retry-after']]).toEqual([503, '1']);
    const status = (await handler(configEvent('GET', '/v1/status'), lambdaContext)) as Result;
    expect([status.statusCode, json(status).status, json(status).registry]).toEqual([503, 'degraded', expect.stringMatching(/^unavailable: /)]);
  });

  it('reports every message of a worker batch as failed, without dead-lettering any, and delivers once the registry is back', async () => {
    const worker = workerHandler(composeWorker({ ...config, deadLetterQueueUrl: sqs.queueUrl('dlq') }));
    const records = sampleEvent<SQSEvent>('sqs-delivery-batch.json').Records;
    const batch = sqsBatch(records.map((r) => ({ messageId: r.messageId, body: r.body })));
    const res = (await worker(batch, lambdaContext)) as SQSBatchResponse;
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(records.map((r) => r.messageId).sort());
    expect(sqs.queue(sqs.queueUrl('dlq'))).toEqual([]);

    // The outage ends: the same environment serves the next invocation.
    await createRegistryTable({ tableName: config.tableName, ...localDynamoDbConfig() });
    const handler = configHandler(composeConfig(config));
    const created = await (async () => {
      for (;;) {
        const answer = (await handler(configEvent('POST', '/v1/spaces/default/eventtypes', { name: 'user.created' }), lambdaContext)) as Result;
        if (answer.statusCode !== 503) return answer;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    expect(created.statusCode).toBe(201);
    // SQS hands the batch out again: once the worker's short backoff has passed it reads the registry, and the deliveries
    // are attempted (their function is not registered, so they are dead-lettered).
    await eventually(async () => (((await worker(batch, lambdaContext)) as SQSBatchResponse).batchItemFailures.length === 0 ? true : undefined), 'the batch handled');
    expect(sqs.queue(sqs.queueUrl('dlq'))).toHaveLength(records.length);
  });
});
