import { DeliveryFailure, type Delivery } from '../../lib/delivery/queue';
import { SqsQueue } from '../../lib/delivery/sqs';
import { silentLogger } from '../../lib/logger';
import { SqsLoopback } from '../support/sqs-loopback';

const delivery = (n: number): Delivery => ({
  deliveryId: `d${n}`,
  space: 'default',
  subscriptionId: 'sub',
  functionId: 'fn',
  eventType: 'user.created',
  eventId: `e${n}`,
  payload: JSON.stringify({ n }),
});

describe('SQS delivery queue', () => {
  let sqs: SqsLoopback;
  let connection: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  beforeAll(async () => {
    sqs = await SqsLoopback.start();
    connection = { endpoint: sqs.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'k', secretAccessKey: 's' } };
  });
  afterAll(async () => {
    await sqs.close();
  });
  beforeEach(() => {
    sqs.calls.length = 0;
    sqs.refuse = () => false;
  });

  it('sends deliveries with SendMessageBatch over the JSON protocol, ten per call', async () => {
    const queue = new SqsQueue({ queueUrl: sqs.queueUrl(), connection, logger: silentLogger });
    const refused = await queue.enqueue(Array.from({ length: 23 }, (_, i) => delivery(i)));
    expect(refused).toEqual([]);
    expect(sqs.calls.map((c) => c.target)).toEqual(Array(3).fill('AmazonSQS.SendMessageBatch'));
    expect(sqs.calls[0]?.contentType).toBe('application/x-amz-json-1.0');
    expect(sqs.calls.map((c) => c.signature)).toEqual(Array(3).fill('valid'));
    expect(sqs.calls.map((c) => c.body.Entries.length).sort()).toEqual([10, 10, 3]);
    expect(sqs.calls[0]?.body.QueueUrl).toBe(sqs.queueUrl());
    const bodies = sqs.sentBodies().map((b) => JSON.parse(b));
    expect(bodies.map((b) => b.deliveryId).sort()).toEqual(Array.from({ length: 23 }, (_, i) => `d${i}`).sort());
    expect(bodies[0]).toMatchObject({ space: 'default', subscriptionId: 'sub', functionId: 'fn', eventType: 'user.created' });
  });

  it('sends a refused entry once more, and fails the call when SQS keeps refusing it', async () => {
    const queue = new SqsQueue({ queueUrl: sqs.queueUrl(), connection, logger: silentLogger });
    let refusals = 0;
    sqs.refuse = (body) => JSON.parse(body).deliveryId === 'd2' && refusals++ < 1;
    expect(await queue.enqueue([delivery(1), delivery(2), delivery(3)])).toEqual([]);
    expect(sqs.sentBodies().filter((b) => JSON.parse(b).deliveryId === 'd2')).toHaveLength(2);
    sqs.refuse = (body) => JSON.parse(body).deliveryId === 'd5';
    await expect(queue.enqueue([delivery(4), delivery(5)])).rejects.toThrow('SQS refused 1 of 2 deliveries');
  });

  it('keeps each SendMessageBatch under the 256 KB limit of SQS', async () => {
    const queue = new SqsQueue({ queueUrl: sqs.queueUrl(), connection, logger: silentLogger });
    const big = (i: number) => ({ ...delivery(i), payload: JSON.stringify({ pad: 'x'.repeat(60 * 1024) }) });
    await queue.enqueue(Array.from({ length: 10 }, (_, i) => big(i)));
    const batches = sqs.calls.filter((c) => c.target === 'AmazonSQS.SendMessageBatch');
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) {
      const bytes = batch.body.Entries.reduce((n: number, e: any) => n + Buffer.byteLength(e.MessageBody), 0);
      expect(bytes).toBeLessThanOrEqual(256 * 1024);
    }
    expect(sqs.sentBodies()).toHaveLength(10);
  });

  it('polls, hands each message to the handler and deletes it when delivered', async () => {
    const queue = new SqsQueue({ queueUrl: sqs.queueUrl('polled'), connection, logger: silentLogger, poll: true, waitTimeSeconds: 0 });
    const seen: string[] = [];
    let resolveSeen: () => void = () => {};
    const done = new Promise<void>((resolve) => (resolveSeen = resolve));
    queue.start(async (d) => {
      seen.push(d.deliveryId);
      if (seen.length === 2) resolveSeen();
    });
    await queue.enqueue([delivery(7), delivery(8)]);
    await done;
    await queue.drain();
    expect(seen.sort()).toEqual(['d7', 'd8']);
    const deletes = sqs.calls.filter((c) => c.target === 'AmazonSQS.DeleteMessage');
    expect(deletes).toHaveLength(2);
  });

  it('applies the retry policy to failed deliveries: back after a backoff, or into the dead-letter queue', async () => {
    const dlqUrl = sqs.queueUrl('polled-dlq');
    const queue = new SqsQueue({ queueUrl: sqs.queueUrl('policy'), deadLetterQueueUrl: dlqUrl, connection, logger: silentLogger, poll: true, waitTimeSeconds: 0 });
    const settled = new Promise<void>((resolve) => {
      let calls = 0;
      queue.start(async (d) => {
        if (++calls === 2) setTimeout(resolve, 50);
        throw new DeliveryFailure(`target refused ${d.deliveryId}`, d.deliveryId === 'd1');
      });
    });
    try {
      await queue.enqueue([delivery(1), delivery(2)]);
      await settled;
    } finally {
      await queue.drain();
    }
    // d1 may be retried: its message is hidden for its backoff and stays in the queue.
    const hidden = sqs.calls.filter((c) => c.target === 'AmazonSQS.ChangeMessageVisibility');
    expect(hidden).toHaveLength(1);
    expect(hidden[0]?.body.VisibilityTimeout).toBeGreaterThanOrEqual(1);
    // d2 cannot be: it goes to the dead-letter queue with its error, and leaves the delivery queue.
    expect(sqs.queue(dlqUrl).map((m) => JSON.parse(m.Body).deliveryId)).toEqual(['d2']);
    expect(sqs.queue(dlqUrl)[0]?.MessageAttributes?.['eg-error']?.StringValue).toBe('target refused d2');
    expect(sqs.calls.filter((c) => c.target === 'AmazonSQS.DeleteMessage')).toHaveLength(1);
  });
});
