import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { deadLetterOf, type DeadLetter, type DeadLetters, type Delivery } from './queue';
import { deliveryFromMessage } from './sqs-message';
import { DEAD_LETTER_ATTRIBUTES } from './sqs-retries';

export interface SqsDeadLettersOptions {
  sqs: SQSClient;
  /** The dead-letter queue SQS's redrive policy moves failed deliveries to. */
  deadLetterQueueUrl: string;
  /** The delivery queue replays go back to. */
  queueUrl: string;
  /** How many receive rounds a list or a sweep may take; SQS cannot enumerate a queue, so this bounds the work. */
  maxRounds?: number;
}

/** The error of a dead letter the queue's redrive moved (the worker moves its own with the error attached). */
const ERROR = "exceeded the delivery queue's maxReceiveCount; the worker's logs say why each attempt failed";

/**
 * Dead letters on AWS: the SQS dead-letter queue of the delivery queue. SQS offers no listing, so a
 * list samples the queue (receives that leave messages visible), and a replay or delete sweeps it:
 * matching messages are handled and deleted, the others are made visible again at once.
 */
export class SqsDeadLetters implements DeadLetters {
  private readonly maxRounds: number;

  constructor(private readonly options: SqsDeadLettersOptions) {
    this.maxRounds = options.maxRounds ?? 50;
  }

  async list(space: string): Promise<DeadLetter[]> {
    const seen = new Map<string, DeadLetter>();
    for (let round = 0; round < this.maxRounds; round++) {
      const messages = await this.receive(0);
      const before = seen.size;
      for (const message of messages) {
        const letter = toDeadLetter(message);
        if (letter && letter.space === space && message.MessageId) seen.set(message.MessageId, letter);
      }
      if (messages.length === 0 || (seen.size === before && round > 0)) break;
    }
    return [...seen.values()];
  }

  async replay(space: string, deliveryId?: string): Promise<number> {
    return this.sweep(space, deliveryId, async (message) => {
      await this.options.sqs.send(new SendMessageCommand({ QueueUrl: this.options.queueUrl, MessageBody: message.Body ?? '' }));
    });
  }

  async remove(space: string, deliveryId?: string): Promise<number> {
    return this.sweep(space, deliveryId, async () => {});
  }

  /** Receives the queue out, handles and deletes what matches, and releases the rest. */
  private async sweep(space: string, deliveryId: string | undefined, handle: (message: Message) => Promise<void>): Promise<number> {
    const others: Message[] = [];
    let handled = 0;
    try {
      for (let round = 0; round < this.maxRounds; round++) {
        const messages = await this.receive(60);
        if (messages.length === 0) break;
        for (const message of messages) {
          const delivery = parse(message);
          if (!delivery || delivery.space !== space || (deliveryId !== undefined && delivery.deliveryId !== deliveryId)) {
            others.push(message);
            continue;
          }
          await handle(message);
          await this.options.sqs.send(new DeleteMessageCommand({ QueueUrl: this.options.deadLetterQueueUrl, ReceiptHandle: message.ReceiptHandle }));
          handled++;
        }
      }
    } finally {
      await Promise.all(
        others.map((message) =>
          this.options.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.options.deadLetterQueueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 })),
        ),
      );
    }
    return handled;
  }

  private async receive(visibilityTimeout: number): Promise<Message[]> {
    const out = await this.options.sqs.send(
      new ReceiveMessageCommand({
      QueueUrl: this.options.deadLetterQueueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: visibilityTimeout,
      WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
      MessageAttributeNames: ['All'],
      }),
    );
    return out.Messages ?? [];
  }
}

function parse(message: Message): Delivery | undefined {
  try {
    return deliveryFromMessage(message.Body ?? '');
  } catch {
    return undefined;
  }
}

function toDeadLetter(message: Message): DeadLetter | undefined {
  const delivery = parse(message);
  if (!delivery) return undefined;
  // Set by the worker when it dead-letters a delivery itself; absent when the queue's redrive moved it.
  const attribute = (name: string) => message.MessageAttributes?.[name]?.StringValue;
  const sent = Number(attribute(DEAD_LETTER_ATTRIBUTES.acceptedAt) ?? message.Attributes?.SentTimestamp);
  const deadAt = Number(attribute(DEAD_LETTER_ATTRIBUTES.deadLetteredAt));
  return deadLetterOf(delivery, {
    attempts: Number(attribute(DEAD_LETTER_ATTRIBUTES.attempts) ?? message.Attributes?.ApproximateReceiveCount ?? 0),
    acceptedAt: new Date(Number.isFinite(sent) ? sent : Date.now()).toISOString(),
    ...(Number.isFinite(deadAt) ? { deadLetteredAt: new Date(deadAt).toISOString() } : {}),
    error: attribute(DEAD_LETTER_ATTRIBUTES.error) ?? ERROR,
  });
}
