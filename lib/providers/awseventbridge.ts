import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { isThrottlingError } from '@smithy/core/retry';
import type { SdkError } from '@smithy/types';
import { callAws, connectorAnswer, short, type AwsClientCache } from './aws';
import type { EventBridgeConfig } from './config';
import { TargetError, type Provider } from './provider';
import { eventWithTraceContext } from '../tracing/event-extension';

/** The `source` of the entries when the function does not set one. */
export const DEFAULT_EVENTBRIDGE_SOURCE = 'event-gateway';

/**
 * The `awseventbridge` connector: one PutEvents entry whose Detail is the event. DetailType is the
 * configured one or the event's type. PutEvents answers 200 even when the entry was refused, so a
 * FailedEntryCount above 0 is a failed call.
 */
export function eventBridgeProvider(config: EventBridgeConfig, clients: AwsClientCache): Provider {
  const client = clients.clientFor('eventbridge', config, (settings) => new EventBridgeClient(settings));
  const what = `EventBridge bus ${config.eventBusName}`;
  return {
    invoke: async (payload, context) => {
      const entry = {
        EventBusName: config.eventBusName,
        Source: config.source ?? DEFAULT_EVENTBRIDGE_SOURCE,
        DetailType: config.detailType ?? context?.eventType ?? 'event',
        Detail: eventWithTraceContext(payload, context),
      };
      const command = new PutEventsCommand({ Entries: [entry] });
      const out = await callAws(clients, what, command, (abortSignal) => client.send(command, { abortSignal }), context?.signal);
      const result = out.Entries?.[0];
      if ((out.FailedEntryCount ?? 0) > 0 || result?.ErrorCode) {
        const code = result?.ErrorCode ?? 'UnknownError';
        throw new TargetError('status', `${what} refused the event: ${code}: ${short(result?.ErrorMessage)}`, { statusCode: entryStatus(code) });
      }
      return connectorAnswer({ eventId: result?.EventId });
    },
  };
}

/** An HTTP-like status for an entry's error code, so that delivery retries only what may pass later. */
function entryStatus(code: string): number {
  // The SDK's classification of the entry's code, as for a whole call's error.
  if (isThrottlingError({ name: code, $metadata: {} } as unknown as SdkError)) return 429;
  if (code === 'InternalFailure' || code === 'InternalException') return 500;
  return 400;
}
