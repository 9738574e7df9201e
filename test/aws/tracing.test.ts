import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, SQSBatchResponse } from 'aws-lambda';
import { composeEvents, type AwsConfig } from '../../lib/aws/compose';
import { composeWorker } from '../../lib/aws/compose-worker';
import { composeConfig } from '../../lib/aws/compose-config';
import { configHandler, eventsHandler, workerHandler } from '../../lib/aws/handlers';
import { createRegistryTable } from '../../lib/stores/dynamodb';
import { LOCAL_CREDENTIALS, localDynamoDbConfig, uniqueTableName } from '../support/dynamodb-local';
import { configEvent, lambdaContext, sampleEvent, sqsBatch } from '../support/lambda-events';
import { SqsLoopback } from '../support/sqs-loopback';
import { TestTarget } from '../support/target';

type Result = APIGatewayProxyStructuredResultV2;
const XRAY = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
const FROM_XRAY = '00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01';
const CLIENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('trace context through the Lambda handlers (X-Ray)', () => {
  let sqs: SqsLoopback;
  let target: TestTarget;
  let handlers: { config: ReturnType<typeof configHandler>; events: ReturnType<typeof eventsHandler>; worker: ReturnType<typeof workerHandler> };
  const env = { ...process.env };

  beforeAll(async () => {
    Object.assign(process.env, { AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey });
    sqs = await SqsLoopback.start();
    target = await TestTarget.start();
    target.respondWith({ statusCode: 200, body: 'traced' });
    const tableName = uniqueTableName('tracing');
    await createRegistryTable({ tableName, ...localDynamoDbConfig() });
    const config: AwsConfig = { tableName, queueUrl: sqs.queueUrl(), versionCheckMs: 0, logLevel: 'silent', dynamoDbEndpoint: localDynamoDbConfig().endpoint, sqsEndpoint: sqs.endpoint, accessKeys: [], targetNetworks: { allowLoopback: true } };
    handlers = {
      config: configHandler(composeConfig(config)),
      events: eventsHandler(composeEvents(config)),
      worker: workerHandler(composeWorker(config)),
    };
    const call = (path: string, body: unknown) => handlers.config(configEvent('POST', `/v1/spaces/default${path}`, body), lambdaContext);
    await call('/eventtypes', { name: 'http.request' });
    await call('/eventtypes', { name: 'order.placed' });
    await call('/functions', { functionId: 'fn', type: 'http', provider: { url: target.url } });
    await call('/subscriptions', { type: 'sync', eventType: 'http.request', functionId: 'fn', path: '/traced', method: 'GET' });
    await call('/subscriptions', { type: 'async', eventType: 'order.placed', functionId: 'fn', path: '/orders' });
  });
  afterAll(async () => {
    process.env = env;
    await Promise.all([sqs.close(), target.close()]);
  });
  beforeEach(() => {
    target.received.length = 0;
    process.env._X_AMZN_TRACE_ID = XRAY;
  });

  function request(method: string, path: string, headers: Record<string, string>, body?: string): APIGatewayProxyEventV2 {
    const event = sampleEvent('apigw-events-emit.json');
    event.requestContext.http.method = method;
    event.requestContext.http.path = path;
    event.rawPath = path;
    event.headers = headers;
    if (body === undefined) delete event.body;
    else event.body = body;
    return event;
  }

  it("gives a sync target the traceparent of the invocation's X-Ray trace when the client sent none", async () => {
    const res = (await handlers.events(request('GET', '/traced', {}), lambdaContext)) as Result;

    expect(res.statusCode).toBe(200);
    expect(target.received[0]?.headers.traceparent).toBe(FROM_XRAY);
  });

  it("keeps the client's traceparent, through SQS to the worker's call", async () => {
    sqs.calls.length = 0;
    const event = JSON.stringify({ eventType: 'order.placed', cloudEventsVersion: '0.1', source: '/shop', eventID: 'o-1', data: {} });
    const res = (await handlers.events(request('POST', '/orders', { 'content-type': 'application/cloudevents+json', traceparent: CLIENT }, event), lambdaContext)) as Result;
    expect(res.statusCode).toBe(202);
    const [body] = sqs.sentBodies();
    const entry = sqs.calls.find((c) => c.target === 'AmazonSQS.SendMessageBatch')?.body.Entries[0];
    expect(entry.MessageAttributes.traceparent.StringValue).toBe(CLIENT);

    // The worker runs in an invocation (and X-Ray trace) of its own: the delivery's context wins.
    process.env._X_AMZN_TRACE_ID = 'Root=1-6759e988-cd862e3fe1be46a994272793;Parent=63995c3f42cd8ad8;Sampled=1';
    const out = (await handlers.worker(sqsBatch([{ messageId: 'm-1', body: body ?? '' }]), lambdaContext)) as SQSBatchResponse;

    expect(out.batchItemFailures).toEqual([]);
    expect(target.received[0]?.headers.traceparent).toBe(CLIENT);
  });
});
