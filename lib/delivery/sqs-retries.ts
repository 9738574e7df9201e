import { ChangeMessageVisibilityCommand, SendMessageCommand, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
import { ServiceUnavailableError } from '../errors';
import type { Logger } from '../logger';
import { CircuitBreakers, type Admission, type CircuitBreakerOptions, type CircuitState } from './circuit-breaker';
import { DeliveryFailure, type Delivery, type DeliveryHandler, type RetryPolicy } from './queue';
import { deliveryFromMessage, deliveryMessageAttributes } from './sqs-message';
import { DEFAULT_BACKOFF, DEFAULT_RETRY, mayRetry, retryDelayMs, type Backoff } from './retry';

/** A received SQS message, as far as delivery and retries care. */
export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  /** How many times SQS has handed it out, this time included. */
  receiveCount: number;
  /** When it was sent, epoch milliseconds. */
  sentAt: number;
  /** Its message attributes (name → string value), where they carry what a parked copy brings along (see PARKED_ATTRIBUTES). */
  attributes?: Record<string, string | undefined>;
}

/**
 * Message attributes of a parked copy of a delivery (see SqsRetries): the attempts its earlier messages
 * spent, and when the event was accepted. SQS counts receives per message, so a copy starts again at
 * one receive: these carry the delivery's budget over.
 */
export const PARKED_ATTRIBUTES = { priorAttempts: 'eg-prior-attempts', acceptedAt: 'eg-accepted-at' } as const;

/** A received message's attempt number (this receive's attempt included) and when its event was accepted. */
export function attemptOf(message: ReceivedMessage): { attempt: number; acceptedAt: number } {
  const prior = Number(message.attributes?.[PARKED_ATTRIBUTES.priorAttempts] ?? 0);
  const accepted = Number(message.attributes?.[PARKED_ATTRIBUTES.acceptedAt] ?? message.sentAt);
  return {
    attempt: (Number.isInteger(prior) && prior > 0 ? prior : 0) + message.receiveCount,
    acceptedAt: Number.isFinite(accepted) && accepted > 0 ? accepted : message.sentAt,
  };
}

export interface SqsRetriesOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** Where deliveries that ran out of retries go; without one they are left to the queue's redrive policy. */
  deadLetterQueueUrl?: string;
  defaultRetry?: RetryPolicy;
  backoff?: Backoff;
  logger: Logger;
  /** The circuit breaker per target (see CircuitBreakers); `false` turns it off. */
  circuitBreaker?: CircuitBreakerOptions | false;
  /** Told of every change of a target's circuit (metrics); the change is logged in any case. */
  onCircuitChange?: (space: string, functionId: string, state: CircuitState) => void;
}

/** Message attributes a dead letter carries, so that the dead-letter endpoints can say what happened. */
export const DEAD_LETTER_ATTRIBUTES = { attempts: 'eg-attempts', error: 'eg-error', acceptedAt: 'eg-accepted-at', deadLetteredAt: 'eg-dead-lettered-at' } as const;

/** What became of a failed delivery. */
type RetryOutcome = 'retry' | 'dead-lettered';

const MAX_VISIBILITY_SECONDS = 12 * 60 * 60;
/** SQS's longest delay of a message. */
const MAX_DELAY_SECONDS = 15 * 60;
const MAX_ERROR_LENGTH = 1000;

/** A delivery's target for the circuit breaker: its function (as in the durable queue). */
const targetOf = (delivery: Delivery) => `${delivery.space}\u0000${delivery.functionId}`;

/**
 * The delivery retry policy on SQS, the same as the durable queue's: a failed delivery comes back
 * after its backoff (by changing the message's visibility, not the queue's fixed timeout), and goes
 * to the dead-letter queue at once when the failure cannot be retried or the subscription's
 * `maxAttempts` / `maxAgeSeconds` are used up. The queue's own redrive stays as the backstop for
 * messages the worker never finishes (a crash, a timeout).
 *
 * With a circuit breaker per target (on by default): once a target keeps failing, its messages are
 * not attempted but *parked*: sent again as a new message, delayed until the circuit lets a probe
 * through, carrying the attempts spent so far and the acceptance time (PARKED_ATTRIBUTES), and the
 * received one is done with. A new message starts at one receive, so waiting neither spends the
 * delivery's attempts nor brings it nearer the queue's redrive (`maxReceiveCount`) to the dead-letter
 * queue. Breakers live in this object: per process locally, per execution environment on Lambda.
 */
export class SqsRetries {
  private readonly defaultRetry: RetryPolicy;
  private readonly backoff: Backoff;
  /** Undefined when the breaker is off. */
  readonly breakers?: CircuitBreakers;

  constructor(private readonly options: SqsRetriesOptions) {
    this.defaultRetry = options.defaultRetry ?? DEFAULT_RETRY;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    if (options.circuitBreaker !== false) {
      // No action when a probe is due: the parked copies come back by their delay, and the next one is the probe.
      this.breakers = new CircuitBreakers(options.circuitBreaker ?? {}, (target, from, to) => this.circuitChanged(target, from, to), () => {});
    }
  }

  /**
   * Performs a received message's delivery and, when it fails, retries or dead-letters it. `done` when
   * the message may be deleted (delivered, moved to the dead-letter queue, or parked as a new message);
   * `retry` when SQS should hand it out again (after the backoff this has set).
   */
  async deliver(message: ReceivedMessage, deliver: DeliveryHandler): Promise<'done' | 'retry'> {
    let delivery: Delivery | undefined;
    let target: string | undefined;
    let admission: Admission = 'attempt';
    const { attempt, acceptedAt } = attemptOf(message);
    try {
      delivery = deliveryFromMessage(message.body);
      target = targetOf(delivery);
      admission = this.breakers?.admit(target) ?? 'attempt';
      if (admission === 'wait') return await this.park(message, delivery, target);
      await deliver(delivery, attempt);
      if (this.breakers?.succeeded(target)) this.options.logger.info({ space: delivery.space, functionId: delivery.functionId }, 'target reachable again: its parked deliveries go as SQS hands them out');
      return 'done';
    } catch (failure) {
      if (target !== undefined) this.judge(target, admission, failure);
      if (failure instanceof ServiceUnavailableError) {
        // The gateway could not attempt the delivery (its registry is unavailable): not the target's
        // failure, so no retry budget is spent and nothing is dead-lettered; SQS hands it out again.
        this.options.logger.warn({ messageId: message.messageId, deliveryId: delivery?.deliveryId, err: failure.message }, 'delivery not attempted; SQS will hand it out again');
        return 'retry';
      }
      const outcome = await this.failed(message, delivery, failure, attempt, acceptedAt);
      const fields = { messageId: message.messageId, deliveryId: delivery?.deliveryId, attempt, err: failure instanceof Error ? failure.message : String(failure) };
      if (outcome === 'dead-lettered') this.options.logger.warn(fields, 'delivery failed for good; moved to the dead-letter queue');
      else this.options.logger.warn(fields, 'delivery failed; SQS will retry it');
      return outcome === 'dead-lettered' ? 'done' : 'retry';
    }
  }

  /** Stops the breakers' timers. */
  stop(): void {
    this.breakers?.stop();
  }

  /** Tells the target's breaker how an attempt failed (as the durable queue does). */
  private judge(target: string, admission: Admission, failure: unknown): void {
    const breakers = this.breakers;
    if (!breakers) return;
    const probe = admission === 'probe';
    if (failure instanceof ServiceUnavailableError) {
      if (probe) breakers.probeAbandoned(target);
    } else if (failure instanceof DeliveryFailure && !failure.retryable) {
      // Refused for good (a 4xx, say): the target is up. Only a probe's answer is trusted to close the circuit.
      if (probe) breakers.succeeded(target);
    } else {
      breakers.failed(target, probe);
    }
  }

  /**
   * Parks a message whose target's circuit is open: a new message with the same body, delayed until the
   * circuit lets a probe through, carrying the attempts spent before this receive. `done` once sent
   * (the received message is to be deleted); when the send fails, the received message is hidden for
   * that long instead (`retry`: this costs it one receive, never an attempt).
   */
  private async park(message: ReceivedMessage, delivery: Delivery, target: string): Promise<'done' | 'retry'> {
    const seconds = Math.min(MAX_DELAY_SECONDS, Math.max(1, Math.ceil((this.breakers?.waitMs(target) ?? 0) / 1000)));
    const { attempt, acceptedAt } = attemptOf(message);
    const attributes: Record<string, MessageAttributeValue> = {
      ...deliveryMessageAttributes(delivery),
      [PARKED_ATTRIBUTES.priorAttempts]: { DataType: 'Number', StringValue: String(attempt - 1) },
      [PARKED_ATTRIBUTES.acceptedAt]: { DataType: 'Number', StringValue: String(acceptedAt) },
    };
    try {
      await this.options.sqs.send(new SendMessageCommand({ QueueUrl: this.options.queueUrl, MessageBody: message.body, DelaySeconds: seconds, MessageAttributes: attributes }));
      return 'done';
    } catch (err) {
      this.options.logger.warn({ messageId: message.messageId, deliveryId: delivery.deliveryId, err: err instanceof Error ? err.message : String(err) }, 'could not park a delivery of an open circuit; SQS hands it out again later');
      await this.hide(message, seconds).catch(() => {
        // Without the change SQS hands it out after the queue's visibility timeout: later, never lost.
      });
      return 'retry';
    }
  }

  private circuitChanged(target: string, from: CircuitState, to: CircuitState): void {
    const [space = '', functionId = ''] = target.split('\u0000');
    this.options.onCircuitChange?.(space, functionId, to);
    const fields = { space, functionId, from, to };
    if (to === 'open') this.options.logger.warn(fields, `target of function "${functionId}" keeps failing: circuit open, its deliveries wait`);
    else this.options.logger.info(fields, `circuit of function "${functionId}" ${to}`);
  }

  /** Retries or dead-letters a failed message; `delivery` is undefined when its body is not one (never worth retrying). */
  private async failed(message: ReceivedMessage, delivery: Delivery | undefined, failure: unknown, attempt: number, acceptedAt: number, now = Date.now()): Promise<RetryOutcome> {
    const policy = delivery?.retry ?? this.defaultRetry;
    const retryable = delivery !== undefined && !(failure instanceof DeliveryFailure && !failure.retryable);
    if (!retryable || !mayRetry(policy, attempt, acceptedAt, now)) {
      if (await this.deadLetter(message, failure, attempt, acceptedAt, now)) return 'dead-lettered';
    }
    const seconds = Math.min(MAX_VISIBILITY_SECONDS, Math.max(1, Math.ceil(retryDelayMs(attempt, this.backoff) / 1000)));
    await this.hide(message, seconds).catch(() => {
      // Without the change SQS still retries after the queue's visibility timeout: later, never lost.
    });
    return 'retry';
  }

  /** Sends the message to the dead-letter queue; false when there is none or the send failed (the queue's redrive then applies). */
  private async deadLetter(message: ReceivedMessage, failure: unknown, attempt: number, acceptedAt: number, now: number): Promise<boolean> {
    if (!this.options.deadLetterQueueUrl) return false;
    const error = sqsText(failure instanceof Error ? failure.message : String(failure));
    const attributes: Record<string, MessageAttributeValue> = { [DEAD_LETTER_ATTRIBUTES.error]: { DataType: 'String', StringValue: error || 'failed' } };
    const numbers: Array<[string, number]> = [
      [DEAD_LETTER_ATTRIBUTES.attempts, attempt],
      [DEAD_LETTER_ATTRIBUTES.acceptedAt, acceptedAt],
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

  /** Hides the message for `seconds`: SQS hands it out again after them. */
  private async hide(message: ReceivedMessage, seconds: number): Promise<void> {
    await this.options.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.options.queueUrl, ReceiptHandle: message.receiptHandle, VisibilityTimeout: seconds }));
  }
}

/** At most MAX_ERROR_LENGTH characters SQS accepts in a message attribute (no control characters, no lone surrogates). */
function sqsText(text: string): string {
  return Array.from(text.replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '?'))
    .slice(0, MAX_ERROR_LENGTH)
    .join('');
}
