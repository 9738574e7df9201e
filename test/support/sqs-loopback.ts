import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkSignature } from './sigv4';

/** One call the SDK made, as it arrived on the wire. */
export interface SqsCall {
  target: string;
  contentType: string;
  body: any;
  /** Whether its SigV4 signature checked out (see checkSignature). */
  signature: 'valid' | 'invalid' | 'unknown';
}

interface StoredMessage {
  MessageId: string;
  ReceiptHandle: string;
  Body: string;
  MD5OfBody: string;
  MessageAttributes?: Record<string, { DataType: string; StringValue: string }>;
  /** For messages sent through the API: when, and how often received since. Stored ones report 5 receives in 2023, as a redrive would leave them. */
  sent?: { at: number; receives: number };
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/**
 * A loopback server speaking the SQS JSON protocol (AWS JSON 1.0, `X-Amz-Target: AmazonSQS.<Op>`),
 * for SendMessage(Batch), ReceiveMessage, DeleteMessage and ChangeMessageVisibility: enough to point the
 * real SDK client at it and assert what it sent. Visibility is simplified: a message received with
 * `VisibilityTimeout: 0` stays visible; otherwise it stays invisible until deleted or released.
 */
export class SqsLoopback {
  readonly calls: SqsCall[] = [];
  /** Messages waiting, by queue URL. */
  readonly queues = new Map<string, StoredMessage[]>();
  /** Entries whose body matches are refused, as SQS refuses entries it cannot take. */
  refuse: (body: string) => boolean = () => false;
  /** A whole call answered with an error instead (SQS's 500s, throttling): return the status and error type, or undefined to serve it. */
  fail: (target: string) => { status: number; type: string } | undefined = () => undefined;
  /** Sends to queues for which this holds are throttled, as SQS throttles: a 400 `RequestThrottled`. */
  throttle: (queueUrl: string) => boolean = () => false;
  private readonly server: Server;

  private constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target'] ?? '');
        const raw = Buffer.concat(chunks).toString('utf8');
        const body = JSON.parse(raw || '{}');
        void checkSignature({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: raw }).then((signature) => {
          this.calls.push({ target, contentType: String(req.headers['content-type'] ?? ''), body, signature });
          const fault = this.fail(target);
          const answer =
            signature === 'invalid'
              ? { status: 403, body: { __type: 'com.amazon.coral.service#InvalidSignatureException', message: 'signature mismatch' } }
              : fault
                ? { status: fault.status, body: { __type: `com.amazonaws.sqs#${fault.type}`, message: `${fault.type} from the test` } }
                : this.answer(target, body);
          const reply = () => {
            res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0' });
            res.end(JSON.stringify(answer.body));
          };
          // A long poll that finds nothing waits a little, as SQS waits up to WaitTimeSeconds: pollers do not spin.
          const empty = target === 'AmazonSQS.ReceiveMessage' && !(answer.body as { Messages?: unknown[] }).Messages;
          if (empty && body.WaitTimeSeconds > 0) setTimeout(reply, 50);
          else reply();
        });
      });
    });
  }

  static async start(): Promise<SqsLoopback> {
    const sqs = new SqsLoopback();
    await new Promise<void>((resolve) => sqs.server.listen(0, '127.0.0.1', resolve));
    return sqs;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** A queue URL on this server (any name is accepted). */
  queueUrl(name = 'deliveries'): string {
    return `${this.endpoint}/000000000000/${name}`;
  }

  /** Bodies of every message sent so far. */
  sentBodies(): string[] {
    return this.calls.filter((c) => c.target === 'AmazonSQS.SendMessageBatch').flatMap((c) => c.body.Entries.map((e: any) => e.MessageBody as string));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(target: string, body: any): { status: number; body: unknown } {
    if (target.startsWith('AmazonSQS.SendMessage') && this.throttle(String(body.QueueUrl))) {
      return { status: 400, body: { __type: 'com.amazonaws.sqs#RequestThrottled', message: 'Request is throttled.' } };
    }
    switch (target) {
      case 'AmazonSQS.SendMessageBatch': {
        const Successful: unknown[] = [];
        const Failed: unknown[] = [];
        for (const entry of body.Entries as Array<{ Id: string; MessageBody: string; MessageAttributes?: StoredMessage['MessageAttributes'] }>) {
          if (this.refuse(entry.MessageBody)) {
            Failed.push({ Id: entry.Id, Code: 'InternalError', SenderFault: false, Message: 'refused by the test' });
            continue;
          }
          const message = this.send(body.QueueUrl, entry.MessageBody, entry.MessageAttributes);
          Successful.push({ Id: entry.Id, MessageId: message.MessageId, MD5OfMessageBody: message.MD5OfBody });
        }
        return { status: 200, body: { Successful, Failed } };
      }
      case 'AmazonSQS.SendMessage': {
        const message = this.send(body.QueueUrl, body.MessageBody, body.MessageAttributes);
        return { status: 200, body: { MessageId: message.MessageId, MD5OfMessageBody: message.MD5OfBody } };
      }
      case 'AmazonSQS.ReceiveMessage': {
        const max = Math.min(body.MaxNumberOfMessages ?? 1, 10);
        const queue = this.queue(body.QueueUrl);
        const taken = body.VisibilityTimeout === 0 ? queue.slice(0, max) : queue.splice(0, max);
        if (body.VisibilityTimeout !== 0) this.inFlight.push(...taken.map((m) => ({ ...m, queueUrl: body.QueueUrl as string })));
        const withAttributes = (body.MessageAttributeNames ?? []).includes('All');
        const messages = taken.map(({ MessageAttributes, sent, ...m }) => ({
          ...m,
          Attributes: sent ? { ApproximateReceiveCount: String(++sent.receives), SentTimestamp: String(sent.at) } : { ApproximateReceiveCount: '5', SentTimestamp: '1700000000000' },
          ...(withAttributes && MessageAttributes ? { MessageAttributes } : {}),
        }));
        return { status: 200, body: messages.length > 0 ? { Messages: messages } : {} };
      }
      case 'AmazonSQS.ChangeMessageVisibility': {
        const message = this.inFlight.find((m) => m.ReceiptHandle === body.ReceiptHandle);
        if (message && body.VisibilityTimeout === 0) {
          this.inFlight = this.inFlight.filter((m) => m !== message);
          this.queue(message.queueUrl).push(message);
        }
        return { status: 200, body: {} };
      }
      case 'AmazonSQS.DeleteMessage': {
        this.inFlight = this.inFlight.filter((m) => m.ReceiptHandle !== body.ReceiptHandle);
        return { status: 200, body: {} };
      }
      default:
        return { status: 400, body: { __type: 'com.amazonaws.sqs#UnsupportedOperation', message: `${target} is not supported here` } };
    }
  }

  private inFlight: Array<StoredMessage & { queueUrl: string }> = [];

  /** A message sent through the API: it counts its receives from now. */
  private send(queueUrl: string, messageBody: string, attributes?: StoredMessage['MessageAttributes']): StoredMessage {
    const message = this.store(queueUrl, messageBody, attributes);
    message.sent = { at: Date.now(), receives: 0 };
    return message;
  }

  /** Puts a message on a queue, as SQS's redrive into a dead-letter queue would. */
  store(queueUrl: string, messageBody: string, attributes?: StoredMessage['MessageAttributes']): StoredMessage {
    const message = { MessageId: randomUUID(), ReceiptHandle: randomUUID(), Body: messageBody, MD5OfBody: md5(messageBody), ...(attributes ? { MessageAttributes: attributes } : {}) };
    this.queue(queueUrl).push(message);
    return message;
  }

  /** The messages of a queue that are visible now. */
  queue(url: string): StoredMessage[] {
    let messages = this.queues.get(url);
    if (!messages) this.queues.set(url, (messages = []));
    return messages;
  }
}
