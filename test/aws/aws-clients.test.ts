import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand, TransactionCanceledException, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { sdkClientConfig, type AwsConnection } from '../../lib/aws/sdk-config';
import { AwsClientCache } from '../../lib/providers/aws';
import { lambdaProvider } from '../../lib/providers/awslambda';
import { sqsProvider } from '../../lib/providers/awssqs';
import { AwsFake, startLambdaFake, startSqsFake, type AwsAnswer } from '../support/aws-fakes';
import { TEST_CREDENTIALS } from '../support/kinesis';
import { checkSignature } from '../support/sigv4';

const credentials = { accessKeyId: TEST_CREDENTIALS.awsAccessKeyId, secretAccessKey: TEST_CREDENTIALS.awsSecretAccessKey };
const arn = 'arn:aws:lambda:eu-west-1:123456789012:function:echo:live';
const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/** A fake answering from a script, one answer per request; the last one repeats. */
async function scripted(answers: AwsAnswer[]): Promise<AwsFake> {
  let n = 0;
  const next = () => answers[Math.min(n++, answers.length - 1)] as AwsAnswer;
  return AwsFake.start(next, next);
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): AwsAnswer => ({
  status,
  body: JSON.stringify(body),
  headers: { 'content-type': 'application/x-amz-json-1.0', ...headers },
});

/** The connection of a client as the gateway configures them, pointed at a loopback stand-in. */
const at = (endpoint: string, extra: AwsConnection = {}) => sdkClientConfig({ region: 'us-east-1', endpoint, credentials, ...extra });
const getItem = () => new GetItemCommand({ TableName: 't', Key: { pk: { S: 'k' } } });
const ITEM = { Item: { pk: { S: 'k' } } };

describe('the AWS SDK clients as the gateway configures them', () => {
  it('sign Lambda Invoke as AWS would accept it: a qualified ARN in the path, a session token, the body sent', async () => {
    const fake = await startLambdaFake({ [arn]: (payload) => ({ payload }) });
    const clients = new AwsClientCache({ timeoutMs: 5000, maxAttempts: 1 });
    try {
      const provider = lambdaProvider({ arn, region: 'eu-west-1', endpoint: fake.endpoint, ...TEST_CREDENTIALS, awsSessionToken: 'session-token' }, clients);
      const out = await provider.invoke('{"héllo":"wörld"}', { deliveryId: 'd1', eventId: 'e1' });
      expect(out.toString('utf8')).toBe('{"héllo":"wörld"}');
      expect(fake.requests.map((r) => r.signature)).toEqual(['valid']);
      expect(fake.requests[0]?.path).toBe(`/2015-03-31/functions/${encodeURIComponent(arn)}/invocations`);
      expect(fake.requests[0]?.headers['x-amz-security-token']).toBe('session-token');
      expect(fake.requests[0]?.headers['x-amz-invocation-type']).toBe('RequestResponse');
      expect(fake.requests[0]?.headers.authorization).toContain('/eu-west-1/lambda/aws4_request');
      const context = JSON.parse(Buffer.from(String(fake.requests[0]?.headers['x-amz-client-context']), 'base64').toString('utf8'));
      expect(context).toEqual({ custom: { deliveryId: 'd1', eventId: 'e1' } });
    } finally {
      clients.destroy();
      await fake.close();
    }
  });

  it('are checked by a signature check that refuses a changed body', async () => {
    const fake = await startSqsFake(['events']);
    const clients = new AwsClientCache({ timeoutMs: 5000, maxAttempts: 1 });
    try {
      const provider = sqsProvider({ region: 'us-east-1', ...TEST_CREDENTIALS, queueUrl: `${fake.endpoint}/123456789012/events`, endpoint: fake.endpoint }, clients);
      await provider.invoke('{"n":1}');
      const sent = fake.requests[0];
      expect(sent?.signature).toBe('valid');
      expect(await checkSignature({ ...sent!, body: sent!.body.replace('"n', '"m') })).toBe('invalid');
    } finally {
      clients.destroy();
      await fake.close();
    }
  });

  it('retry throttling and 5xx answers, then succeed', async () => {
    const fake = await scripted([
      json(400, { __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'slow down' }),
      json(503, { message: 'unavailable' }),
      json(200, ITEM),
    ]);
    const client = new DynamoDBClient(at(fake.endpoint));
    try {
      expect((await client.send(getItem())).Item).toEqual(ITEM.Item);
      expect(fake.requests).toHaveLength(3);
      expect(fake.requests[0]?.target).toBe('DynamoDB_20120810.GetItem');
    } finally {
      client.destroy();
      await fake.close();
    }
  });

  it('do not retry a client error, and name it as AWS does, its fields included', async () => {
    const fake = await scripted([json(400, { __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException', message: 'cancelled', CancellationReasons: [{ Code: 'ConditionalCheckFailed' }] })]);
    const client = new DynamoDBClient(at(fake.endpoint));
    try {
      const err = await client.send(new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: 't', Item: ITEM.Item } }] })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransactionCanceledException);
      expect(err).toMatchObject({ name: 'TransactionCanceledException', message: 'cancelled', $metadata: { httpStatusCode: 400 }, CancellationReasons: [{ Code: 'ConditionalCheckFailed' }] });
      expect(fake.requests).toHaveLength(1);
      // The SDK's idempotency token: a retried transaction is not applied twice.
      expect(fake.requests[0]?.json().ClientRequestToken).toEqual(expect.any(String));
    } finally {
      client.destroy();
      await fake.close();
    }
  });

  it('take the error type from x-amzn-errortype, and cope with a body that is not JSON', async () => {
    const fake = await scripted([
      { status: 404, body: '{"Type":"User","Message":"Function not found"}', headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.lambda/' } },
      { status: 502, body: '<html>bad gateway</html>' },
    ]);
    const client = new LambdaClient(at(fake.endpoint, { maxAttempts: 1 }));
    try {
      const invoke = () => client.send(new InvokeCommand({ FunctionName: 'f' }));
      await expect(invoke()).rejects.toMatchObject({ name: 'ResourceNotFoundException', message: 'Function not found', $metadata: { httpStatusCode: 404 } });
      await expect(invoke()).rejects.toMatchObject({ $metadata: { httpStatusCode: 502 } });
    } finally {
      client.destroy();
      await fake.close();
    }
  });

  it("stop at the caller's deadline instead of retrying", async () => {
    const fake = await scripted([json(500, { message: 'boom' })]);
    const client = new SQSClient(at(fake.endpoint, { maxAttempts: 50 }));
    try {
      const controller = new AbortController();
      const call = client.send(new SendMessageCommand({ QueueUrl: `${fake.endpoint}/1/q`, MessageBody: 'x' }), { abortSignal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await expect(call).rejects.toBeDefined();
      expect(fake.requests.length).toBeLessThan(50);
    } finally {
      client.destroy();
      await fake.close();
    }
  });

  it("retry what the SDK classes as throttling (SQS's RequestThrottled, a 400) and answer", async () => {
    const fake = await scripted([json(400, { __type: 'com.amazonaws.sqs#RequestThrottled', message: 'slow down' }), json(200, { MessageId: 'm', MD5OfMessageBody: md5('x') })]);
    const client = new SQSClient(at(fake.endpoint));
    try {
      expect((await client.send(new SendMessageCommand({ QueueUrl: `${fake.endpoint}/1/q`, MessageBody: 'x' }))).MessageId).toBe('m');
      expect(fake.requests).toHaveLength(2);
    } finally {
      client.destroy();
      await fake.close();
    }
  });

  it("sign with AWS's time once a refusal shows our clock is off, and the call then goes through", async () => {
    // AWS's clock an hour ahead of ours.
    const awsAhead = 60 * 60 * 1000;
    const fake = await AwsFake.start(
      (req) => {
        const signedAt = Date.parse(String(req.headers['x-amz-date']).replace(/(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/, '$1-$2-$3T$4:$5:$6Z'));
        const awsTime = Date.now() + awsAhead;
        const skewed = Math.abs(signedAt - awsTime) > 5 * 60 * 1000;
        return skewed ? json(400, { __type: 'InvalidSignatureException', message: 'Signature expired' }, { date: new Date(awsTime).toUTCString() }) : json(200, ITEM, { date: new Date(awsTime).toUTCString() });
      },
      () => json(403, {}),
    );
    const client = new DynamoDBClient(at(fake.endpoint, { maxAttempts: 2 }));
    try {
      expect((await client.send(getItem())).Item).toEqual(ITEM.Item);
      expect(fake.requests).toHaveLength(2);
      // The next call is signed with AWS's time from the start.
      await client.send(getItem());
      expect(fake.requests).toHaveLength(3);
    } finally {
      client.destroy();
      await fake.close();
    }
  });

  it('give up on a connection that stays silent instead of hanging', async () => {
    const silent = createServer(() => {
      // Accepts the request and never answers.
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const client = new DynamoDBClient(at(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`, { requestTimeoutMs: 200, maxAttempts: 1 }));
    try {
      await expect(client.send(getItem())).rejects.toMatchObject({ name: 'TimeoutError' });
    } finally {
      client.destroy();
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
