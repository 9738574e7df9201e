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

/** The delivery's IDs (so that consumers can de-duplicate retries) and the W3C trace context as message attributes. */
function deliveryAttributes(context: InvocationContext | undefined): Record<string, MessageAttributeValue> | undefined {
  const attributes: Record<string, MessageAttributeValue> = {};
  if (context?.deliveryId) attributes['event-gateway-delivery-id'] = { DataType: 'String', StringValue: context.deliveryId };
  if (context?.eventId) attributes['event-gateway-event-id'] = { DataType: 'String', StringValue: context.eventId };
  if (context?.traceparent) attributes.traceparent = { DataType: 'String', StringValue: context.traceparent };
  if (context?.tracestate) attributes.tracestate = { DataType: 'String', StringValue: context.tracestate };
  return Object.keys(attributes).length > 0 ? attributes : undefined;
}
