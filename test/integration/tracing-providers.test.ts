import { eventBridgeProvider } from '../../lib/providers/awseventbridge';
import { firehoseProvider } from '../../lib/providers/awsfirehose';
import { kinesisProvider } from '../../lib/providers/awskinesis';
import { lambdaProvider } from '../../lib/providers/awslambda';
import { sqsProvider } from '../../lib/providers/awssqs';
import { defaultProviderDeps, type ProviderDeps } from '../../lib/providers/index';
import { startEventBridgeFake, startFirehoseFake, startLambdaFake, startSqsFake, type AwsFake } from '../support/aws-fakes';
import { call, startTestGateway, type TestGateway } from '../support/gateway';
import { LocalKinesis, TEST_CREDENTIALS } from '../support/kinesis';
import { eventually } from '../support/waiting';

const region = 'eu-west-1';
const aws = { region, ...TEST_CREDENTIALS };
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const event = { eventType: 'order.placed', cloudEventsVersion: '0.1', source: '/shop', eventID: 'evt-1', data: { total: 3 } };
const payload = JSON.stringify(event);
const context = { deliveryId: 'delivery-7', eventId: 'evt-1', eventType: 'order.placed', traceparent: TRACEPARENT, tracestate: 'shop=1' };

let deps: ProviderDeps;
beforeEach(() => {
  deps = defaultProviderDeps({ timeoutMs: 5000, targetNetworks: { allowLoopback: true } });
});
afterEach(() => deps.close());

describe('trace context passed to AWS targets', () => {
  it('gives a Lambda function the traceparent in its client context', async () => {
    const arn = `arn:aws:lambda:${region}:123456789012:function:orders`;
    const fake = await startLambdaFake({ [arn]: () => ({ payload: '{}' }) });
    try {
      await lambdaProvider({ ...aws, arn, endpoint: fake.endpoint }, deps.aws).invoke(payload, context);
      const clientContext = JSON.parse(Buffer.from(String(fake.requests.at(-1)?.headers['x-amz-client-context']), 'base64').toString());
      expect(clientContext.custom).toEqual({ deliveryId: 'delivery-7', eventId: 'evt-1', traceparent: TRACEPARENT, tracestate: 'shop=1' });
    } finally {
      await fake.close();
    }
  });

  it('sends an SQS message with traceparent and tracestate message attributes', async () => {
    const fake = await startSqsFake(['orders']);
    try {
      await sqsProvider({ ...aws, queueUrl: `${fake.endpoint}/123456789012/orders`, endpoint: fake.endpoint }, deps.aws).invoke(payload, context);
      const attributes = fake.requests.at(-1)?.json().MessageAttributes;
      expect(attributes.traceparent).toEqual({ DataType: 'String', StringValue: TRACEPARENT });
      expect(attributes.tracestate).toEqual({ DataType: 'String', StringValue: 'shop=1' });
    } finally {
      await fake.close();
    }
  });

  it('puts the trace context into the event sent to EventBridge and Firehose', async () => {
    const bus = await startEventBridgeFake(['orders']);
    const firehose = await startFirehoseFake(['archive']);
    try {
      await eventBridgeProvider({ ...aws, eventBusName: 'orders', endpoint: bus.endpoint }, deps.aws).invoke(payload, context);
      await firehoseProvider({ ...aws, deliveryStreamName: 'archive', endpoint: firehose.endpoint }, deps.aws).invoke(payload, context);
      const detail = JSON.parse(bus.requests.at(-1)?.json().Entries[0].Detail);
      expect(detail.extensions).toEqual({ traceparent: TRACEPARENT, tracestate: 'shop=1' });
      const record = JSON.parse(Buffer.from(firehose.requests.at(-1)?.json().Record.Data, 'base64').toString('utf8'));
      expect(record.extensions.traceparent).toBe(TRACEPARENT);
    } finally {
      await bus.close();
      await firehose.close();
    }
  });

  it('puts the trace context into the record put on a Kinesis stream', async () => {
    const kinesis = await LocalKinesis.start();
    try {
      await kinesis.createStream('events');
      await kinesisProvider({ ...aws, streamName: 'events', endpoint: kinesis.endpoint }, deps.aws).invoke(payload, context);
      const [record] = await kinesis.waitForRecords('events', 1);
      expect(JSON.parse(record?.data ?? '{}').extensions.traceparent).toBe(TRACEPARENT);
    } finally {
      await kinesis.close();
    }
  });
});

describe('trace context from the Events API to an SQS function', () => {
  let gw: TestGateway;
  let fake: AwsFake;
  beforeAll(async () => {
    gw = await startTestGateway();
    fake = await startSqsFake(['orders']);
  });
  afterAll(async () => {
    await gw.stop();
    await fake.close();
  });

  it("passes the client's traceparent from the request to the message attributes", async () => {
    const base = gw.space('sqs-trace');
    await call('POST', `${base}/eventtypes`, { name: 'order.placed' });
    await call('POST', `${base}/functions`, { functionId: 'queue', type: 'awssqs', provider: { ...aws, queueUrl: `${fake.endpoint}/123456789012/orders`, endpoint: fake.endpoint } });
    await call('POST', `${base}/subscriptions`, { type: 'async', eventType: 'order.placed', functionId: 'queue', path: '/sqs-trace' });

    const res = await fetch(`${gw.eventsUrl}/sqs-trace`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json', traceparent: TRACEPARENT }, body: payload });

    expect(res.status).toBe(202);
    const sent = await eventually(async () => fake.requests.find((r) => r.target === 'AmazonSQS.SendMessage'), 'the SendMessage call');
    expect(sent.json().MessageAttributes.traceparent.StringValue).toBe(TRACEPARENT);
  });
});
