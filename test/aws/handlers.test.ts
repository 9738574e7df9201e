import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { composeEvents, type AwsConfig } from '../../lib/aws/compose';
import { composeWorker } from '../../lib/aws/compose-worker';
import { composeConfig } from '../../lib/aws/compose-config';
import { configHandler, eventsHandler, workerHandler } from '../../lib/aws/handlers';
import { createRegistryTable } from '../../lib/stores/dynamodb';
import { LOCAL_CREDENTIALS, localDynamoDbConfig, uniqueTableName } from '../support/dynamodb-local';
import { configEvent, lambdaContext, sampleEvent, sqsBatch } from '../support/lambda-events';
import { SqsLoopback } from '../support/sqs-loopback';
import { LambdaOutput } from '../support/lambda-output';
import { TestTarget } from '../support/target';

type Result = APIGatewayProxyStructuredResultV2;
const json = (res: Result): any => JSON.parse(res.body ?? '');

describe('Lambda handlers on DynamoDB Local and a loopback SQS', () => {
  let sqs: SqsLoopback;
  let good: TestTarget;
  let bad: TestTarget;
  let config: AwsConfig;
  let handlers: { config: ReturnType<typeof configHandler>; events: ReturnType<typeof eventsHandler>; worker: ReturnType<typeof workerHandler> };
  const env = { ...process.env };
  // Powertools writes log lines and EMF documents to stdout and stderr, as on Lambda.
  const stdout = new LambdaOutput();

  beforeAll(async () => {
    // The SDK clients of the composed handlers take region and credentials from the environment, as on Lambda;
    // Powertools knows a cold start by Lambda's AWS_LAMBDA_INITIALIZATION_TYPE.
    Object.assign(process.env, { AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey });
    sqs = await SqsLoopback.start();
    good = await TestTarget.start();
    bad = await TestTarget.start();
    bad.behaviour = () => ({ status: 500, body: 'down' });
    const tableName = uniqueTableName('handlers');
    await createRegistryTable({ tableName, ...localDynamoDbConfig() });
    config = { tableName, queueUrl: sqs.queueUrl(), deadLetterQueueUrl: sqs.queueUrl('dlq'), versionCheckMs: 0, logLevel: 'debug', dynamoDbEndpoint: localDynamoDbConfig().endpoint, sqsEndpoint: sqs.endpoint, accessKeys: [], targetNetworks: { allowLoopback: true } };
    stdout.start();
    handlers = {
      config: configHandler(composeConfig(config)),
      events: eventsHandler(composeEvents(config)),
      worker: workerHandler(composeWorker(config)),
    };
  });
  afterAll(async () => {
    stdout.stop();
    process.env = env;
    await Promise.all([sqs.close(), good.close(), bad.close()]);
  });

  const configCall = (method: string, path: string, body?: unknown): Promise<Result> =>
    handlers.config(configEvent(method, `/v1/spaces/default${path}`, body), lambdaContext) as Promise<Result>;

  it('creates an event type, a function and a subscription from the sample API Gateway events', async () => {
    const eventType = (await handlers.config(sampleEvent('apigw-config-create-event-type.json'), lambdaContext)) as Result;
    const fn = (await handlers.config(sampleEvent('apigw-config-create-function.json'), lambdaContext)) as Result;
    const sub = (await handlers.config(sampleEvent('apigw-config-create-subscription.json'), lambdaContext)) as Result;
    expect([eventType.statusCode, fn.statusCode, sub.statusCode]).toEqual([201, 201, 201]);
    expect(json(sub)).toMatchObject({ space: 'default', type: 'async', eventType: 'user.created', functionId: 'welcome-email', path: '/', method: 'POST' });
    expect(json(sub).subscriptionId).toEqual(expect.any(String));
    const listed = (await configCall('GET', '/functions')) as Result;
    expect(json(listed).functions.map((f: any) => f.functionId)).toEqual(['welcome-email']);
  });

  it('serves the web console without a key, with its own script and a content security policy', async () => {
    const page = (await handlers.config(configEvent('GET', '/console/'), lambdaContext)) as Result;
    expect(page.statusCode).toBe(200);
    expect(page.headers?.['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers?.['content-security-policy']).toContain("default-src 'self'");
    expect(page.body).toContain('<script defer src="app.js"></script>');
    const script = (await handlers.config(configEvent('GET', '/console/app.js'), lambdaContext)) as Result;
    expect([script.statusCode, script.headers?.['content-type']]).toEqual([200, 'text/javascript; charset=utf-8']);
    const redirect = (await handlers.config(configEvent('GET', '/console'), lambdaContext)) as Result;
    expect([redirect.statusCode, redirect.headers?.location]).toEqual([301, '/console/']);
    expect(((await handlers.config(configEvent('GET', '/console/secret.txt'), lambdaContext)) as Result).statusCode).toBe(404);
  });

  it('answers the live tail with 501: it needs the local server', async () => {
    const res = (await configCall('GET', '/tail')) as Result;
    expect(res.statusCode).toBe(501);
    expect(json(res).errors[0].message).toBe('The live tail is served by the local server (event-gateway) only; on AWS, follow the console (it polls) or CloudWatch.');
  });

  it('logs through Powertools, with the request ID, cold start and function name in every line, and publishes EMF with the cold-start metric', async () => {
    // The worker's first invocation (a cold start), with a message it can only dead-letter: it logs why.
    const batch = (id: string) => sqsBatch([{ messageId: id, body: 'not a delivery' }]);
    await handlers.worker(batch('m-cold'), lambdaContext);
    await handlers.worker(batch('m-warm'), lambdaContext);
    sqs.queues.delete(sqs.queueUrl('dlq'));
    const logs = stdout.logs();
    for (const line of logs) {
      expect(line).toMatchObject({ service: 'event-gateway', function_request_id: lambdaContext.awsRequestId, function_name: lambdaContext.functionName, cold_start: expect.any(Boolean) });
    }
    const deadLettered = logs.filter((l) => l.message === 'delivery failed for good; moved to the dead-letter queue');
    expect(deadLettered.map((l) => [l.level, l.messageId, l.cold_start])).toEqual([
      ['WARN', 'm-cold', true],
      ['WARN', 'm-warm', false],
    ]);
    const emf = stdout.metrics();
    // One cold-start metric per handler invoked so far (the config handler in the test before, the worker), however many invocations.
    expect(emf.filter((doc) => doc.ColdStart === 1 && doc.function_name === lambdaContext.functionName)).toHaveLength(2);
    expect(emf.find((doc) => doc.resource === 'eventtypes' && doc.operation === 'create')).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Namespace: 'EventGateway', Dimensions: [['space', 'resource', 'operation']], Metrics: [{ Name: 'eventgateway_config_requests_total', Unit: 'Count' }] }] },
      space: 'default',
      eventgateway_config_requests_total: 1,
    });
  });

  it('keeps a function\'s AWS secret out of every log line, a failed call to it included', async () => {
    const secret = 'handler-test-secret-that-must-not-be-logged';
    await configCall('POST', '/eventtypes', { name: 'http.request' });
    const fn = await configCall('POST', '/functions', { functionId: 'secret-fn', type: 'awslambda', provider: { arn: 'arn:aws:lambda:us-east-1:123456789012:function:f', region: 'us-east-1', endpoint: 'http://127.0.0.1:9', awsAccessKeyId: 'AKIASECRETTEST', awsSecretAccessKey: secret } });
    expect(fn.statusCode).toBe(201);
    await configCall('POST', '/subscriptions', { type: 'sync', eventType: 'http.request', functionId: 'secret-fn', path: '/secret', method: 'GET' });
    const event = configEvent('GET', '/secret');
    delete event.body;
    const res = (await handlers.events(event, lambdaContext)) as Result;
    expect(res.statusCode).toBe(500);
    expect(stdout.logs()).toContainEqual(expect.objectContaining({ functionId: 'secret-fn', level: expect.stringMatching(/WARN|ERROR/) }));
    expect(JSON.stringify(stdout.lines)).not.toContain(secret);
  });

  it('answers errors in the contract JSON form', async () => {
    const duplicate = await configCall('POST', '/eventtypes', { name: 'user.created' });
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.headers?.['content-type']).toBe('application/json');
    expect(json(duplicate)).toEqual({ errors: [{ message: 'Event Type "user.created" already exists.' }] });
    const malformed = await configCall('POST', '/functions', '{"functionId":');
    expect(malformed.statusCode).toBe(400);
    expect(json(malformed).errors[0].message).toMatch(/^Function doesn't validate/);
    const inUse = await configCall('DELETE', '/functions/welcome-email');
    expect(inUse.statusCode).toBe(400);
    expect(json(inUse)).toEqual({ errors: [{ message: "Function cannot be deleted because it's subscribed to a least one event." }] });
  });

  it('accepts an emitted event and sends its delivery to SQS', async () => {
    sqs.calls.length = 0;
    const res = (await handlers.events(sampleEvent('apigw-events-emit.json'), lambdaContext)) as Result;
    expect([res.statusCode, res.body]).toEqual([202, '']);
    const bodies = sqs.sentBodies().map((b) => JSON.parse(b));
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toMatchObject({ space: 'default', functionId: 'welcome-email', eventType: 'user.created' });
    expect(stdout.metrics()).toContainEqual(expect.objectContaining({ space: 'default', eventType: 'user.created', eventgateway_events_received_total: 1 }));
    expect(JSON.parse(bodies[0].payload)).toMatchObject({ eventType: 'user.created', eventID: '8e3c1f0a-0b5e-4d8e-9b1c-2f6a5d4c3b2a', data: { userId: 'u-42' } });
  });

  it('answers a sync subscriber through the events handler, with the target body', async () => {
    await configCall('POST', '/eventtypes', { name: 'http.request' });
    await configCall('POST', '/functions', { functionId: 'sync-fn', type: 'http', provider: { url: good.url } });
    const sub = await configCall('POST', '/subscriptions', { type: 'sync', eventType: 'http.request', functionId: 'sync-fn', path: '/hello', method: 'GET' });
    expect(sub.statusCode).toBe(201);
    good.respondWith({ statusCode: 200, body: 'hi there' });
    const event = configEvent('GET', '/hello');
    delete event.body;
    const res = (await handlers.events(event, lambdaContext)) as Result;
    expect(res.statusCode).toBe(200);
    const body = res.isBase64Encoded ? Buffer.from(res.body ?? '', 'base64').toString() : res.body;
    expect(body).toBe('hi there');
    good.behaviour = () => ({ status: 200, body: '{}' });
  });

  it('has the system events of a request queued in SQS by the time the handler returns', async () => {
    await configCall('POST', '/eventtypes', { name: 'http.request' });
    await configCall('POST', '/eventtypes', { name: 'eventgateway.function.invoked' });
    await configCall('POST', '/functions', { functionId: 'watched-fn', type: 'http', provider: { url: good.url } });
    await configCall('POST', '/subscriptions', { type: 'sync', eventType: 'http.request', functionId: 'watched-fn', path: '/watched', method: 'GET' });
    await configCall('POST', '/functions', { functionId: 'observer', type: 'http', provider: { url: good.url } });
    const observed = await configCall('POST', '/subscriptions', { type: 'async', eventType: 'eventgateway.function.invoked', functionId: 'observer' });
    expect(observed.statusCode).toBe(201);
    good.respondWith({ statusCode: 200, body: 'watched' });
    const event = configEvent('GET', '/watched');
    delete event.body;
    const before = sqs.sentBodies().length;
    expect(((await handlers.events(event, lambdaContext)) as Result).statusCode).toBe(200);
    // On Lambda the environment freezes once the handler returns: a send still in flight would be late or lost.
    const sent = sqs.sentBodies().slice(before).map((b) => JSON.parse(b));
    expect(sent.map((d) => d.eventType)).toContain('eventgateway.function.invoked');
    good.behaviour = () => ({ status: 200, body: '{}' });
  });

  it('reports exactly the message whose target failed as a batch item failure', async () => {
    await configCall('POST', '/functions', { functionId: 'good-fn', type: 'http', provider: { url: good.url } });
    await configCall('POST', '/functions', { functionId: 'bad-fn', type: 'http', provider: { url: bad.url } });
    const [first, second] = sampleEvent<SQSEvent>('sqs-delivery-batch.json').Records;
    const body = (text: string, functionId: string) => JSON.stringify({ ...JSON.parse(text), functionId });
    const batch = sqsBatch([
      { messageId: first!.messageId, body: body(first!.body, 'good-fn') },
      { messageId: second!.messageId, body: body(second!.body, 'bad-fn') },
    ]);
    const before = good.received.length;
    const res = (await handlers.worker(batch, lambdaContext)) as SQSBatchResponse;
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: second!.messageId }] });
    expect(good.received.length).toBe(before + 1);
    expect(bad.received.length).toBeGreaterThanOrEqual(1);
  });


  it('wires the real entry module from environment variables', async () => {
    Object.assign(process.env, { EG_TABLE_NAME: config.tableName, EG_DYNAMODB_ENDPOINT: config.dynamoDbEndpoint, EG_LOG_LEVEL: 'silent' });
    let entry: typeof import('../../functions/config') | undefined;
    await jest.isolateModulesAsync(async () => {
      entry = await import('../../functions/config');
    });
    const res = (await entry!.handler(configEvent('GET', '/v1/spaces/default/eventtypes/user.created'), lambdaContext)) as Result;
    expect(res.statusCode).toBe(200);
    expect(json(res)).toEqual({ space: 'default', name: 'user.created' });
  });

  it('lists and replays dead letters of the SQS dead-letter queue through the config handler', async () => {
    const body = JSON.stringify({ deliveryId: 'dead-1', space: 'default', subscriptionId: 's', functionId: 'f', eventType: 'user.created', eventId: 'e-1', payload: '{"eventID":"e-1"}' });
    sqs.store(sqs.queueUrl('dlq'), body);
    const listed = (await configCall('GET', '/deadletters')) as Result;
    expect(listed.statusCode).toBe(200);
    expect(json(listed).deadLetters.map((d: any) => d.deliveryId)).toEqual(['dead-1']);
    const replayed = (await configCall('POST', '/deadletters/dead-1/replay')) as Result;
    expect([replayed.statusCode, json(replayed)]).toEqual([202, { replayed: 1 }]);
    expect(sqs.queue(sqs.queueUrl()).map((m) => JSON.parse(m.Body).deliveryId)).toContain('dead-1');
    const missing = (await configCall('POST', '/deadletters/dead-1/replay')) as Result;
    expect(missing.statusCode).toBe(404);
  });

  describe('the worker\'s retry policy', () => {
    const dlq = () => sqs.queue(sqs.queueUrl('dlq'));
    const delivery = (deliveryId: string, functionId: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ deliveryId, space: 'default', subscriptionId: 's', functionId, eventType: 'user.created', eventId: `e-${deliveryId}`, payload: '{"eventID":"x"}', ...extra });
    beforeEach(() => {
      sqs.queues.delete(sqs.queueUrl('dlq'));
      sqs.calls.length = 0;
    });

    it('moves a message whose body is not a delivery to the dead-letter queue at once', async () => {
      const res = (await handlers.worker(sqsBatch([{ messageId: 'm-bad', body: 'not json' }]), lambdaContext)) as SQSBatchResponse;
      expect(res.batchItemFailures).toEqual([]);
      expect(dlq().map((m) => m.Body)).toEqual(['not json']);
      expect(dlq()[0]?.MessageAttributes?.['eg-error']?.StringValue).toMatch(/JSON/);
    });

    it('dead-letters a delivery its target refuses with a 4xx at once, and the Config API lists it with the error', async () => {
      const refusing = await TestTarget.start();
      refusing.behaviour = () => ({ status: 422, body: 'no such user' });
      try {
        await configCall('POST', '/functions', { functionId: 'refusing-fn', type: 'http', provider: { url: refusing.url } });
        const res = (await handlers.worker(sqsBatch([{ messageId: 'm-422', body: delivery('d-422', 'refusing-fn') }]), lambdaContext)) as SQSBatchResponse;
        expect(res.batchItemFailures).toEqual([]);
        expect(refusing.received).toHaveLength(1);
        const listed = json((await configCall('GET', '/deadletters')) as Result).deadLetters;
        expect(listed).toEqual([expect.objectContaining({ deliveryId: 'd-422', attempts: 1, error: expect.stringContaining('422'), deadLetteredAt: expect.any(String) })]);
      } finally {
        await refusing.close();
      }
    });

    it('applies a subscription transform in the worker, and dead-letters at once a delivery whose transform fails', async () => {
      await configCall('POST', '/functions', { functionId: 'slack-fn', type: 'http', provider: { url: good.url } });
      const transform = { jsonata: 'data.name ? {"text": "Hi " & data.name} : $error("no name")', replace: 'event' };
      const sub = json((await configCall('POST', '/subscriptions', { type: 'async', eventType: 'user.created', functionId: 'slack-fn', path: '/slack', transform })) as Result);
      const payload = (data: unknown) => JSON.stringify({ eventType: 'user.created', cloudEventsVersion: '0.1', source: '/users', eventID: 't', data });
      const message = (id: string, data: unknown) => ({ messageId: id, body: delivery(id, 'slack-fn', { subscriptionId: sub.subscriptionId, payload: payload(data) }) });
      const before = good.received.length;
      const res = (await handlers.worker(sqsBatch([message('d-t1', { name: 'Ada' }), message('d-t2', {})]), lambdaContext)) as SQSBatchResponse;
      expect(res.batchItemFailures).toEqual([]);
      expect(good.received.slice(before).map((r) => [r.headers['content-type'], r.json()])).toEqual([['application/json', { text: 'Hi Ada' }]]);
      expect(dlq().map((m) => [JSON.parse(m.Body).deliveryId, m.MessageAttributes?.['eg-error']?.StringValue, m.MessageAttributes?.['eg-attempts']?.StringValue])).toEqual([
        ['d-t2', 'Transform failed: no name', '1'],
      ]);
    });

    it('gives a delivery its SQS target throttles (RequestThrottled, a 400) back for a retry instead of dead-lettering it', async () => {
      const throttled = sqs.queueUrl('throttled');
      sqs.throttle = (url) => url === throttled;
      try {
        const fn = await configCall('POST', '/functions', { functionId: 'throttled-fn', type: 'awssqs', provider: { queueUrl: throttled, region: 'us-east-1', endpoint: sqs.endpoint, awsAccessKeyId: 'AKIDEXAMPLE', awsSecretAccessKey: 'secret' } });
        expect(fn.statusCode).toBe(201);
        const res = (await handlers.worker(sqsBatch([{ messageId: 'm-throttled', body: delivery('d-throttled', 'throttled-fn') }]), lambdaContext)) as SQSBatchResponse;
        expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm-throttled' }]);
        expect(dlq()).toEqual([]);
        const sends = sqs.calls.filter((c) => c.target === 'AmazonSQS.SendMessage' && c.body.QueueUrl === throttled);
        expect(sends.length).toBeGreaterThanOrEqual(1);
        expect(sends.every((c) => c.signature === 'valid')).toBe(true);
      } finally {
        sqs.throttle = () => false;
      }
    });

    it('gives a failed delivery back after its backoff, and dead-letters it once its maxAttempts are used', async () => {
      await configCall('POST', '/functions', { functionId: 'flaky-fn', type: 'http', provider: { url: bad.url } });
      const body = delivery('d-flaky', 'flaky-fn', { retry: { maxAttempts: 2, maxAgeSeconds: 3600 } });
      const first = (await handlers.worker(sqsBatch([{ messageId: 'm-1', body, receiveCount: 1 }]), lambdaContext)) as SQSBatchResponse;
      expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
      const backoff = sqs.calls.find((c) => c.target === 'AmazonSQS.ChangeMessageVisibility');
      expect(backoff?.body).toMatchObject({ QueueUrl: sqs.queueUrl(), ReceiptHandle: 'receipt-m-1', VisibilityTimeout: expect.any(Number) });
      expect(backoff?.body.VisibilityTimeout).toBeGreaterThanOrEqual(1);
      expect(dlq()).toEqual([]);
      const second = (await handlers.worker(sqsBatch([{ messageId: 'm-1', body, receiveCount: 2 }]), lambdaContext)) as SQSBatchResponse;
      expect(second.batchItemFailures).toEqual([]);
      expect(dlq().map((m) => JSON.parse(m.Body).deliveryId)).toEqual(['d-flaky']);
      expect(dlq()[0]?.MessageAttributes?.['eg-attempts']?.StringValue).toBe('2');
    });
  });

  describe('the worker\'s circuit breaker (one per execution environment)', () => {
    const dlq = () => sqs.queue(sqs.queueUrl('dlq'));
    const delivery = (deliveryId: string, functionId: string) =>
      JSON.stringify({ deliveryId, space: 'default', subscriptionId: 's', functionId, eventType: 'user.created', eventId: `e-${deliveryId}`, payload: '{"eventID":"x"}', retry: { maxAttempts: 3, maxAgeSeconds: 3600 } });
    const records = (prefix: string, n: number, extra: { receiveCount?: number; attributes?: Record<string, string> } = {}) =>
      Array.from({ length: n }, (_, i) => ({ messageId: `${prefix}-${i}`, body: delivery(`${prefix}-${i}`, 'outage-fn'), ...extra }));

    it('parks the messages of a target that keeps failing as new delayed messages, without an attempt, until a probe finds it back', async () => {
      const outage = await TestTarget.start();
      outage.behaviour = () => ({ status: 503, body: 'down' });
      try {
        await configCall('POST', '/functions', { functionId: 'outage-fn', type: 'http', provider: { url: outage.url } });
        sqs.queues.delete(sqs.queueUrl());
        sqs.queues.delete(sqs.queueUrl('dlq'));
        sqs.calls.length = 0;
        // Five failures open the circuit; those messages come back after their backoff, one attempt spent.
        const failing = (await handlers.worker(sqsBatch(records('fail', 5)), lambdaContext)) as SQSBatchResponse;
        expect(failing.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(records('fail', 5).map((r) => r.messageId));
        expect(outage.received).toHaveLength(5);

        // While open: nothing attempted; each message is re-sent delayed with its attempts so far, and reported done.
        const parkedBatch = records('wait', 3, { receiveCount: 2, attributes: { 'eg-prior-attempts': '1', 'eg-accepted-at': '1700000000000' } });
        const waiting = (await handlers.worker(sqsBatch(parkedBatch), lambdaContext)) as SQSBatchResponse;
        expect(waiting.batchItemFailures).toEqual([]);
        expect(outage.received).toHaveLength(5);
        const parks = sqs.calls.filter((c) => c.target === 'AmazonSQS.SendMessage' && c.body.QueueUrl === sqs.queueUrl());
        expect(parks.map((c) => [JSON.parse(c.body.MessageBody).deliveryId, c.body.MessageAttributes['eg-prior-attempts'].StringValue, c.body.MessageAttributes['eg-accepted-at'].StringValue])).toEqual([
          ['wait-0', '2', '1700000000000'],
          ['wait-1', '2', '1700000000000'],
          ['wait-2', '2', '1700000000000'],
        ]);
        expect(parks.every((c) => c.body.DelaySeconds >= 1 && c.body.DelaySeconds <= 900)).toBe(true);
        expect(sqs.queue(sqs.queueUrl()).map((m) => JSON.parse(m.Body).deliveryId)).toEqual(['wait-0', 'wait-1', 'wait-2']);
        expect(dlq()).toEqual([]);
        expect(stdout.logs()).toContainEqual(expect.objectContaining({ level: 'WARN', functionId: 'outage-fn', to: 'open', message: 'target of function "outage-fn" keeps failing: circuit open, its deliveries wait' }));
        expect(stdout.metrics()).toContainEqual(expect.objectContaining({ space: 'default', function: 'outage-fn', state: 'open', eventgateway_target_circuit_transitions_total: 1 }));

        // Once the open interval is over, one message probes; its failure counts the attempts it carried.
        await new Promise((resolve) => setTimeout(resolve, 1100));
        const [copy] = sqs.queue(sqs.queueUrl()).splice(0, 1);
        const probe = sqsBatch([{ messageId: 'probe-1', body: copy!.Body, attributes: { 'eg-prior-attempts': '2', 'eg-accepted-at': String(Date.now()) } }]);
        const probed = (await handlers.worker(probe, lambdaContext)) as SQSBatchResponse;
        expect(probed.batchItemFailures).toEqual([]);
        expect(outage.received).toHaveLength(6);
        // Its third attempt of three: dead-lettered by the retry policy, with the attempts it really made.
        expect(dlq().map((m) => [JSON.parse(m.Body).deliveryId, m.MessageAttributes?.['eg-attempts']?.StringValue])).toEqual([['wait-0', '3']]);

        // Back up: the next probe closes the circuit, and the rest are delivered at once.
        outage.behaviour = () => ({ status: 200, body: '{}' });
        await new Promise((resolve) => setTimeout(resolve, 2100));
        const rest = sqs.queue(sqs.queueUrl()).splice(0).map((m, i) => ({ messageId: `back-${i}`, body: m.Body }));
        const back = (await handlers.worker(sqsBatch([...rest, ...records('after', 2)].slice(0, 1)), lambdaContext)) as SQSBatchResponse;
        expect(back.batchItemFailures).toEqual([]);
        const after = (await handlers.worker(sqsBatch([...rest, ...records('after', 2)].slice(1)), lambdaContext)) as SQSBatchResponse;
        expect(after.batchItemFailures).toEqual([]);
        expect(outage.received.slice(6).map((r) => r.headers['event-gateway-delivery-id']).sort()).toEqual(['after-0', 'after-1', 'wait-1', 'wait-2']);
        expect(stdout.logs()).toContainEqual(expect.objectContaining({ functionId: 'outage-fn', to: 'closed' }));
      } finally {
        sqs.queues.delete(sqs.queueUrl());
        await outage.close();
      }
    });
  });

  it('refuses Config API calls without a valid key in key mode, with the contract JSON errors', async () => {
    const keyed = configHandler(composeConfig({ ...config, accessKeys: [{ key: 'a-long-enough-access-key' }] }));
    const anonymous = (await keyed(configEvent('POST', '/v1/spaces/default/eventtypes', { name: 'keyed.event' }), lambdaContext)) as Result;
    expect(anonymous.statusCode).toBe(401);
    expect(json(anonymous).errors[0].message).toEqual(expect.any(String));
    const event = configEvent('POST', '/v1/spaces/default/eventtypes', { name: 'keyed.event' });
    event.headers = { ...event.headers, authorization: 'Bearer a-long-enough-access-key' };
    expect(((await keyed(event, lambdaContext)) as Result).statusCode).toBe(201);
  });
});
