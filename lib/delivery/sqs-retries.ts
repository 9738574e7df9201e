import { ChangeMessageVisibilityCommand, SendMessageCommand, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
import { ServiceUnavailableError } from '../errors';
import type { Logger } from '../logger';
import { DeliveryFailure, type Delivery, type DeliveryHandler, type RetryPolicy } from './queue';
import { deliveryFromMessage } from './sqs-message';
import { DEFAULT_BACKOFF, DEFAULT_RETRY, mayRetry, retryDelayMs, type Backoff } from './retry';

/** A received SQS message, as far as delivery and retries care. */
export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  /** How many times SQS has handed it out, this time included: the attempts so far. */
  receiveCount: number;
  /** When it was sent (accepted), epoch milliseconds. */
  sentAt: number;
}

export interface SqsRetriesOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** Where deliveries that ran out of retries go; without one they are left to the queue's redrive policy. */
  deadLetterQueueUrl?: string;
  defaultRetry?: RetryPolicy;
  backoff?: Backoff;
  logger: Logger;
}

/** Message attributes a dead letter carries, so that the dead-letter endpoints can say what happened. */
export const DEAD_LETTER_ATTRIBUTES = { attempts: 'eg-attempts', error: 'eg-error', acceptedAt: 'eg-accepted-at', deadLetteredAt: 'eg-dead-lettered-at' } as const;

/** What became of a failed delivery. */
type RetryOutcome = 'retry' | 'dead-lettered';

const MAX_VISIBILITY_SECONDS = 12 * 60 * 60;
const MAX_ERROR_LENGTH = 1000;

/**
 * The delivery retry policy on SQS, the same as the durable queue's: a failed delivery comes back
 * after its backoff (by changing the message's visibility, not the queue's fixed timeout), and goes
 * to the dead-letter queue at once when the failure cannot be retried or the subscription's
 * `maxAttempts` / `maxAgeSeconds` are used up. The queue's own redrive stays as the backstop for
 * messages the worker never finishes (a crash, a timeout).
 */
export class SqsRetries {
  private readonly defaultRetry: RetryPolicy;
  private readonly backoff: Backoff;

  constructor(private readonly options: SqsRetriesOptions) {
    this.defaultRetry = options.defaultRetry ?? DEFAULT_RETRY;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  /**
   * Performs a received message's delivery and, when it fails, retries or dead-letters it. `done` when
   * the message may be deleted (delivered, or moved to the dead-letter queue); `retry` when SQS should
   * hand it out again (after the backoff this has set).
   */
  async deliver(message: ReceivedMessage, deliver: DeliveryHandler): Promise<'done' | 'retry'> {
    let delivery: Delivery | undefined;
    try {
      delivery = deliveryFromMessage(message.body);
      await deliver(delivery, message.receiveCount);
      return 'done';
    } catch (failure) {
      if (failure instanceof ServiceUnavailableError) {
        // The gateway could not attempt the delivery (its registry is unavailable): not the target's
        // failure, so no retry budget is spent and nothing is dead-lettered; SQS hands it out again.
        this.options.logger.warn({ messageId: message.messageId, deliveryId: delivery?.deliveryId, err: failure.message }, 'delivery not attempted; SQS will hand it out again');
        return 'retry';
      }
      const outcome = await this.failed(message, delivery, failure);
      const fields = { messageId: message.messageId, deliveryId: delivery?.deliveryId, receiveCount: message.receiveCount, err: failure instanceof Error ? failure.message : String(failure) };
      if (outcome === 'dead-lettered') this.options.logger.warn(fields, 'delivery failed for good; moved to the dead-letter queue');
      else this.options.logger.warn(fields, 'delivery failed; SQS will retry it');
      return outcome === 'dead-lettered' ? 'done' : 'retry';
    }
  }

  /** Retries or dead-letters a failed message; `delivery` is undefined when its body is not one (never worth retrying). */
  private async failed(message: ReceivedMessage, delivery: Delivery | undefined, failure: unknown, now = Date.now()): Promise<RetryOutcome> {
    const policy = delivery?.retry ?? this.defaultRetry;
    const retryable = delivery !== undefined && !(failure instanceof DeliveryFailure && !failure.retryable);
    if (!retryable || !mayRetry(policy, message.receiveCount, message.sentAt, now)) {
      if (await this.deadLetter(message, failure, now)) return 'dead-lettered';
    }
    await this.delay(message).catch(() => {
      // Without the change SQS still retries after the queue's visibility timeout: later, never lost.
    });
    return 'retry';
  }

  /** Sends the message to the dead-letter queue; false when there is none or the send failed (the queue's redrive then applies). */
  private async deadLetter(message: ReceivedMessage, failure: unknown, now: number): Promise<boolean> {
    if (!this.options.deadLetterQueueUrl) return false;
    const error = sqsText(failure instanceof Error ? failure.message : String(failure));
    const attributes: Record<string, MessageAttributeValue> = { [DEAD_LETTER_ATTRIBUTES.error]: { DataType: 'String', StringValue: error || 'failed' } };
    const numbers: Array<[string, number]> = [
      [DEAD_LETTER_ATTRIBUTES.attempts, message.receiveCount],
      [DEAD_LETTER_ATTRIBUTES.acceptedAt, message.sentAt],
      [DEAD_LETTER_ATTRIBUTES.deadLetteredAt, now],
    ];
    for (const [name, value] of numbers) if (Number.isFinite(value)) attributes[name] = { DataType: 'Number', StringValue: String(value) };
    try {
      await this.options.sqs.send(new SendMessageCommand({ QueueUrl: this.options.deadLetterQueueUrl, MessageBody: message.body, MessageAttributes: attributes }));
      return true;
    } catch (err) {
      this.options.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'could not move a delivery to the dead-letter queue; it stays in the delivery queue');
      return false;
    }
  }

  private async delay(message: ReceivedMessage): Promise<void> {
    const seconds = Math.min(MAX_VISIBILITY_SECONDS, Math.max(1, Math.ceil(retryDelayMs(message.receiveCount, this.backoff) / 1000)));
    await this.options.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.options.queueUrl, ReceiptHandle: message.receiptHandle, VisibilityTimeout: seconds }));
  }
}

/** At most MAX_ERROR_LENGTH characters SQS accepts in a message attribute (no control characters, no lone surrogates). */
function sqsText(text: string): string {
  return Array.from(text.replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '?'))
    .slice(0, MAX_ERROR_LENGTH)
    .join('');
}
