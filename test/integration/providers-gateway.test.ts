import { startLambdaFake, startSqsFake, REFUSED_KEY_PREFIX, type AwsFake } from '../support/aws-fakes';
import { errorOf, call, startTestGateway, type TestGateway } from '../support/gateway';
import { GoogleFake } from '../support/google-fake';
import { LocalKinesis, TEST_CREDENTIALS } from '../support/kinesis';

const region = 'us-east-1';

/** Function types end to end: registered through the Config API, reached through the Events API. */
describe('function types through the gateway', () => {
  let gw: TestGateway;
  let kinesis: LocalKinesis;
  let sqs: AwsFake;
  let lambda: AwsFake;
  let n = 0;
  let space: string;
  const ordersArn = `arn:aws:lambda:${region}:123456789012:function:orders`;

  beforeAll(async () => {
    [gw, kinesis, sqs, lambda] = await Promise.all([
      startTestGateway(),
      LocalKinesis.start(),
      startSqsFake(['orders']),
      startLambdaFake({
        [ordersArn]: (payload) => {
          const event = JSON.parse(payload);
          return { payload: JSON.stringify({ statusCode: 201, headers: { 'x-handled-by': 'lambda' }, body: `order ${event.data.id}` }) };
        },
      }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([gw.stop(), kinesis.close(), sqs.close(), lambda.close()]);
  });
  beforeEach(() => {
    space = `types${++n}`;
  });

  const emit = (eventType: string, data: unknown) =>
    fetch(`${gw.eventsUrl}/${space}`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({ eventType, cloudEventsVersion: '0.1', source: '/shop', eventID: `id-${space}`, data }),
    });

  async function register(functionId: string, type: string, provider: Record<string, unknown>, subscription: 'sync' | 'async', eventType = 'order.placed') {
    const base = gw.space(space);
    await call('POST', `${base}/eventtypes`, { name: eventType });
    const fn = await call('POST', `${base}/functions`, { functionId, type, provider });
    expect(fn.status).toBe(201);
    return call('POST', `${base}/subscriptions`, { type: subscription, eventType, functionId, path: `/${space}` });
  }

  async function until<T>(probe: () => T | Promise<T>, done: (value: T) => boolean): Promise<T> {
    for (let i = 0; i < 400; i++) {
      const value = await probe();
      if (done(value)) return value;
      await new Promise((r) => setTimeout(r, 25));
    }
    return probe();
  }

  it('puts an async event into a Kinesis stream (kinesalite)', async () => {
    await kinesis.createStream(`stream-${space}`);
    const sub = await register('stream', 'awskinesis', { streamName: `stream-${space}`, region, endpoint: kinesis.endpoint, ...TEST_CREDENTIALS }, 'async');
    expect(sub.status).toBe(201);
    expect((await emit('order.placed', { id: 1 })).status).toBe(202);
    const records = await until(() => kinesis.records(`stream-${space}`), (r) => r.length > 0);
    expect(records).toHaveLength(1);
    expect(JSON.parse(records[0]!.data)).toMatchObject({ eventType: 'order.placed', eventID: `id-${space}`, data: { id: 1 } });
    expect(records[0]!.partitionKey).toBe(`id-${space}`);
  });

  it('sends an async event to an SQS queue', async () => {
    const queueUrl = `${sqs.endpoint}/123456789012/orders`;
    await register('queue', 'awssqs', { queueUrl, region, endpoint: sqs.endpoint, ...TEST_CREDENTIALS }, 'async');
    expect((await emit('order.placed', { id: 2 })).status).toBe(202);
    const sent = await until(() => sqs.requests.filter((r) => r.json().MessageBody.includes(`id-${space}`)), (r) => r.length > 0);
    expect(sent).toHaveLength(1);
    expect(JSON.parse(sent[0]!.json().MessageBody)).toMatchObject({ eventType: 'order.placed', data: { id: 2 } });
    expect(sent[0]!.json().MessageAttributes['event-gateway-delivery-id'].StringValue).toEqual(expect.any(String));
  });

  it('invokes a Lambda function for an async event', async () => {
    await register('orders', 'awslambda', { arn: ordersArn, region, endpoint: lambda.endpoint, ...TEST_CREDENTIALS }, 'async');
    expect((await emit('order.placed', { id: 3 })).status).toBe(202);
    const calls = await until(() => lambda.requests.filter((r) => r.body.includes(`id-${space}`)), (r) => r.length > 0);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.headers['x-amz-invocation-type']).toBe('RequestResponse');
  });

  it('answers a sync request with the response object a Lambda function returned', async () => {
    expect((await register('orders', 'awslambda', { arn: ordersArn, region, endpoint: lambda.endpoint, ...TEST_CREDENTIALS }, 'sync')).status).toBe(201);
    const res = await emit('order.placed', { id: 42 });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-handled-by')).toBe('lambda');
    expect(await res.text()).toBe('order 42');
  });

  it('answers 500 saying the credentials were refused when AWS refuses the function keys', async () => {
    const keys = { awsAccessKeyId: `${REFUSED_KEY_PREFIX}X`, awsSecretAccessKey: 'refused-secret' };
    await register('orders', 'awslambda', { arn: ordersArn, region, endpoint: lambda.endpoint, ...keys }, 'sync');
    const res = await emit('order.placed', { id: 5 });
    expect(res.status).toBe(500);
    expect(errorOf(await res.json())).toBe('Function call failed with UnrecognizedClientException. The provided credentials are invalid. Please provide valid credentials.');
  });

  it('answers 500 with the contract message when the Lambda function is missing', async () => {
    await register('ghost', 'awslambda', { arn: `${ordersArn}-gone`, region, endpoint: lambda.endpoint, ...TEST_CREDENTIALS }, 'sync');
    const res = await emit('order.placed', { id: 6 });
    expect(res.status).toBe(500);
    expect(errorOf(await res.json())).toBe('Function call failed. Please check logs.');
  });

  it('answers a sync request through a private Google Cloud Function with a minted ID token', async () => {
    const google = await GoogleFake.start();
    try {
      await register('gcf', 'gcloudfunction', { url: google.functionUrl, serviceAccountKey: google.key }, 'sync');
      const res = await emit('order.placed', { id: 7 });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('from google');
      expect(google.functionRequests[0]?.headers.authorization).toBe(`Bearer ${google.issued[0]}`);
    } finally {
      await google.close();
    }
  });

  it.each([
    ['awssqs', { queueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q', region }],
    ['awskinesis', { streamName: 's', region }],
    ['awsfirehose', { deliveryStreamName: 'd', region }],
    ['awseventbridge', { eventBusName: 'default', region }],
  ])('refuses a sync subscription to a %s connector and says to subscribe asynchronously', async (type, provider) => {
    const res = await register('connector', type, provider, 'sync');
    expect(res.status).toBe(400);
    expect(errorOf(res.body)).toBe(
      `Subscription doesn't validate. Validation error: function type "${type}" cannot answer a sync subscription; subscribe it asynchronously.`,
    );
  });
});

describe('function type configs in the Config API', () => {
  let gw: TestGateway;
  let google: GoogleFake;
  beforeAll(async () => {
    [gw, google] = await Promise.all([startTestGateway(), GoogleFake.start()]);
  });
  afterAll(async () => {
    await Promise.all([gw.stop(), google.close()]);
  });

  it('masks a service-account key and keeps it when the masked config is sent back', async () => {
    const base = gw.space('google');
    const created = await call('POST', `${base}/functions`, { functionId: 'gcf', type: 'gcloudfunction', provider: { url: google.functionUrl, serviceAccountKey: google.key } });
    expect(created.status).toBe(201);
    expect(created.body.provider).toEqual({ url: google.functionUrl, serviceAccountKey: '*****' });
    expect(JSON.stringify((await call('GET', `${base}/functions/gcf`)).body)).not.toContain('PRIVATE KEY');
    const updated = await call('PUT', `${base}/functions/gcf`, { type: 'gcloudfunction', provider: created.body.provider });
    expect(updated.status).toBe(200);
    await call('POST', `${base}/eventtypes`, { name: 'ping' });
    await call('POST', `${base}/subscriptions`, { type: 'sync', eventType: 'ping', functionId: 'gcf', path: '/google' });
    const res = await fetch(`${gw.eventsUrl}/google`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({ eventType: 'ping', cloudEventsVersion: '0.1', source: '/t', eventID: 'p1' }),
    });
    expect(res.status).toBe(200);
  });

  it.each([
    [
      'a token and a key together',
      { url: 'https://f.example/fn', token: 't', serviceAccountKey: { client_email: 'a@b', private_key: '-----BEGIN PRIVATE KEY-----' } },
      "Key: 'GoogleCloudFunction.Token' Error:Field validation for 'Token' failed on the 'excluded_with=ServiceAccountKey' tag",
    ],
    [
      'a key without private_key',
      { url: 'https://f.example/fn', serviceAccountKey: { client_email: 'a@b' } },
      "Key: 'GoogleCloudFunction.ServiceAccountKey' Error:Field validation for 'ServiceAccountKey' failed on the 'serviceaccountkey' tag",
    ],
    [
      'a key given as a number',
      { url: 'https://f.example/fn', serviceAccountKey: 7 },
      "Key: 'GoogleCloudFunction.ServiceAccountKey' Error:Field validation for 'ServiceAccountKey' failed on the 'serviceaccountkey' tag",
    ],
  ])('refuses a gcloudfunction with %s', async (_, provider, message) => {
    const res = await call('POST', `${gw.space('google')}/functions`, { functionId: 'bad', type: 'gcloudfunction', provider });
    expect(res.status).toBe(400);
    expect(errorOf(res.body)).toBe(`Function doesn't validate. Validation error: ${message}`);
  });

  it('refuses to turn the function of a sync subscription into a connector', async () => {
    const base = gw.space('turned');
    await call('POST', `${base}/eventtypes`, { name: 'ping' });
    await call('POST', `${base}/functions`, { functionId: 'f', type: 'http', provider: { url: 'http://127.0.0.1:1/' } });
    const sub = await call('POST', `${base}/subscriptions`, { type: 'sync', eventType: 'ping', functionId: 'f', path: '/turned' });
    const res = await call('PUT', `${base}/functions/f`, { type: 'awssqs', provider: { queueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q', region } });
    expect(res.status).toBe(400);
    expect(errorOf(res.body)).toBe(
      `Function doesn't validate. Validation error: function type "awssqs" cannot answer sync subscription "${sub.body.subscriptionId}"; delete it or subscribe asynchronously.`,
    );
    expect((await call('GET', `${base}/functions/f`)).body.type).toBe('http');
  });

  it('refuses a connector as an authorizer, and turning an authorizer into a connector', async () => {
    const base = gw.space('authorizers');
    const queue = { queueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q', region };
    await call('POST', `${base}/functions`, { functionId: 'sink', type: 'awssqs', provider: queue });
    const refused = await call('POST', `${base}/eventtypes`, { name: 'guarded', authorizerId: 'sink' });
    expect(refused.status).toBe(400);
    expect(errorOf(refused.body)).toBe('Event Type doesn\'t validate. Validation error: function type "awssqs" cannot answer as an authorizer; use a function that answers.');
    await call('POST', `${base}/functions`, { functionId: 'auth', type: 'http', provider: { url: 'http://127.0.0.1:1/' } });
    expect((await call('POST', `${base}/eventtypes`, { name: 'guarded', authorizerId: 'auth' })).status).toBe(201);
    const turned = await call('PUT', `${base}/functions/auth`, { type: 'awssqs', provider: queue });
    expect(turned.status).toBe(400);
    expect(errorOf(turned.body)).toBe('Function doesn\'t validate. Validation error: function type "awssqs" cannot answer as the authorizer of event type "guarded".');
    expect((await call('GET', `${base}/functions/auth`)).body.type).toBe('http');
  });

  it('refuses a Kinesis partition key other than eventType or eventID', async () => {
    const res = await call('POST', `${gw.space('kinesis')}/functions`, { functionId: 'k', type: 'awskinesis', provider: { streamName: 's', region, partitionKey: 'source' } });
    expect(res.status).toBe(400);
    expect(errorOf(res.body)).toContain("Field validation for 'PartitionKey' failed on the 'eq=eventType|eq=eventID' tag");
  });
});
