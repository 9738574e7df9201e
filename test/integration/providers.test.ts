import { awsTargetError, AwsClientCache } from '../../lib/providers/aws';
import { DEFAULT_EVENTBRIDGE_SOURCE, eventBridgeProvider } from '../../lib/providers/awseventbridge';
import { firehoseProvider } from '../../lib/providers/awsfirehose';
import { kinesisProvider } from '../../lib/providers/awskinesis';
import { lambdaProvider } from '../../lib/providers/awslambda';
import { sqsProvider } from '../../lib/providers/awssqs';
import { azureFunctionProvider } from '../../lib/providers/azurefunction';
import { googleCloudFunctionProvider } from '../../lib/providers/gcloudfunction';
import { defaultProviderDeps, type ProviderDeps } from '../../lib/providers/index';
import { actionUrl, openWhiskProvider } from '../../lib/providers/openwhisk';
import { REFUSED_KEY_PREFIX, startEventBridgeFake, startFirehoseFake, startLambdaFake, startSqsFake, type AwsFake } from '../support/aws-fakes';
import { GoogleFake } from '../support/google-fake';
import { LocalKinesis, TEST_CREDENTIALS } from '../support/kinesis';
import { TestTarget } from '../support/target';
import { failureOf } from '../support/waiting';

const region = 'eu-west-1';
const aws = { region, ...TEST_CREDENTIALS };
const refusedKeys = { awsAccessKeyId: `${REFUSED_KEY_PREFIX}1`, awsSecretAccessKey: 'refused-secret-value' };
const event = { eventType: 'order.placed', cloudEventsVersion: '0.1', source: '/shop', eventID: 'evt-1', data: { total: 3 } };
const payload = JSON.stringify(event);
const context = { deliveryId: 'delivery-7', eventId: 'evt-1', eventType: 'order.placed' };

let deps: ProviderDeps;
beforeEach(() => {
  deps = defaultProviderDeps({ timeoutMs: 5000, targetNetworks: { allowLoopback: true } });
});
afterEach(() => deps.close());

describe('awslambda', () => {
  let fake: AwsFake;
  const arn = `arn:aws:lambda:${region}:123456789012:function:orders`;
  beforeAll(async () => {
    fake = await startLambdaFake({ [arn]: () => ({ payload: '{"statusCode":201,"body":"made"}' }) });
  });
  afterAll(() => fake.close());

  it('invokes RequestResponse on the function ARN, signed with the function keys, and returns its answer', async () => {
    const answer = await lambdaProvider({ ...aws, arn, endpoint: fake.endpoint }, deps.aws).invoke(payload, context);
    expect(JSON.parse(answer.toString())).toEqual({ statusCode: 201, body: 'made' });
    const sent = fake.requests.at(-1)!;
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe(`/2015-03-31/functions/${encodeURIComponent(arn)}/invocations`);
    expect(sent.headers['x-amz-invocation-type']).toBe('RequestResponse');
    expect(sent.json()).toEqual(event);
    expect(sent.accessKeyId).toBe(TEST_CREDENTIALS.awsAccessKeyId);
    expect(sent.headers.authorization).toContain(`/${region}/lambda/aws4_request`);
    const clientContext = JSON.parse(Buffer.from(String(sent.headers['x-amz-client-context']), 'base64').toString());
    expect(clientContext).toEqual({ custom: { deliveryId: 'delivery-7', eventId: 'evt-1' } });
  });

  it('reports refused credentials as a credentials failure that is not retried and names no secret', async () => {
    const err = await failureOf(lambdaProvider({ region, ...refusedKeys, arn, endpoint: fake.endpoint }, deps.aws).invoke(payload));
    expect(err.reason).toBe('credentials');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('UnrecognizedClientException');
    expect(err.message).not.toContain(refusedKeys.awsSecretAccessKey);
  });

  it('reports a missing function as a 404 that is not retried', async () => {
    const err = await failureOf(lambdaProvider({ ...aws, arn: `${arn}-gone`, endpoint: fake.endpoint }, deps.aws).invoke(payload));
    expect(err).toMatchObject({ reason: 'status', statusCode: 404 });
    expect(err.message).toContain('ResourceNotFoundException');
    expect(err.retryable).toBe(false);
  });

  it('carries the error type and message of a failed function', async () => {
    const crashing = await startLambdaFake({ crash: () => ({ payload: '{"errorType":"TypeError","errorMessage":"x is undefined"}', functionError: 'Unhandled' }) });
    try {
      const err = await failureOf(lambdaProvider({ ...aws, arn: 'crash', endpoint: crashing.endpoint }, deps.aws).invoke(payload));
      expect(err.reason).toBe('function-error');
      expect(err.message).toContain('(Unhandled): TypeError: x is undefined');
    } finally {
      await crashing.close();
    }
  });

  it('uses the default credential chain when the function has no keys', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = 'AKIDFROMENVIRONMENT';
    process.env.AWS_SECRET_ACCESS_KEY = 'environment-secret';
    try {
      await lambdaProvider({ region, arn, endpoint: fake.endpoint }, deps.aws).invoke(payload);
      expect(fake.requests.at(-1)?.accessKeyId).toBe('AKIDFROMENVIRONMENT');
    } finally {
      for (const [name, value] of [['AWS_ACCESS_KEY_ID', saved.id], ['AWS_SECRET_ACCESS_KEY', saved.secret]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});

describe('AWS client cache', () => {
  it('shares one client per service, region, credentials and endpoint', () => {
    const clients = new AwsClientCache({ timeoutMs: 1000, maxAttempts: 1 });
    const endpoint = 'http://127.0.0.1:1';
    lambdaProvider({ ...aws, arn: 'a', endpoint }, clients);
    lambdaProvider({ ...aws, arn: 'b', endpoint }, clients);
    expect(clients.size).toBe(1);
    lambdaProvider({ ...aws, awsAccessKeyId: 'AKIDOTHER', arn: 'a', endpoint }, clients);
    lambdaProvider({ ...aws, region: 'us-west-2', arn: 'a', endpoint }, clients);
    sqsProvider({ ...aws, queueUrl: `${endpoint}/1/q`, endpoint }, clients);
    expect(clients.size).toBe(4);
  });
});

describe('AWS error mapping', () => {
  it.each([
    [{ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }, 'status', true],
    [{ name: 'ProvisionedThroughputExceededException', $metadata: { httpStatusCode: 400 } }, 'status', true],
    // What the SDK classes as throttling or transient, whatever the service calls it.
    [{ name: 'RequestThrottled', $metadata: { httpStatusCode: 400 } }, 'status', true],
    [{ name: 'SomeServiceError', $metadata: { httpStatusCode: 400 }, $retryable: { throttling: true } }, 'status', true],
    [{ name: 'SomeServiceError', $metadata: { httpStatusCode: 400 }, $retryable: {} }, 'status', true],
    [{ name: 'AnyError', $metadata: { httpStatusCode: 429 } }, 'status', true],
    [{ name: 'ExpiredTokenException', $metadata: { httpStatusCode: 400 } }, 'credentials', false],
    [{ name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } }, 'credentials', false],
    [{ name: 'CredentialsProviderError', message: 'Could not load credentials from any providers' }, 'credentials', false],
    [{ name: 'ServiceException', $metadata: { httpStatusCode: 500 } }, 'status', true],
    [{ name: 'InvalidParameterValueException', $metadata: { httpStatusCode: 400 } }, 'status', false],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'unreachable', true],
    [{ name: 'AbortError', message: 'Request aborted' }, 'timeout', true],
  ])('maps %j to %s (retryable: %s)', (sdkError, reason, retryable) => {
    const err = awsTargetError(sdkError, 'the target');
    expect(err.reason).toBe(reason);
    expect(err.retryable).toBe(retryable);
  });
});

describe('awssqs', () => {
  let fake: AwsFake;
  beforeAll(async () => {
    fake = await startSqsFake(['orders']);
  });
  afterAll(() => fake.close());

  it('sends SendMessage over the JSON protocol with the event as body and the delivery IDs as attributes', async () => {
    const queueUrl = `${fake.endpoint}/123456789012/orders`;
    const answer = await sqsProvider({ ...aws, queueUrl, endpoint: fake.endpoint }, deps.aws).invoke(payload, context);
    expect(JSON.parse(answer.toString()).messageId).toEqual(expect.any(String));
    const sent = fake.requests.at(-1)!;
    expect(sent.target).toBe('AmazonSQS.SendMessage');
    expect(sent.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(sent.json()).toEqual({
      QueueUrl: queueUrl,
      MessageBody: payload,
      MessageAttributes: {
        'event-gateway-delivery-id': { DataType: 'String', StringValue: 'delivery-7' },
        'event-gateway-event-id': { DataType: 'String', StringValue: 'evt-1' },
      },
    });
  });

  it('reports refused credentials as a credentials failure', async () => {
    const queueUrl = `${fake.endpoint}/123456789012/orders`;
    const err = await failureOf(sqsProvider({ region, ...refusedKeys, queueUrl, endpoint: fake.endpoint }, deps.aws).invoke(payload));
    expect(err.reason).toBe('credentials');
    expect(err.message).toContain('UnrecognizedClientException');
  });

  it('reports a missing queue as a failure that is not retried', async () => {
    const err = await failureOf(sqsProvider({ ...aws, queueUrl: `${fake.endpoint}/123456789012/gone`, endpoint: fake.endpoint }, deps.aws).invoke(payload));
    expect(err).toMatchObject({ reason: 'status', statusCode: 400 });
    expect(err.message).toContain('QueueDoesNotExist');
    expect(err.retryable).toBe(false);
  });
});

describe('awskinesis (kinesalite)', () => {
  let kinesis: LocalKinesis;
  beforeAll(async () => {
    kinesis = await LocalKinesis.start();
    await kinesis.createStream('by-id');
    await kinesis.createStream('by-type');
  });
  afterAll(() => kinesis.close());

  it('keys records by event ID by default', async () => {
    const answer = await kinesisProvider({ ...aws, streamName: 'by-id', endpoint: kinesis.endpoint }, deps.aws).invoke(payload, context);
    expect(JSON.parse(answer.toString())).toEqual({ shardId: 'shardId-000000000000', sequenceNumber: expect.any(String) });
    expect(await kinesis.records('by-id')).toEqual([{ data: payload, partitionKey: 'evt-1' }]);
  });

  it('keys records by event type when configured, reading it from the event when the context lacks it', async () => {
    await kinesisProvider({ ...aws, streamName: 'by-type', partitionKey: 'eventType', endpoint: kinesis.endpoint }, deps.aws).invoke(payload);
    expect(await kinesis.records('by-type')).toEqual([{ data: payload, partitionKey: 'order.placed' }]);
  });
});

describe('awsfirehose', () => {
  it('puts the event as one newline-terminated record', async () => {
    const fake = await startFirehoseFake(['archive']);
    try {
      await firehoseProvider({ ...aws, deliveryStreamName: 'archive', endpoint: fake.endpoint }, deps.aws).invoke(payload, context);
      const sent = fake.requests.at(-1)!;
      expect(sent.target).toBe('Firehose_20150804.PutRecord');
      expect(sent.headers['content-type']).toBe('application/x-amz-json-1.1');
      expect(sent.json().DeliveryStreamName).toBe('archive');
      expect(Buffer.from(sent.json().Record.Data, 'base64').toString()).toBe(`${payload}\n`);
    } finally {
      await fake.close();
    }
  });
});

describe('awseventbridge', () => {
  it('puts one entry whose Detail is the event, with default source and the event type as DetailType', async () => {
    const fake = await startEventBridgeFake(['shop']);
    try {
      const answer = await eventBridgeProvider({ ...aws, eventBusName: 'shop', endpoint: fake.endpoint }, deps.aws).invoke(payload, context);
      expect(JSON.parse(answer.toString()).eventId).toEqual(expect.any(String));
      const sent = fake.requests.at(-1)!;
      expect(sent.target).toBe('AWSEvents.PutEvents');
      expect(sent.json()).toEqual({ Entries: [{ EventBusName: 'shop', Source: DEFAULT_EVENTBRIDGE_SOURCE, DetailType: 'order.placed', Detail: payload }] });
    } finally {
      await fake.close();
    }
  });

  it('uses the configured source and detail type', async () => {
    const fake = await startEventBridgeFake(['shop']);
    try {
      await eventBridgeProvider({ ...aws, eventBusName: 'shop', source: 'com.example.shop', detailType: 'Shop Event', endpoint: fake.endpoint }, deps.aws).invoke(payload, context);
      expect(fake.requests.at(-1)?.json().Entries[0]).toMatchObject({ Source: 'com.example.shop', DetailType: 'Shop Event' });
    } finally {
      await fake.close();
    }
  });

  it('fails on a throttled entry with a retryable error, although PutEvents answered 200', async () => {
    const fake = await startEventBridgeFake(['shop'], () => ({ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }));
    try {
      const err = await failureOf(eventBridgeProvider({ ...aws, eventBusName: 'shop', endpoint: fake.endpoint }, deps.aws).invoke(payload, context));
      expect(err).toMatchObject({ reason: 'status', statusCode: 429 });
      expect(err.retryable).toBe(true);
      expect(err.message).toContain('ThrottlingException: Rate exceeded');
    } finally {
      await fake.close();
    }
  });
});

describe('HTTP-triggered functions', () => {
  let target: TestTarget;
  beforeEach(async () => {
    target = await TestTarget.start();
  });
  afterEach(() => target.close());

  it('gcloudfunction sends a static token as a bearer', async () => {
    await googleCloudFunctionProvider({ url: `${target.url}fn`, token: 'static-id-token' }, deps.http).invoke(payload, context);
    expect(target.received[0]).toMatchObject({ method: 'POST', url: '/fn' });
    expect(target.received[0]?.headers.authorization).toBe('Bearer static-id-token');
    expect(target.received[0]?.headers['event-gateway-delivery-id']).toBe('delivery-7');
  });

  it('gcloudfunction without token or key calls a public function without Authorization', async () => {
    await googleCloudFunctionProvider({ url: `${target.url}fn` }, deps.http).invoke(payload);
    expect(target.received[0]?.headers.authorization).toBeUndefined();
  });

  it('azurefunction sends its key as x-functions-key, and no header without one', async () => {
    await azureFunctionProvider({ url: `${target.url}api/orders?code=abc`, functionKey: 'azure-key' }, deps.http).invoke(payload);
    await azureFunctionProvider({ url: `${target.url}api/orders` }, deps.http).invoke(payload);
    expect(target.received.map((r) => [r.url, r.headers['x-functions-key']])).toEqual([
      ['/api/orders?code=abc', 'azure-key'],
      ['/api/orders', undefined],
    ]);
  });

  it('openwhisk invokes the action blocking for its result, with basic auth and JSON parameters', async () => {
    target.respondWith({ statusCode: 200, body: 'ran' });
    const answer = await openWhiskProvider({ apiHost: target.url, namespace: '_', action: 'shop/place order', auth: 'user:pass' }, deps.http).invoke(payload);
    expect(JSON.parse(answer.toString())).toEqual({ statusCode: 200, body: 'ran' });
    const sent = target.received[0]!;
    expect(sent.url).toBe('/api/v1/namespaces/_/actions/shop/place%20order?blocking=true&result=true');
    expect(sent.headers.authorization).toBe(`Basic ${Buffer.from('user:pass').toString('base64')}`);
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.json()).toEqual(event);
  });

  it('openwhisk builds the URL from an apiHost with or without a trailing slash', () => {
    const config = { namespace: 'ns', action: 'act' };
    expect(actionUrl({ ...config, apiHost: 'https://ow.example.com/' })).toBe('https://ow.example.com/api/v1/namespaces/ns/actions/act?blocking=true&result=true');
    expect(actionUrl({ ...config, apiHost: 'https://ow.example.com' })).toBe('https://ow.example.com/api/v1/namespaces/ns/actions/act?blocking=true&result=true');
  });
});

describe('gcloudfunction with a service-account key', () => {
  let google: GoogleFake;
  beforeEach(async () => {
    google = await GoogleFake.start();
  });
  afterEach(() => google.close());

  it('mints one ID token for the function URL and reuses it across calls', async () => {
    const provider = googleCloudFunctionProvider({ url: `${google.functionUrl}?ignored=1`, serviceAccountKey: google.key }, deps.http);
    await Promise.all([provider.invoke(payload), provider.invoke(payload)]);
    await provider.invoke(payload);
    expect(google.issued).toHaveLength(1);
    expect(google.assertions[0]).toMatchObject({ iss: google.key.client_email, aud: google.key.token_uri, target_audience: google.functionUrl });
    expect(google.functionRequests.map((r) => r.headers.authorization)).toEqual(Array(3).fill(`Bearer ${google.issued[0]}`));
  });

  it('uses a configured audience', async () => {
    const provider = googleCloudFunctionProvider({ url: google.functionUrl, serviceAccountKey: google.key, audience: 'https://run.example/app' }, deps.http);
    await provider.invoke(payload);
    expect(google.assertions[0]?.target_audience).toBe('https://run.example/app');
  });

  it('reports a key that cannot sign as a credentials failure without the key', async () => {
    const broken = { ...google.key, private_key: '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n' };
    const err = await failureOf(googleCloudFunctionProvider({ url: google.functionUrl, serviceAccountKey: broken }, deps.http).invoke(payload));
    expect(err.reason).toBe('credentials');
    expect(err.message).not.toContain('PRIVATE KEY');
  });
});
