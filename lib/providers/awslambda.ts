import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { callAws, short, type AwsClientCache } from './aws';
import type { LambdaConfig } from './config';
import { TargetError, type InvocationContext, type Provider } from './provider';

/**
 * The `awslambda` provider: a synchronous (RequestResponse) Invoke whose payload is the event. The
 * function's answer is the result; an answer flagged with a FunctionError is a failed call.
 */
export function lambdaProvider(config: LambdaConfig, clients: AwsClientCache): Provider {
  const client = clients.clientFor('lambda', config, (settings) => new LambdaClient(settings));
  const what = `Lambda function ${config.arn}`;
  return {
    invoke: async (payload, context) => {
      const command = new InvokeCommand({ FunctionName: config.arn, InvocationType: 'RequestResponse', Payload: payload, ...clientContext(context) });
      const out = await callAws(clients, what, command, (abortSignal) => client.send(command, { abortSignal }), context?.signal);
      const answer = Buffer.from(out.Payload ?? new Uint8Array());
      if (out.FunctionError) {
        throw new TargetError('function-error', `${what} failed (${out.FunctionError}): ${describeFailure(answer)}`);
      }
      return answer;
    },
  };
}

/**
 * The delivery's IDs (so that the function can de-duplicate) and the W3C trace context as the
 * function's `context.clientContext.custom`.
 */
function clientContext(context: InvocationContext | undefined): { ClientContext?: string } {
  if (!context?.deliveryId && !context?.eventId && !context?.traceparent) return {};
  const custom = { deliveryId: context.deliveryId, eventId: context.eventId, traceparent: context.traceparent, tracestate: context.tracestate };
  return { ClientContext: Buffer.from(JSON.stringify({ custom })).toString('base64') };
}

/** `errorType: errorMessage` of Lambda's error document, or the start of whatever came back. */
function describeFailure(answer: Buffer): string {
  try {
    const doc = JSON.parse(answer.toString('utf8')) as { errorType?: unknown; errorMessage?: unknown };
    if (typeof doc.errorMessage === 'string') return short(`${String(doc.errorType ?? 'Error')}: ${doc.errorMessage}`);
  } catch {
    // not JSON: fall through to the raw text
  }
  return short(answer.toString('utf8'));
}
