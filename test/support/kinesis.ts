import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateStreamCommand, DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import kinesalite from 'kinesalite';

/** Static keys for tests: kinesalite and the fakes take any signed request. */
export const TEST_CREDENTIALS = { awsAccessKeyId: 'AKIDTESTKEY', awsSecretAccessKey: 'test-secret-key-do-not-leak' };

/** kinesalite in-process on loopback, with a reader client to check what arrived. */
export class LocalKinesis {
  private constructor(
    private readonly server: Server,
    private readonly client: KinesisClient,
  ) {}

  static async start(): Promise<LocalKinesis> {
    const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = new KinesisClient({
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: TEST_CREDENTIALS.awsAccessKeyId, secretAccessKey: TEST_CREDENTIALS.awsSecretAccessKey },
      requestHandler: new NodeHttpHandler(),
    });
    return new LocalKinesis(server, client);
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Creates a one-shard stream and waits until it is ACTIVE. */
  async createStream(name: string): Promise<void> {
    await this.client.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
    for (let i = 0; i < 100; i++) {
      const out = await this.client.send(new DescribeStreamCommand({ StreamName: name }));
      if (out.StreamDescription?.StreamStatus === 'ACTIVE') return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`stream ${name} never became active`);
  }

  /** Every record in the stream's first shard, from the start. */
  async records(name: string): Promise<Array<{ data: string; partitionKey: string }>> {
    const shardId = (await this.client.send(new DescribeStreamCommand({ StreamName: name }))).StreamDescription?.Shards?.[0]?.ShardId;
    const iterator = await this.client.send(new GetShardIteratorCommand({ StreamName: name, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }));
    const out = await this.client.send(new GetRecordsCommand({ ShardIterator: iterator.ShardIterator }));
    return (out.Records ?? []).map((r) => ({ data: Buffer.from(r.Data ?? new Uint8Array()).toString('utf8'), partitionKey: r.PartitionKey ?? '' }));
  }

  /** Waits until the stream holds `count` records and returns them. */
  async waitForRecords(name: string, count: number, timeoutMs = 10_000): Promise<Array<{ data: string; partitionKey: string }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const records = await this.records(name);
      if (records.length >= count || Date.now() > deadline) return records;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
