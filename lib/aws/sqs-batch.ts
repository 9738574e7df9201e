import type { SQSBatchItemFailure, SQSRecord } from 'aws-lambda';
import { deliveryFromMessage } from '../delivery/sqs';
import type { DeliveryHandler } from '../delivery/queue';
import type { Logger } from '../logger';

/**
 * Performs the deliveries of one SQS batch concurrently and names the messages that failed, so that
 * SQS retries only those (and dead-letters them after the queue's maximum receive count). A body
 * that is not a delivery fails too: it can only end in the dead-letter queue.
 */
export async function deliverBatch(records: SQSRecord[], deliver: DeliveryHandler, logger: Logger): Promise<SQSBatchItemFailure[]> {
  const results = await Promise.allSettled(records.map(async (record) => deliver(deliveryFromMessage(record.body))));
  const failures: SQSBatchItemFailure[] = [];
  results.forEach((result, i) => {
    const record = records[i] as SQSRecord;
    if (result.status === 'fulfilled') return;
    const reason = result.reason instanceof Error ? result.reason.message : String(result.reason);
    logger.warn({ messageId: record.messageId, receiveCount: record.attributes.ApproximateReceiveCount, err: reason }, 'delivery failed; left to SQS to retry');
    failures.push({ itemIdentifier: record.messageId });
  });
  return failures;
}
