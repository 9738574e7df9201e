import { AwsApi } from '../aws-api/client';
import { callAws, short, type AwsClientCache } from './aws';
import type { LambdaConfig } from './config';
import { TargetError, type InvocationContext, type Provider } from './provider';

/**
 * The `awslambda` provider: a synchronous (RequestResponse) Invoke whose payload is the event. The
 * function's answer is the result; an answer flagged with a FunctionError is a failed call.
 */
export function lambdaProvider(config: LambdaConfig, clients: AwsClientCache): Provider {
  const api = clients.clientFor('lambda', config, (settings) => new AwsApi({ ...settings, service: 'lambda' }));
  const what = `Lambda function ${config.arn}`;
  // Lambda's REST API: the function name (or ARN, with a qualifier) is one escaped path segment.
  const path = `/2015-03-31/functions/${encodeURIComponent(config.arn)}/invocations`;
  return {
    invoke: async (payload, context) => {
      const headers = { 'content-type': 'application/octet-stream', 'x-amz-invocation-type': 'RequestResponse', ...clientContext(context) };
      const out = await callAws(clients, what, (abortSignal) => api.post({ path, headers, body: payload, abortSignal }), context?.signal);
      const functionError = out.headers['x-amz-function-error'];
      if (functionError) {
        throw new TargetError('function-error', `${what} failed (${functionError}): ${describeFailure(out.body)}`);
      }
      return out.body;
    },
  };
}

/** The delivery's IDs as the function's `context.clientContext.custom`, so that it can de-duplicate. */
function clientContext(context: InvocationContext | undefined): { 'x-amz-client-context'?: string } {
  if (!context?.deliveryId && !context?.eventId) return {};
  const custom = { deliveryId: context.deliveryId, eventId: context.eventId };
  return { 'x-amz-client-context': Buffer.from(JSON.stringify({ custom })).toString('base64') };
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
