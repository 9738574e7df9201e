import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { errorResponse } from '../gateway/response';
import type { EmfMetrics } from '../metrics/emf';
import { responseToApiGateway } from './apigw';
import type { JsonLogger } from './logger';

/** Tags every log line of an invocation with its request ID. */
export function requestLogging(logger: JsonLogger): MiddlewareObj<unknown, unknown, Error, Context> {
  return {
    name: 'requestLogging',
    before: (request) => {
      logger.context = { requestId: request.context.awsRequestId };
    },
  };
}

/** Writes the invocation's metrics as EMF when it ends, successfully or not. */
export function metricsFlush(metrics: EmfMetrics): MiddlewareObj {
  const flush = () => metrics.flush();
  return { name: 'metricsFlush', after: flush, onError: flush };
}

/**
 * The last line of defence of an HTTP handler: an unexpected error becomes the contract's JSON 500,
 * logged with its stack but never shown to the client.
 */
export function httpErrorBoundary(logger: JsonLogger): MiddlewareObj {
  return {
    name: 'httpErrorBoundary',
    onError: (request) => {
      logger.error({ err: request.error }, 'request failed');
      request.response = responseToApiGateway(errorResponse(500, 'Internal server error.'));
    },
  };
}
