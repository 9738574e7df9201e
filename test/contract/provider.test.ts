import { eventBridgeProvider } from '../../lib/providers/awseventbridge';
import { firehoseProvider } from '../../lib/providers/awsfirehose';
import { kinesisProvider } from '../../lib/providers/awskinesis';
import { lambdaProvider } from '../../lib/providers/awslambda';
import { sqsProvider } from '../../lib/providers/awssqs';
import { azureFunctionProvider } from '../../lib/providers/azurefunction';
import { googleCloudFunctionProvider } from '../../lib/providers/gcloudfunction';
import { httpProvider } from '../../lib/providers/http';
import { nodeProviderDeps, type ProviderDeps } from '../../lib/providers/factories';
import { openWhiskProvider } from '../../lib/providers/openwhisk';
import type { Provider } from '../../lib/providers/provider';
import { startEventBridgeFake, startFirehoseFake, startLambdaFake, startSqsFake, type AwsFake } from '../support/aws-fakes';
import { GoogleFake } from '../support/google-fake';
import { LocalKinesis, TEST_CREDENTIALS } from '../support/kinesis';
import { TestTarget } from '../support/target';
import { providerContract, type DepsMaker, type ProviderHarness } from './provider.contract';

const region = 'us-east-1';
const aws = { region, ...TEST_CREDENTIALS };
const parsedBodies = (target: TestTarget, path: string) => target.received.filter((r) => r.url === path).map((r) => r.json());

/** What differs between the harnesses whose stand-in is an AWS fake. */
interface AwsHarnessParts {
  refusal: ProviderHarness['refusal'];
  working(fake: AwsFake, deps: ProviderDeps): Provider;
  refusing(fake: AwsFake, deps: ProviderDeps): Provider;
  aimedAt: ProviderHarness['aimedAt'];
  received(fake: AwsFake): unknown[];
}

/** Shared plumbing of the harnesses whose stand-in is an AWS fake. */
function awsHarness(name: string, start: () => Promise<AwsFake>, parts: AwsHarnessParts): ProviderHarness {
  let fake: AwsFake;
  return {
    name,
    secret: TEST_CREDENTIALS.awsSecretAccessKey,
    refusal: parts.refusal,
    start: async () => {
      fake = await start();
    },
    stop: () => fake.close(),
    working: (deps) => parts.working(fake, deps),
    refusing: (deps) => parts.refusing(fake, deps),
    aimedAt: parts.aimedAt,
    received: async () => parts.received(fake),
  };
}

const lambdaArn = (name: string) => `arn:aws:lambda:${region}:123456789012:function:${name}`;

providerContract(
  awsHarness(
    'awslambda',
    () =>
      startLambdaFake({
        [lambdaArn('echo')]: () => ({ payload: '{"statusCode":200}' }),
        [lambdaArn('crash')]: () => ({ payload: '{"errorType":"Error","errorMessage":"boom"}', functionError: 'Unhandled' }),
      }),
    {
      refusal: 'function-error',
      working: (fake, deps) => lambdaProvider({ ...aws, arn: lambdaArn('echo'), endpoint: fake.endpoint }, deps.aws),
      refusing: (fake, deps) => lambdaProvider({ ...aws, arn: lambdaArn('crash'), endpoint: fake.endpoint }, deps.aws),
      aimedAt: (url, deps) => lambdaProvider({ ...aws, arn: lambdaArn('echo'), endpoint: url }, deps.aws),
      received: (fake) => fake.requests.filter((r) => r.path.includes(encodeURIComponent(lambdaArn('echo')))).map((r) => r.json()),
    },
  ),
);

providerContract(
  awsHarness('awssqs', () => startSqsFake(['events']), {
    refusal: 'status',
    working: (fake, deps) => sqsProvider({ ...aws, queueUrl: `${fake.endpoint}/123456789012/events`, endpoint: fake.endpoint }, deps.aws),
    refusing: (fake, deps) => sqsProvider({ ...aws, queueUrl: `${fake.endpoint}/123456789012/missing`, endpoint: fake.endpoint }, deps.aws),
    aimedAt: (url, deps) => sqsProvider({ ...aws, queueUrl: `${url}/123456789012/events`, endpoint: url }, deps.aws),
    received: (fake) => fake.requests.filter((r) => r.json().QueueUrl.endsWith('/events')).map((r) => JSON.parse(r.json().MessageBody)),
  }),
);

providerContract(
  awsHarness('awsfirehose', () => startFirehoseFake(['events']), {
    refusal: 'status',
    working: (fake, deps) => firehoseProvider({ ...aws, deliveryStreamName: 'events', endpoint: fake.endpoint }, deps.aws),
    refusing: (fake, deps) => firehoseProvider({ ...aws, deliveryStreamName: 'missing', endpoint: fake.endpoint }, deps.aws),
    aimedAt: (url, deps) => firehoseProvider({ ...aws, deliveryStreamName: 'events', endpoint: url }, deps.aws),
    received: (fake) =>
      fake.requests
        .filter((r) => r.json().DeliveryStreamName === 'events')
        .flatMap((r) => Buffer.from(r.json().Record.Data, 'base64').toString('utf8').split('\n').filter(Boolean))
        .map((line) => JSON.parse(line)),
  }),
);

providerContract(
  awsHarness('awseventbridge', () => startEventBridgeFake(['events']), {
    refusal: 'status',
    working: (fake, deps) => eventBridgeProvider({ ...aws, eventBusName: 'events', endpoint: fake.endpoint }, deps.aws),
    refusing: (fake, deps) => eventBridgeProvider({ ...aws, eventBusName: 'missing', endpoint: fake.endpoint }, deps.aws),
    aimedAt: (url, deps) => eventBridgeProvider({ ...aws, eventBusName: 'events', endpoint: url }, deps.aws),
    received: (fake) => fake.requests.flatMap((r) => r.json().Entries).filter((e: any) => e.EventBusName === 'events').map((e: any) => JSON.parse(e.Detail)),
  }),
);

providerContract(
  (() => {
    let kinesis: LocalKinesis;
    return {
      name: 'awskinesis (kinesalite)',
      secret: TEST_CREDENTIALS.awsSecretAccessKey,
      refusal: 'status',
      start: async () => {
        kinesis = await LocalKinesis.start();
        await kinesis.createStream('events');
      },
      stop: () => kinesis.close(),
      working: (deps) => kinesisProvider({ ...aws, streamName: 'events', endpoint: kinesis.endpoint }, deps.aws),
      refusing: (deps) => kinesisProvider({ ...aws, streamName: 'missing', endpoint: kinesis.endpoint }, deps.aws),
      aimedAt: (url, deps) => kinesisProvider({ ...aws, streamName: 'events', endpoint: url }, deps.aws),
      received: async () => (await kinesis.records('events')).map((r) => JSON.parse(r.data)),
    } satisfies ProviderHarness;
  })(),
);

/** The http provider against a loopback target. */
function httpHarness(): ProviderHarness {
  let target: TestTarget;
  return {
    name: 'http',
    secret: 'no secret in an http function',
    refusal: 'status',
    start: async () => {
      target = await TestTarget.start();
      target.behaviour = (req) => (req.url === '/refuse' ? { status: 500, body: 'boom' } : { status: 200, body: '{}' });
    },
    stop: () => target.close(),
    working: (deps) => httpProvider({ url: `${target.url}take` }, deps.http),
    refusing: (deps) => httpProvider({ url: `${target.url}refuse` }, deps.http),
    aimedAt: (url, deps) => httpProvider({ url }, deps.http),
    received: async () => parsedBodies(target, '/take'),
  } satisfies ProviderHarness;
}

/** The gcloudfunction provider against a loopback Google (token endpoint and function). */
function googleHarness(): ProviderHarness {
  let google: GoogleFake;
  return {
    name: 'gcloudfunction (service-account key)',
    secret: 'PRIVATE KEY',
    refusal: 'credentials',
    start: async () => {
      google = await GoogleFake.start();
    },
    stop: () => google.close(),
    working: (deps) => googleCloudFunctionProvider({ url: google.functionUrl, serviceAccountKey: google.key }, deps.http),
    // A key the token endpoint does not know: Google answers invalid_grant.
    refusing: (deps) => googleCloudFunctionProvider({ url: google.functionUrl, serviceAccountKey: { ...google.key, client_email: 'stranger@elsewhere.iam.gserviceaccount.com' } }, deps.http),
    aimedAt: (url, deps) => googleCloudFunctionProvider({ url: `${url}/function`, token: 'static-token' }, deps.http),
    received: async () => google.functionRequests.filter((r) => r.headers.authorization?.startsWith('Bearer id-token')).map((r) => r.json()),
  } satisfies ProviderHarness;
}

/** The azurefunction provider against a loopback target checking the function key. */
function azureHarness(): ProviderHarness {
  let target: TestTarget;
  const functionKey = 'azure-function-key-secret';
  return {
    name: 'azurefunction',
    secret: 'wrong-azure-key-secret',
    refusal: 'status',
    start: async () => {
      target = await TestTarget.start();
      // Azure answers 401 with an empty body when the key is wrong.
      target.behaviour = (req) => (req.headers['x-functions-key'] === functionKey ? { status: 200, body: '{}' } : { status: 401, body: '' });
    },
    stop: () => target.close(),
    working: (deps) => azureFunctionProvider({ url: `${target.url}api/events`, functionKey }, deps.http),
    refusing: (deps) => azureFunctionProvider({ url: `${target.url}api/events`, functionKey: 'wrong-azure-key-secret' }, deps.http),
    aimedAt: (url, deps) => azureFunctionProvider({ url: `${url}/api/events`, functionKey }, deps.http),
    received: async () => target.received.filter((r) => r.headers['x-functions-key'] === functionKey).map((r) => r.json()),
  } satisfies ProviderHarness;
}

/** The openwhisk provider against a loopback target speaking its blocking-invocation API. */
function openWhiskHarness(): ProviderHarness {
  let target: TestTarget;
  const auth = 'guest-uuid:openwhisk-secret-pass';
  const actionPath = (action: string) => `/api/v1/namespaces/guest/actions/events/${action}?blocking=true&result=true`;
  return {
    name: 'openwhisk',
    secret: 'openwhisk-secret-pass',
    refusal: 'status',
    start: async () => {
      target = await TestTarget.start();
      target.behaviour = (req) => {
        if (req.headers.authorization !== `Basic ${Buffer.from(auth).toString('base64')}`) return { status: 401, body: '{"error":"The supplied authentication is invalid"}' };
        if (req.url === actionPath('handle')) return { status: 200, body: '{"ok":true}' };
        // A blocking invocation whose action failed: OpenWhisk answers 502 with the action's error.
        if (req.url === actionPath('failing')) return { status: 502, body: '{"error":"An error has occurred: boom"}' };
        return { status: 404, body: '{"error":"The requested resource does not exist."}' };
      };
    },
    stop: () => target.close(),
    working: (deps) => openWhiskProvider({ apiHost: target.url, namespace: 'guest', action: 'events/handle', auth }, deps.http),
    refusing: (deps) => openWhiskProvider({ apiHost: target.url, namespace: 'guest', action: 'events/failing', auth }, deps.http),
    aimedAt: (url, deps) => openWhiskProvider({ apiHost: url, namespace: 'guest', action: 'events/handle', auth }, deps.http),
    received: async () => parsedBodies(target, actionPath('handle')),
  } satisfies ProviderHarness;
}

const nodeDeps: DepsMaker = { name: 'node:http', make: nodeProviderDeps };

// The HTTP-based providers run through undici on the local server and through node:http on Lambda: both must keep the contract.
for (const harness of [httpHarness, googleHarness, azureHarness, openWhiskHarness]) {
  providerContract(harness());
  providerContract(harness(), nodeDeps);
}
