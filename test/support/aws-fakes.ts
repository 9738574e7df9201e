import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkSignature } from './sigv4';

/**
 * Loopback stand-ins for AWS services that have no emulator on npm. They speak the services' real
 * wire protocols (JSON 1.0/1.1 with X-Amz-Target, Lambda's REST API), answer real-shaped successes
 * and errors, and record exactly what the SDK sent.
 */

/** One request an AWS fake received. */
export interface AwsRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** X-Amz-Target, for JSON protocol services. */
  target?: string;
  /** The access key ID the request was signed with (from the SigV4 Authorization header). */
  accessKeyId?: string;
  json: () => any;
  /** Whether its SigV4 signature checked out (see checkSignature); set before the fake answers. */
  signature?: 'valid' | 'invalid' | 'unknown';
}

/** AWS's answer to a request whose signature does not match its content. */
const BAD_SIGNATURE: AwsAnswer = {
  status: 403,
  body: JSON.stringify({ message: 'The request signature we calculated does not match the signature you provided.' }),
  headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/' },
};

/** What a fake answers. */
export interface AwsAnswer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/** Access key IDs starting with this are refused as unknown, the way AWS refuses a bad key. */
export const REFUSED_KEY_PREFIX = 'AKIAREFUSED';

export class AwsFake {
  readonly requests: AwsRequest[] = [];
  private readonly server: Server;

  private constructor(handler: (req: AwsRequest) => AwsAnswer, refused: (req: AwsRequest) => AwsAnswer) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const auth = String(req.headers.authorization ?? '');
        const recorded: AwsRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body,
          target: req.headers['x-amz-target'] as string | undefined,
          accessKeyId: /Credential=([^/]+)\//.exec(auth)?.[1],
          json: () => JSON.parse(body),
        };
        this.requests.push(recorded);
        void checkSignature(recorded).then((signature) => {
          recorded.signature = signature;
          const answer = signature === 'invalid' ? BAD_SIGNATURE : recorded.accessKeyId?.startsWith(REFUSED_KEY_PREFIX) ? refused(recorded) : handler(recorded);
          res.writeHead(answer.status, { 'x-amzn-requestid': randomUUID(), ...answer.headers });
          res.end(answer.body);
        });
      });
    });
  }

  static async start(handler: (req: AwsRequest) => AwsAnswer, refused: (req: AwsRequest) => AwsAnswer): Promise<AwsFake> {
    const fake = new AwsFake(handler, refused);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A JSON-protocol error as AWS sends it: `__type` in the body. */
function jsonError(status: number, contentType: string, type: string, message: string, extra: Record<string, string> = {}): AwsAnswer {
  return { status, body: JSON.stringify({ __type: type, message }), headers: { 'content-type': contentType, ...extra } };
}

const JSON10 = 'application/x-amz-json-1.0';
const JSON11 = 'application/x-amz-json-1.1';
const ok = (contentType: string, doc: unknown): AwsAnswer => ({ status: 200, body: JSON.stringify(doc), headers: { 'content-type': contentType } });
const unknownOperation = (contentType: string, target: string | undefined) => jsonError(400, contentType, 'UnknownOperationException', `unknown operation ${target}`);

/** SQS over its JSON 1.0 protocol (what SDK v3 sends today). Knows the queues named in `queueUrls`. */
export function startSqsFake(queueNames: string[]): Promise<AwsFake> {
  return AwsFake.start(
    (req) => {
      if (req.target !== 'AmazonSQS.SendMessage') return unknownOperation(JSON10, req.target);
      const input = req.json() as { QueueUrl: string; MessageBody: string };
      const name = new URL(input.QueueUrl).pathname.split('/').pop() ?? '';
      if (!queueNames.includes(name)) {
        return jsonError(400, JSON10, 'com.amazonaws.sqs#QueueDoesNotExist', 'The specified queue does not exist.', {
          'x-amzn-query-error': 'AWS.SimpleQueueService.NonExistentQueue;Sender',
        });
      }
      // The SDK checks this MD5 against the body it sent.
      return ok(JSON10, { MessageId: randomUUID(), MD5OfMessageBody: createHash('md5').update(input.MessageBody).digest('hex') });
    },
    () => jsonError(400, JSON10, 'com.amazon.coral.service#UnrecognizedClientException', 'The security token included in the request is invalid.'),
  );
}

/** What a fake Lambda function does with its payload. */
export type FakeFunction = (payload: string) => { payload: string; functionError?: 'Unhandled' | 'Handled' };

/** Lambda's REST API: POST /2015-03-31/functions/{name}/invocations. Knows the functions given by name or ARN. */
export function startLambdaFake(functions: Record<string, FakeFunction>): Promise<AwsFake> {
  return AwsFake.start(
    (req) => {
      const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.path);
      if (req.method !== 'POST' || !match?.[1]) return { status: 404, body: '{"message":"no such route"}', headers: { 'content-type': 'application/json' } };
      const name = decodeURIComponent(match[1]);
      const fn = functions[name];
      if (!fn) {
        return {
          status: 404,
          body: JSON.stringify({ Type: 'User', Message: `Function not found: ${name}` }),
          headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.lambda/' },
        };
      }
      const result = fn(req.body);
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' };
      if (result.functionError) headers['x-amz-function-error'] = result.functionError;
      return { status: 200, body: result.payload, headers };
    },
    () => ({
      status: 403,
      body: JSON.stringify({ message: 'The security token included in the request is invalid.' }),
      headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'UnrecognizedClientException:http://internal.amazon.com/coral/com.amazon.coral.service/' },
    }),
  );
}

/** Firehose over JSON 1.1: PutRecord into the named delivery streams. */
export function startFirehoseFake(streamNames: string[]): Promise<AwsFake> {
  return AwsFake.start(
    (req) => {
      if (req.target !== 'Firehose_20150804.PutRecord') return unknownOperation(JSON11, req.target);
      const input = req.json() as { DeliveryStreamName: string };
      if (!streamNames.includes(input.DeliveryStreamName)) {
        return jsonError(400, JSON11, 'ResourceNotFoundException', `Firehose ${input.DeliveryStreamName} under account 123456789012 not found.`);
      }
      return ok(JSON11, { RecordId: randomUUID(), Encrypted: false });
    },
    () => jsonError(400, JSON11, 'UnrecognizedClientException', 'The security token included in the request is invalid.'),
  );
}

/** EventBridge over JSON 1.1: PutEvents onto the named buses; an entry for an unknown bus fails on its own. */
export function startEventBridgeFake(busNames: string[], entryError?: () => { ErrorCode: string; ErrorMessage: string } | undefined): Promise<AwsFake> {
  return AwsFake.start(
    (req) => {
      if (req.target !== 'AWSEvents.PutEvents') return unknownOperation(JSON11, req.target);
      const input = req.json() as { Entries: Array<{ EventBusName?: string }> };
      const entries = input.Entries.map((e) => {
        const forced = entryError?.();
        if (forced) return forced;
        if (!busNames.includes(e.EventBusName ?? 'default')) return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${e.EventBusName} does not exist.` };
        return { EventId: randomUUID() };
      });
      return ok(JSON11, { FailedEntryCount: entries.filter((e) => 'ErrorCode' in e).length, Entries: entries });
    },
    () => jsonError(400, JSON11, 'UnrecognizedClientException', 'The security token included in the request is invalid.'),
  );
}
