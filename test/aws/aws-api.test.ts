import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsApi, AwsServiceError, regionalEndpoint } from '../../lib/aws-api/client';
import { AwsClientCache } from '../../lib/providers/aws';
import { sqsProvider } from '../../lib/providers/awssqs';
import { AwsFake, startLambdaFake, startSqsFake, type AwsAnswer } from '../support/aws-fakes';
import { TEST_CREDENTIALS } from '../support/kinesis';
import { checkSignature } from '../support/sigv4';

const credentials = { accessKeyId: TEST_CREDENTIALS.awsAccessKeyId, secretAccessKey: TEST_CREDENTIALS.awsSecretAccessKey };
const arn = 'arn:aws:lambda:eu-west-1:123456789012:function:echo:live';

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

describe('the lean AWS client', () => {
  it('signs requests AWS would accept: a qualified ARN in the path, a session token, the body it sent', async () => {
    const fake = await startLambdaFake({ [arn]: (payload) => ({ payload }) });
    try {
      const api = new AwsApi({ service: 'lambda', region: 'eu-west-1', endpoint: fake.endpoint, credentials: { ...credentials, sessionToken: 'session-token' } });
      const out = await api.post({ path: `/2015-03-31/functions/${encodeURIComponent(arn)}/invocations`, body: '{"héllo":"wörld"}' });
      expect(out.body.toString('utf8')).toBe('{"héllo":"wörld"}');
      expect(fake.requests.map((r) => r.signature)).toEqual(['valid']);
      expect(fake.requests[0]?.headers['x-amz-security-token']).toBe('session-token');
      expect(fake.requests[0]?.headers.authorization).toContain('/eu-west-1/lambda/aws4_request');
      api.destroy();
    } finally {
      await fake.close();
    }
  });

  it('has a signature check that refuses a changed body, and agrees with the AWS SDK on what it signs', async () => {
    const fake = await startSqsFake(['events']);
    try {
      // The SQS connector still uses the SDK's SQS client: its requests must check out too.
      const provider = sqsProvider({ region: 'us-east-1', ...TEST_CREDENTIALS, queueUrl: `${fake.endpoint}/123456789012/events`, endpoint: fake.endpoint }, new AwsClientCache({ timeoutMs: 5000, maxAttempts: 1 }));
      await provider.invoke('{"n":1}');
      const sent = fake.requests[0];
      expect(sent?.signature).toBe('valid');
      expect(await checkSignature({ ...sent!, body: sent!.body.replace('"n', '"m') })).toBe('invalid');
    } finally {
      await fake.close();
    }
  });

  it('retries throttling and 5xx answers, then succeeds', async () => {
    const fake = await scripted([
      json(400, { __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'slow down' }),
      json(503, { message: 'unavailable' }),
      json(200, { ok: true }),
    ]);
    try {
      const api = new AwsApi({ service: 'dynamodb', region: 'us-east-1', endpoint: fake.endpoint, credentials });
      expect(await api.json('DynamoDB_20120810.GetItem', {})).toEqual({ ok: true });
      expect(fake.requests).toHaveLength(3);
      expect(fake.requests[0]?.target).toBe('DynamoDB_20120810.GetItem');
    } finally {
      await fake.close();
    }
  });

  it('does not retry a client error, and names it as AWS does', async () => {
    const fake = await scripted([json(400, { __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException', message: 'cancelled', CancellationReasons: [{ Code: 'ConditionalCheckFailed' }] })]);
    try {
      const api = new AwsApi({ service: 'dynamodb', region: 'us-east-1', endpoint: fake.endpoint, credentials });
      const err = await api.json('DynamoDB_20120810.TransactWriteItems', {}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AwsServiceError);
      expect(err).toMatchObject({ name: 'TransactionCanceledException', message: 'cancelled', $metadata: { httpStatusCode: 400 }, fields: { CancellationReasons: [{ Code: 'ConditionalCheckFailed' }] } });
      expect(fake.requests).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });

  it('takes the error type from x-amzn-errortype, and copes with a body that is not JSON', async () => {
    const fake = await scripted([
      { status: 404, body: '{"Type":"User","Message":"Function not found"}', headers: { 'x-amzn-errortype': 'ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.lambda/' } },
      { status: 502, body: '<html>bad gateway</html>' },
    ]);
    try {
      const api = new AwsApi({ service: 'lambda', region: 'us-east-1', endpoint: fake.endpoint, credentials, maxAttempts: 1 });
      await expect(api.post({ path: '/x' })).rejects.toMatchObject({ name: 'ResourceNotFoundException', message: 'Function not found', $metadata: { httpStatusCode: 404 } });
      await expect(api.post({ path: '/x' })).rejects.toMatchObject({ name: 'HTTP502', $metadata: { httpStatusCode: 502 } });
    } finally {
      await fake.close();
    }
  });

  it('stops at the caller\'s deadline instead of retrying', async () => {
    const fake = await scripted([json(500, { message: 'boom' })]);
    try {
      const api = new AwsApi({ service: 'sqs', region: 'us-east-1', endpoint: fake.endpoint, credentials, maxAttempts: 50 });
      const controller = new AbortController();
      const call = api.json('AmazonSQS.SendMessage', {}, { abortSignal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await expect(call).rejects.toBeDefined();
      expect(fake.requests.length).toBeLessThan(50);
    } finally {
      await fake.close();
    }
  });

  it('retries what the SDK classes as throttling (SQS\'s RequestThrottled) and answers', async () => {
    const fake = await scripted([json(400, { __type: 'com.amazonaws.sqs#RequestThrottled', message: 'slow down' }), json(200, { MessageId: 'm' })]);
    try {
      const api = new AwsApi({ service: 'sqs', region: 'us-east-1', endpoint: fake.endpoint, credentials });
      expect(await api.json('AmazonSQS.SendMessage', {})).toEqual({ MessageId: 'm' });
      expect(fake.requests).toHaveLength(2);
    } finally {
      await fake.close();
    }
  });

  it('signs with AWS\'s time once a refusal shows our clock is off, and the call then goes through', async () => {
    // AWS's clock an hour ahead of ours, then (our clock fixed, say) back with ours.
    let awsAhead = 60 * 60 * 1000;
    let skewed = true;
    const fake = await AwsFake.start(
      (req) => {
        const signedAt = Date.parse(String(req.headers['x-amz-date']).replace(/(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/, '$1-$2-$3T$4:$5:$6Z'));
        const awsTime = Date.now() + awsAhead;
        skewed = Math.abs(signedAt - awsTime) > 5 * 60 * 1000;
        return skewed
          ? json(400, { __type: 'InvalidSignatureException', message: 'Signature expired' }, { date: new Date(awsTime).toUTCString() })
          : json(200, { ok: true });
      },
      () => json(403, {}),
    );
    try {
      const api = new AwsApi({ service: 'dynamodb', region: 'us-east-1', endpoint: fake.endpoint, credentials, maxAttempts: 2 });
      expect(await api.json('DynamoDB_20120810.GetItem', {})).toEqual({ ok: true });
      expect(fake.requests).toHaveLength(2);
      expect(skewed).toBe(false);
      awsAhead = 0;
      expect(await api.json('DynamoDB_20120810.GetItem', {})).toEqual({ ok: true });
      expect(fake.requests).toHaveLength(4);
    } finally {
      await fake.close();
    }
  });

  it('gives up on a connection that stays silent instead of hanging', async () => {
    const silent = createServer(() => {
      // Accepts the request and never answers.
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const api = new AwsApi({ service: 'dynamodb', region: 'us-east-1', endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, credentials, idleTimeoutMs: 200, maxAttempts: 1 });
      await expect(api.json('DynamoDB_20120810.GetItem', {})).rejects.toMatchObject({ name: 'TimeoutError' });
      api.destroy();
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('knows the regional endpoints, China\'s included, and asks for a region when it has none', () => {
    expect(regionalEndpoint('sqs', 'eu-west-1')).toBe('https://sqs.eu-west-1.amazonaws.com');
    expect(regionalEndpoint('dynamodb', 'cn-north-1')).toBe('https://dynamodb.cn-north-1.amazonaws.com.cn');
    const { AWS_REGION, AWS_DEFAULT_REGION } = process.env;
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    try {
      expect(() => new AwsApi({ service: 'sqs', credentials })).toThrow('no AWS region for sqs');
    } finally {
      if (AWS_REGION !== undefined) process.env.AWS_REGION = AWS_REGION;
      if (AWS_DEFAULT_REGION !== undefined) process.env.AWS_DEFAULT_REGION = AWS_DEFAULT_REGION;
    }
  });
});
