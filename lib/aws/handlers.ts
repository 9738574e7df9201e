import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { IncomingRequest } from '../events/request';
import type { GatewayResponse } from '../gateway/response';
import type { EventRouter } from '../gateway/router';
import { withConfigAccess, type ConfigAccess } from '../http/config-access';
import type { ConfigApi } from '../http/config-api';
import { requestFromApiGateway, responseToApiGateway } from './apigw';
import { httpErrorBoundary, observability, type Observed } from './middleware';
import type { SqsRetries } from '../delivery/sqs-retries';
import { deliverBatch } from './sqs-batch';
import { withSecretConfigAccess, type SecretAccessKeys } from './config-keys';

/**
 * Time kept back from target and authorizer calls for what follows them: an HTTP handler answers
 * (and API Gateway relays) within it; the worker reports outcomes, moves dead letters, sets backoffs.
 */
export const HTTP_TIME_MARGIN_MS = 1500;
export const WORKER_TIME_MARGIN_MS = 5000;

/** A signal that aborts when the invocation has only `marginMs` left. */
export function timeLeftSignal(context: Context, marginMs: number): AbortSignal {
  return AbortSignal.timeout(Math.max(0, context.getRemainingTimeInMillis() - marginMs));
}

/** An API Gateway HTTP API handler around a neutral request → response function. */
function httpHandler(parts: Observed, handle: (req: IncomingRequest) => Promise<GatewayResponse>) {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(observability(parts))
    .use(httpErrorBoundary(parts.logger))
    .handler(async (event, context) => {
      // Calls end before the function's timeout (itself under API Gateway's 30 s), so the answer is always ours.
      const req = { ...requestFromApiGateway(event), signal: timeLeftSignal(context, HTTP_TIME_MARGIN_MS) };
      return responseToApiGateway(await handle(req));
    });
}

/** The Events API Lambda handler. */
export function eventsHandler(parts: Observed & { router: EventRouter }) {
  return httpHandler(parts, (req) => parts.router.handle(req));
}

/** The Config API Lambda handler. */
export function configHandler(parts: Observed & { configApi: ConfigApi; access?: ConfigAccess; keys?: SecretAccessKeys }) {
  const handle = (req: IncomingRequest) => parts.configApi.handle(req);
  // Key mode: the same check as the local server, so that refusals are the contract's JSON 401/403.
  if (parts.keys) return httpHandler(parts, withSecretConfigAccess(handle, parts.keys));
  return httpHandler(parts, parts.access ? withConfigAccess(handle, parts.access) : handle);
}

/** The SQS worker: performs each message's delivery and reports the failed ones by message ID. */
export function workerHandler(parts: Observed & { router: EventRouter; retries: SqsRetries }) {
  return middy<SQSEvent, SQSBatchResponse>()
    .use(observability(parts))
    .handler(async (event, context) => {
      // Each delivery ends while the batch still has time to report it: a slow target never times the batch out.
      const signal = timeLeftSignal(context, WORKER_TIME_MARGIN_MS);
      return { batchItemFailures: await deliverBatch(event.Records, (delivery, attempt) => parts.router.deliver(delivery, attempt, signal), parts.retries) };
    });
}
