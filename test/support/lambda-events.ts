import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, Context, SQSEvent } from 'aws-lambda';

/** A sample event from test/events (the files `sam local invoke -e` takes). */
export function sampleEvent<T = APIGatewayProxyEventV2>(name: string): T {
  return JSON.parse(readFileSync(join(__dirname, '..', 'events', name), 'utf8')) as T;
}

/** The Config API sample event turned into another call: method, path, body, query. */
export function configEvent(method: string, path: string, body?: unknown, query = ''): APIGatewayProxyEventV2 {
  const event = sampleEvent('apigw-config-list-functions.json');
  event.requestContext.http.method = method;
  event.requestContext.http.path = path;
  event.rawPath = path;
  event.rawQueryString = query;
  if (body !== undefined) event.body = typeof body === 'string' ? body : JSON.stringify(body);
  return event;
}

/** An SQS batch with one record per message body, in the sample's shape: sent just now, received for the `receiveCount`-th time (1), with string message attributes. */
export function sqsBatch(messages: Array<{ messageId: string; body: string; receiveCount?: number; attributes?: Record<string, string> }>): SQSEvent {
  const template = sampleEvent<SQSEvent>('sqs-delivery-batch.json').Records[0]!;
  return {
    Records: messages.map((m) => ({
      ...template,
      messageId: m.messageId,
      receiptHandle: `receipt-${m.messageId}`,
      body: m.body,
      attributes: { ...template.attributes, ApproximateReceiveCount: String(m.receiveCount ?? 1), SentTimestamp: String(Date.now()) },
      messageAttributes: Object.fromEntries(
        Object.entries(m.attributes ?? {}).map(([name, value]) => [name, { dataType: 'Number', stringValue: value, stringListValues: [], binaryListValues: [] }]),
      ),
    })),
  };
}

/** One frozen Lambda context for every test. */
export const lambdaContext: Context = Object.freeze({
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'EventGateway-Function',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:EventGateway-Function',
  memoryLimitInMB: '512',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  logGroupName: '/aws/lambda/EventGateway-Function',
  logStreamName: '2026/03/12/[$LATEST]abcdef',
  getRemainingTimeInMillis: () => 30_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
});
