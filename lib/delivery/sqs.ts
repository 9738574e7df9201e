import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageBatchCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { AwsConnection } from '../aws/sdk-config';
import type { Logger } from '../logger';
import type { CircuitBreakerOptions, CircuitState } from './circuit-breaker';
import type { CircuitReport, Delivery, DeliveryHandler, DeliveryQueue, RetryPolicy } from './queue';
import { PayloadTooLargeError } from '../errors';
import { sqsClient } from './sqs-client';
import { deliveryMessageAttributes, deliveryToMessage, SQS_MAX_MESSAGE_BYTES } from './sqs-message';
import { SqsRetries } from './sqs-retries';

/** Where the SQS queue sends, and whether this process also consumes (the local server does; on Lambda the worker does). */
export interface SqsQueueOptions {
  queueUrl: string;
  /** Region, endpoint, credentials; by default the queue URL's own endpoint and region, and the default credentials. */
  connection?: AwsConnection;
  logger: Logger;
  /** Poll the queue from this process when `start` is called. Off on Lambda, where SQS invokes the worker. */
  poll?: boolean;
  /** Long-poll wait, in seconds (0–20). */
  waitTimeSeconds?: number;
  /** Optional dead-letter queue the consumer moves deliveries to when their retry policy is used up (see SqsRetries). */
  deadLetterQueueUrl?: string;
  /** The retry policy of subscriptions that set none. */
  defaultRetry?: RetryPolicy;
  /** The consumer's circuit breaker per target (see SqsRetries); `false` turns it off. */
  circuitBreaker?: CircuitBreakerOptions | false;
}

const BATCH = 10;
/** SQS's limit on the total size of one SendMessageBatch call. */
const MAX_BATCH_BYTES = 256 * 1024;

/** Groups deliveries into batches of at most ten messages and at most MAX_BATCH_BYTES together. */
function batches(deliveries: Delivery[]): Delivery[][] {
  const out: Delivery[][] = [];
  let current: Delivery[] = [];
  let bytes = 0;
  for (const delivery of deliveries) {
    const size = Buffer.byteLength(deliveryToMessage(delivery));
    if (current.length > 0 && (current.length === BATCH || bytes + size > MAX_BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(delivery);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * Refuses, before anything is sent, an event whose delivery SQS would not take: the caller gets a 413
 * (the contract's JSON error) instead of a 500 from SQS's refusal.
 */
function refuseOversized(deliveries: Delivery[]): void {
  for (const delivery of deliveries) {
    // Serialised, a payload character takes at most 6 bytes (\u escapes); small events skip the exact count.
    if (delivery.payload.length * 6 + 8192 < SQS_MAX_MESSAGE_BYTES) continue;
    const bytes = Buffer.byteLength(deliveryToMessage(delivery));
    if (bytes > SQS_MAX_MESSAGE_BYTES) {
      throw new PayloadTooLargeError(
        `Event too large for asynchronous delivery: its queue message would be ${bytes} bytes, the limit is ${SQS_MAX_MESSAGE_BYTES} bytes.`,
      );
    }
  }
}

/**
 * The async delivery queue on Amazon SQS: durable, retried by SQS's visibility timeout and
 * dead-lettered by its redrive policy. `enqueue` sends in batches of ten; entries SQS refuses come
 * back as refused.
 */
export class SqsQueue implements DeliveryQueue {
  /** The queue's SQS client; the dead-letter endpoints and the worker's retries share it. */
  readonly sqs: SQSClient;
  private readonly retries: SqsRetries;
  private circuitReport?: CircuitReport;
  private polling = false;
  private inFlight = 0;
  private loop?: Promise<void>;
  private readonly abort = new AbortController();

  constructor(private readonly options: SqsQueueOptions) {
    this.sqs = sqsClient(options.queueUrl, options.connection);
    const deadLetters = options.deadLetterQueueUrl ? { deadLetterQueueUrl: options.deadLetterQueueUrl } : {};
    this.retries = new SqsRetries({
      sqs: this.sqs,
      queueUrl: options.queueUrl,
      logger: options.logger,
      ...deadLetters,
      ...(options.defaultRetry ? { defaultRetry: options.defaultRetry } : {}),
      ...(options.circuitBreaker !== undefined ? { circuitBreaker: options.circuitBreaker } : {}),
      onCircuitChange: (space: string, functionId: string, state: CircuitState) => this.circuitReport?.(space, functionId, state),
    });
  }

  reportCircuits(report: CircuitReport): void {
    this.circuitReport = report;
  }

  /**
   * Sends every delivery or throws: entries SQS refuses are sent once more, and what it still refuses
   * fails the call, so that no event is answered 202 without its deliveries in the queue.
   */
  async enqueue(deliveries: Delivery[]): Promise<Delivery[]> {
    refuseOversized(deliveries);
    let refused = await this.sendAll(deliveries);
    if (refused.length > 0) refused = await this.sendAll(refused);
    if (refused.length > 0) throw new Error(`SQS refused ${refused.length} of ${deliveries.length} deliveries`);
    return [];
  }

  private async sendAll(deliveries: Delivery[]): Promise<Delivery[]> {
    const refused = await Promise.all(batches(deliveries).map((chunk) => this.sendBatch(chunk)));
    return refused.flat();
  }

  start(handler: DeliveryHandler): void {
    if (!this.options.poll || this.polling) return;
    this.polling = true;
    this.loop = this.pollLoop(handler);
  }

  backlog(): number {
    return this.inFlight;
  }

  async drain(): Promise<void> {
    this.polling = false;
    this.abort.abort();
    await this.loop;
    this.retries.stop();
    this.sqs.destroy();
  }

  private async sendBatch(chunk: Delivery[]): Promise<Delivery[]> {
    const out = await this.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: this.options.queueUrl,
        Entries: chunk.map((delivery, i) => ({ Id: String(i), MessageBody: deliveryToMessage(delivery), MessageAttributes: deliveryMessageAttributes(delivery) })),
      }),
    );
    const refused: Delivery[] = [];
    for (const failure of out.Failed ?? []) {
      const delivery = chunk[Number(failure.Id)];
      if (!delivery) continue;
      this.options.logger.warn({ deliveryId: delivery.deliveryId, code: failure.Code, senderFault: failure.SenderFault }, 'SQS refused a delivery');
      refused.push(delivery);
    }
    return refused;
  }

  private async pollLoop(handler: DeliveryHandler): Promise<void> {
    while (this.polling) {
      let messages: Message[];
      try {
        const out = await this.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.options.queueUrl,
            MaxNumberOfMessages: BATCH,
            WaitTimeSeconds: this.options.waitTimeSeconds ?? 20,
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
            // A parked copy's attributes carry its attempts so far (see SqsRetries).
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: this.abort.signal },
        );
        messages = out.Messages ?? [];
      } catch (err) {
        if (!this.polling) return;
        this.options.logger.error({ err }, 'receiving from SQS failed; retrying in 1 s');
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      await Promise.all(messages.map((message) => this.consume(message, handler)));
    }
  }

  /** Runs one message; deletes it when done with it (delivered or dead-lettered), else leaves it to SQS with its backoff. */
  private async consume(message: Message, handler: DeliveryHandler): Promise<void> {
    this.inFlight++;
    try {
      const received = {
        messageId: message.MessageId ?? '',
        receiptHandle: message.ReceiptHandle ?? '',
        body: message.Body ?? '',
        receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
        sentAt: Number(message.Attributes?.SentTimestamp ?? Date.now()),
        attributes: Object.fromEntries(Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue])),
      };
      if ((await this.retries.deliver(received, handler)) === 'retry') return;
      await this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.options.queueUrl, ReceiptHandle: message.ReceiptHandle }));
    } catch (err) {
      this.options.logger.warn({ messageId: message.MessageId, err: err instanceof Error ? err.message : String(err) }, 'could not delete a finished message; SQS will hand it out again');
    } finally {
      this.inFlight--;
    }
  }
}
