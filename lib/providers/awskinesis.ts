import { randomUUID } from 'node:crypto';
import { KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { callAws, connectorAnswer, type AwsClientCache } from './aws';
import type { KinesisConfig } from './config';
import type { InvocationContext, Provider } from './provider';
import { eventWithTraceContext } from '../tracing/event-extension';

/**
 * The `awskinesis` connector: the event is put as one record. Its partition key is the event's ID
 * (the default: spreads events over shards) or its type (`partitionKey: "eventType"`: keeps the order
 * of the events of one type).
 */
export function kinesisProvider(config: KinesisConfig, clients: AwsClientCache): Provider {
  const client = clients.clientFor('kinesis', config, (settings) => new KinesisClient(settings));
  const what = `Kinesis stream ${config.streamName}`;
  return {
    invoke: async (payload, context) => {
      const command = new PutRecordCommand({
        StreamName: config.streamName,
        Data: Buffer.from(eventWithTraceContext(payload, context)),
        PartitionKey: partitionKey(config.partitionKey ?? 'eventID', payload, context),
      });
      const out = await callAws(clients, what, command, (abortSignal) => client.send(command, { abortSignal }), context?.signal);
      return connectorAnswer({ shardId: out.ShardId, sequenceNumber: out.SequenceNumber });
    },
  };
}

/** Kinesis accepts 1 to 256 characters. */
function partitionKey(choice: 'eventType' | 'eventID', payload: string, context: InvocationContext | undefined): string {
  const key = (choice === 'eventType' ? context?.eventType : context?.eventId) ?? fromEvent(choice, payload);
  return key ? key.slice(0, 256) : randomUUID();
}

/** Reads the attribute from the event itself, in CloudEvents 0.1 or 1.0 form, when the context lacks it. */
function fromEvent(choice: 'eventType' | 'eventID', payload: string): string | undefined {
  try {
    const event = JSON.parse(payload) as Record<string, unknown>;
    const value = choice === 'eventType' ? (event.eventType ?? event.type) : (event.eventID ?? event.id);
    return typeof value === 'string' && value !== '' ? value : undefined;
  } catch {
    return undefined;
  }
}
