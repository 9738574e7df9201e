import { SendMessageCommand, SQSClient, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import { callAws, connectorAnswer, type AwsClientCache } from './aws';
import type { SqsConfig } from './config';
import type { InvocationContext, Provider } from './provider';

/** The `awssqs` connector: the event is sent as one message (body = the event JSON). */
export function sqsProvider(config: SqsConfig, clients: AwsClientCache): Provider {
  const client = clients.clientFor('sqs', config, (settings) => new SQSClient(settings));
  const what = `SQS queue ${config.queueUrl}`;
  return {
    invoke: async (payload, context) => {
      const command = new SendMessageCommand({ QueueUrl: config.queueUrl, MessageBody: payload, MessageAttributes: deliveryAttributes(context) });
      const out = await callAws(clients, what, command, (abortSignal) => client.send(command, { abortSignal }), context?.signal);
      return connectorAnswer({ messageId: out.MessageId });
    },
  };
}

/** The delivery's IDs as message attributes, so that consumers can de-duplicate retries. */
function deliveryAttributes(context: InvocationContext | undefined): Record<string, MessageAttributeValue> | undefined {
  const attributes: Record<string, MessageAttributeValue> = {};
  if (context?.deliveryId) attributes['event-gateway-delivery-id'] = { DataType: 'String', StringValue: context.deliveryId };
  if (context?.eventId) attributes['event-gateway-event-id'] = { DataType: 'String', StringValue: context.eventId };
  return Object.keys(attributes).length > 0 ? attributes : undefined;
}
