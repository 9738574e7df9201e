import type { SQSBatchItemFailure, SQSRecord } from 'aws-lambda';
import type { DeliveryHandler } from '../delivery/queue';
import type { SqsRetries } from '../delivery/sqs-retries';

/**
 * Performs the deliveries of one SQS batch concurrently and names the messages to try again, so that
 * SQS retries only those: a failed delivery comes back after its backoff or, once its subscription's
 * retry policy is used up (or at once, for a failure no retry can fix), moves to the dead-letter queue
 * and is reported done (see SqsRetries).
 */
export async function deliverBatch(records: SQSRecord[], deliver: DeliveryHandler, retries: SqsRetries): Promise<SQSBatchItemFailure[]> {
  const outcomes = await Promise.all(
    records.map((record) =>
      retries.deliver(
        {
          messageId: record.messageId,
          receiptHandle: record.receiptHandle,
          body: record.body,
          receiveCount: Number(record.attributes.ApproximateReceiveCount),
          sentAt: Number(record.attributes.SentTimestamp),
          attributes: Object.fromEntries(Object.entries(record.messageAttributes ?? {}).map(([name, value]) => [name, value.stringValue])),
        },
        deliver,
      ),
    ),
  );
  return records.filter((_record, i) => outcomes[i] === 'retry').map((record) => ({ itemIdentifier: record.messageId }));
}
