import { FirehoseClient, PutRecordCommand } from '@aws-sdk/client-firehose';
import { callAws, connectorAnswer, type AwsClientCache } from './aws';
import type { FirehoseConfig } from './config';
import type { Provider } from './provider';
import { eventWithTraceContext } from '../tracing/event-extension';

/**
 * The `awsfirehose` connector: the event is put as one record ending in a newline, so that the
 * objects Firehose writes (S3 and the like) are newline-delimited JSON.
 */
export function firehoseProvider(config: FirehoseConfig, clients: AwsClientCache): Provider {
  const client = clients.clientFor('firehose', config, (settings) => new FirehoseClient(settings));
  const what = `Firehose delivery stream ${config.deliveryStreamName}`;
  return {
    invoke: async (payload, context) => {
      const record = eventWithTraceContext(payload, context);
      const command = new PutRecordCommand({ DeliveryStreamName: config.deliveryStreamName, Record: { Data: Buffer.from(`${record}\n`) } });
      const out = await callAws(clients, what, command, (abortSignal) => client.send(command, { abortSignal }), context?.signal);
      return connectorAnswer({ recordId: out.RecordId });
    },
  };
}
