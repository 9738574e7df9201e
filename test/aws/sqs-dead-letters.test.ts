import type { SQSClient } from '@aws-sdk/client-sqs';
import { sqsClient } from '../../lib/delivery/sqs-client';
import { SqsDeadLetters } from '../../lib/delivery/sqs-dead-letters';
import { deliveryToMessage } from '../../lib/delivery/sqs-message';
import type { Delivery } from '../../lib/delivery/queue';
import { SqsLoopback } from '../support/sqs-loopback';

const delivery = (space: string, id: string): Delivery => ({
  deliveryId: id,
  space,
  subscriptionId: 'sub',
  functionId: 'fn',
  eventType: 'job',
  eventId: `event-${id}`,
  payload: JSON.stringify({ eventID: `event-${id}` }),
});

describe('dead letters on the SQS dead-letter queue', () => {
  let sqs: SqsLoopback;
  let client: SQSClient;
  let deadLetters: SqsDeadLetters;
  beforeEach(async () => {
    sqs = await SqsLoopback.start();
    client = sqsClient(sqs.queueUrl('dlq'), { endpoint: sqs.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
    deadLetters = new SqsDeadLetters({ sqs: client, deadLetterQueueUrl: sqs.queueUrl('dlq'), queueUrl: sqs.queueUrl('deliveries') });
    // SQS's redrive policy would put these here after too many receives.
    for (const d of [delivery('space1', 'a'), delivery('space1', 'b'), delivery('space2', 'c')]) sqs.store(sqs.queueUrl('dlq'), deliveryToMessage(d));
    sqs.store(sqs.queueUrl('dlq'), 'not a delivery');
  });
  afterEach(async () => {
    client.destroy();
    await sqs.close();
  });

  it('lists the dead letters of a space, leaving them in the queue', async () => {
    const letters = await deadLetters.list('space1');
    expect(letters.map((l) => l.deliveryId).sort()).toEqual(['a', 'b']);
    expect(letters[0]).toMatchObject({ space: 'space1', functionId: 'fn', eventType: 'job', attempts: 5, event: { eventID: expect.stringMatching(/^event-/) } });
    expect(sqs.queue(sqs.queueUrl('dlq'))).toHaveLength(4);
  });

  it('replays one dead letter into the delivery queue and leaves the others where they were', async () => {
    expect(await deadLetters.replay('space1', 'b')).toBe(1);
    const replayed = sqs.queue(sqs.queueUrl('deliveries')).map((m) => JSON.parse(m.Body).deliveryId);
    expect(replayed).toEqual(['b']);
    const remaining = sqs.queue(sqs.queueUrl('dlq')).map((m) => m.Body);
    expect(remaining).toHaveLength(3);
    expect(remaining).toContain('not a delivery');
    expect(sqs.calls.filter((c) => c.target === 'AmazonSQS.SendMessage')).toHaveLength(1);
  });

  it('deletes all dead letters of a space and nothing of another', async () => {
    expect(await deadLetters.remove('space1')).toBe(2);
    expect((await deadLetters.list('space2')).map((l) => l.deliveryId)).toEqual(['c']);
    expect(await deadLetters.list('space1')).toEqual([]);
  });

  it('answers 0 for a dead letter that is not there', async () => {
    expect(await deadLetters.replay('space1', 'nothing')).toBe(0);
    expect(sqs.queue(sqs.queueUrl('dlq'))).toHaveLength(4);
  });
});
