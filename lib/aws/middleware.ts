import type { MiddlewareObj } from '@middy/core';
import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { errorResponse } from '../gateway/response';
import type { Logger } from '../logger';
import { responseToApiGateway } from './apigw';
import type { PowertoolsGatewayMetrics } from './metrics';

/** What every handler reports through: Powertools' logger and metrics. */
export interface Observed {
  log: PowertoolsLogger;
  logger: Logger;
  metrics: PowertoolsGatewayMetrics;
}

/**
 * Powertools' middlewares, outermost first: the Lambda context in every log line (request ID, cold
 * start, function name), EMF metrics published when the invocation ends (with the cold-start metric),
 * and the gateway's gathered figures handed to them just before. (Tracing is Lambda's own X-Ray active tracing, with W3C trace context derived from it: see README, Tracing.)
 */
export function observability(parts: Observed): MiddlewareObj[] {
  return [
    injectLambdaContext(parts.log, { resetKeys: true }),
    logMetrics(parts.metrics.metrics, { captureColdStartMetric: true }),
    gatewayMetricsFlush(parts.metrics),
  ];
}

/** Hands the invocation's gathered metrics to Powertools; runs before logMetrics publishes (middy runs `after` in reverse). */
function gatewayMetricsFlush(metrics: PowertoolsGatewayMetrics): MiddlewareObj {
  const flush = () => metrics.flush();
  return { name: 'gatewayMetricsFlush', after: flush, onError: flush };
}

/**
 * The last line of defence of an HTTP handler: an unexpected error becomes the contract's JSON 500,
 * logged with its stack but never shown to the client.
 */
export function httpErrorBoundary(logger: Logger): MiddlewareObj {
  return {
    name: 'httpErrorBoundary',
    onError: (request) => {
      logger.error({ err: request.error }, 'request failed');
      request.response = responseToApiGateway(errorResponse(500, 'Internal server error.'));
    },
  };
}
