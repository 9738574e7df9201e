import type { SQSBatchItemFailure, SQSRecord } from 'aws-lambda';
import { deliveryFromMessage } from '../delivery/sqs';
import type { SqsRetries } from '../delivery/sqs-retries';
import type { Delivery, DeliveryHandler } from '../delivery/queue';
import type { Logger } from '../logger';

/**
 * Performs the deliveries of one SQS batch concurrently and names the messages to try again, so that
 * SQS retries only those. With `retries`, a failed delivery comes back after its backoff or, once its
 * subscription's retry policy is used up (or at once, for a failure no retry can fix), moves to the
 * dead-letter queue and is reported done. Without, SQS's redrive policy decides.
 */
export async function deliverBatch(records: SQSRecord[], deliver: DeliveryHandler, logger: Logger, retries?: SqsRetries): Promise<SQSBatchItemFailure[]> {
  const outcomes = await Promise.all(records.map((record) => deliverRecord(record, deliver, logger, retries)));
  return records.filter((_record, i) => outcomes[i] === 'retry').map((record) => ({ itemIdentifier: record.messageId }));
}

async function deliverRecord(record: SQSRecord, deliver: DeliveryHandler, logger: Logger, retries?: SqsRetries): Promise<'done' | 'retry'> {
  let delivery: Delivery | undefined;
  try {
    delivery = deliveryFromMessage(record.body);
    await deliver(delivery);
    return 'done';
  } catch (failure) {
    const receiveCount = Number(record.attributes.ApproximateReceiveCount);
    const outcome = retries
      ? await retries.failed({ receiptHandle: record.receiptHandle, body: record.body, receiveCount, sentAt: Number(record.attributes.SentTimestamp) }, delivery, failure)
      : 'retry';
    const err = failure instanceof Error ? failure.message : String(failure);
    const fields = { messageId: record.messageId, deliveryId: delivery?.deliveryId, receiveCount, err };
    if (outcome === 'dead-lettered') logger.warn(fields, 'delivery failed for good; moved to the dead-letter queue');
    else logger.warn(fields, 'delivery failed; SQS will retry it');
    return outcome === 'dead-lettered' ? 'done' : 'retry';
  }
}
