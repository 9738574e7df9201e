import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { IncomingRequest } from '../events/request';
import type { GatewayResponse } from '../gateway/response';
import type { EventRouter } from '../gateway/router';
import { withConfigAccess, type ConfigAccess } from '../http/config-access';
import type { ConfigApi } from '../http/config-api';
import type { EmfMetrics } from '../metrics/emf';
import { requestFromApiGateway, responseToApiGateway } from './apigw';
import type { JsonLogger } from './logger';
import { httpErrorBoundary, metricsFlush, requestLogging } from './middleware';
import type { SqsRetries } from '../delivery/sqs-retries';
import { deliverBatch } from './sqs-batch';

interface Observed {
  logger: JsonLogger;
  metrics: EmfMetrics;
}

/** An API Gateway HTTP API handler around a neutral request → response function. */
function httpHandler(parts: Observed, handle: (req: IncomingRequest) => Promise<GatewayResponse>) {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(requestLogging(parts.logger))
    .use(metricsFlush(parts.metrics))
    .use(httpErrorBoundary(parts.logger))
    .handler(async (event) => responseToApiGateway(await handle(requestFromApiGateway(event))));
}

/** The Events API Lambda handler. */
export function eventsHandler(parts: Observed & { router: EventRouter }) {
  return httpHandler(parts, (req) => parts.router.handle(req));
}

/** The Config API Lambda handler. */
export function configHandler(parts: Observed & { configApi: ConfigApi; access?: ConfigAccess }) {
  const handle = (req: IncomingRequest) => parts.configApi.handle(req);
  // Key mode: the same check as the local server, so that refusals are the contract's JSON 401/403.
  return httpHandler(parts, parts.access ? withConfigAccess(handle, parts.access) : handle);
}

/** The SQS worker: performs each message's delivery and reports the failed ones by message ID. */
export function workerHandler(parts: Observed & { router: EventRouter; retries: SqsRetries }) {
  return middy<SQSEvent, SQSBatchResponse>()
    .use(requestLogging(parts.logger))
    .use(metricsFlush(parts.metrics))
    .handler(async (event) => ({ batchItemFailures: await deliverBatch(event.Records, parts.router.deliver, parts.retries) }));
}
