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
 * SQS's clock, for a loopback started with it: received messages come back after their visibility
 * timeout, sends honour `DelaySeconds`, and a redrive policy moves a message to its dead-letter queue
 * when it is received more than `maxReceiveCount` times. `secondMs` shortens SQS's seconds for tests.
 */
export interface SqsClock {
  secondMs?: number;
  /** The queue's visibility timeout, in (SQS) seconds, for receives that set none (default 30). */
  visibilityTimeoutSeconds?: number;
  /** Moves a message to the queue named `deadLetterQueue` (on this loopback) on its receive after the `maxReceiveCount`-th. */
  redrive?: { maxReceiveCount: number; deadLetterQueue: string };
}

/**
 * A loopback server speaking the SQS JSON protocol (AWS JSON 1.0, `X-Amz-Target: AmazonSQS.<Op>`),
 * for SendMessage(Batch), ReceiveMessage, DeleteMessage and ChangeMessageVisibility: enough to point the
 * real SDK client at it and assert what it sent. Without a clock, visibility is simplified: a message
 * received with `VisibilityTimeout: 0` stays visible; otherwise it stays invisible until deleted or
 * released. With one (see SqsClock), visibility timeouts, delays and a redrive policy run as in SQS.
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
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private delayed = 0;

  private constructor(private readonly clock?: SqsClock) {
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

  static async start(clock?: SqsClock): Promise<SqsLoopback> {
    const sqs = new SqsLoopback(clock);
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

  /** Messages of a queue not yet deleted: visible, received (in flight) or delayed. */
  undeleted(url: string): number {
    return this.queue(url).length + this.inFlight.filter((m) => m.queueUrl === url).length + this.delayed;
  }

  async close(): Promise<void> {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
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
          const message = this.send(body.QueueUrl, entry.MessageBody, entry.MessageAttributes, (entry as { DelaySeconds?: number }).DelaySeconds);
          Successful.push({ Id: entry.Id, MessageId: message.MessageId, MD5OfMessageBody: message.MD5OfBody });
        }
        return { status: 200, body: { Successful, Failed } };
      }
      case 'AmazonSQS.SendMessage': {
        const message = this.send(body.QueueUrl, body.MessageBody, body.MessageAttributes, body.DelaySeconds);
        return { status: 200, body: { MessageId: message.MessageId, MD5OfMessageBody: message.MD5OfBody } };
      }
      case 'AmazonSQS.ReceiveMessage': {
        const max = Math.min(body.MaxNumberOfMessages ?? 1, 10);
        const queue = this.queue(body.QueueUrl);
        if (this.clock) return { status: 200, body: this.receiveTimed(String(body.QueueUrl), max, body) };
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
        if (message && this.clock) {
          this.hideFor(message, body.VisibilityTimeout);
          return { status: 200, body: {} };
        }
        if (message && body.VisibilityTimeout === 0) {
          this.inFlight = this.inFlight.filter((m) => m !== message);
          this.queue(message.queueUrl).push(message);
        }
        return { status: 200, body: {} };
      }
      case 'AmazonSQS.DeleteMessage': {
        clearTimeout(this.timers.get(body.ReceiptHandle));
        this.timers.delete(body.ReceiptHandle);
        this.inFlight = this.inFlight.filter((m) => m.ReceiptHandle !== body.ReceiptHandle);
        return { status: 200, body: {} };
      }
      default:
        return { status: 400, body: { __type: 'com.amazonaws.sqs#UnsupportedOperation', message: `${target} is not supported here` } };
    }
  }

  private inFlight: Array<StoredMessage & { queueUrl: string }> = [];

  /** A message sent through the API: it counts its receives from now (and, with a clock, waits out its delay first). */
  private send(queueUrl: string, messageBody: string, attributes?: StoredMessage['MessageAttributes'], delaySeconds = 0): StoredMessage {
    if (!this.clock || !(delaySeconds > 0)) {
      const message = this.store(queueUrl, messageBody, attributes);
      message.sent = { at: Date.now(), receives: 0 };
      return message;
    }
    const message: StoredMessage = { MessageId: randomUUID(), ReceiptHandle: randomUUID(), Body: messageBody, MD5OfBody: md5(messageBody), ...(attributes ? { MessageAttributes: attributes } : {}), sent: { at: Date.now(), receives: 0 } };
    this.delayed++;
    const timer = setTimeout(() => {
      this.timers.delete(message.MessageId);
      this.delayed--;
      this.queue(queueUrl).push(message);
    }, delaySeconds * this.secondMs);
    this.timers.set(message.MessageId, timer);
    return message;
  }

  private get secondMs(): number {
    return this.clock?.secondMs ?? 1000;
  }

  /** A receive with the clock: each message taken is hidden for the visibility timeout, or redriven once received too often. */
  private receiveTimed(queueUrl: string, max: number, body: any): { Messages?: unknown[] } {
    const queue = this.queue(queueUrl);
    const out: unknown[] = [];
    const withAttributes = (body.MessageAttributeNames ?? []).includes('All');
    while (out.length < max && queue.length > 0) {
      const message = queue.shift() as StoredMessage;
      const sent = (message.sent ??= { at: Date.now(), receives: 0 });
      const redrive = this.clock?.redrive;
      // SQS moves a message to the dead-letter queue on the receive after its maxReceiveCount-th.
      if (redrive && sent.receives >= redrive.maxReceiveCount) {
        this.store(this.queueUrl(redrive.deadLetterQueue), message.Body, message.MessageAttributes);
        continue;
      }
      sent.receives++;
      const inFlight = { ...message, queueUrl };
      this.inFlight.push(inFlight);
      this.hideFor(inFlight, body.VisibilityTimeout ?? this.clock?.visibilityTimeoutSeconds ?? 30);
      const { MessageId, ReceiptHandle, Body, MD5OfBody, MessageAttributes } = message;
      out.push({ MessageId, ReceiptHandle, Body, MD5OfBody, Attributes: { ApproximateReceiveCount: String(sent.receives), SentTimestamp: String(sent.at) }, ...(withAttributes && MessageAttributes ? { MessageAttributes } : {}) });
    }
    return out.length > 0 ? { Messages: out } : {};
  }

  /** Hides a received message for `seconds`; it comes back to its queue after them, unless deleted. */
  private hideFor(message: StoredMessage & { queueUrl: string }, seconds: number): void {
    clearTimeout(this.timers.get(message.ReceiptHandle));
    const back = () => {
      this.timers.delete(message.ReceiptHandle);
      if (!this.inFlight.includes(message)) return;
      this.inFlight = this.inFlight.filter((m) => m !== message);
      const { queueUrl, ...stored } = message;
      this.queue(queueUrl).push(stored);
    };
    if (seconds <= 0) return back();
    this.timers.set(message.ReceiptHandle, setTimeout(back, seconds * this.secondMs));
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
