import { Tracer } from '@aws-lambda-powertools/tracer';
import { SERVICE_NAME } from './logging';

/**
 * The handlers' X-Ray tracer (Powertools Tracer), one per process, for whatever wires tracing into
 * the handlers: its middy middleware `captureLambdaHandler(tracer)` (from
 * `@aws-lambda-powertools/tracer/middleware`) opens a segment per invocation, and `traced(client)`
 * makes each call of an AWS SDK client a subsegment (AwsClientCache's `instrument` option applies it to
 * the providers' clients; the store's and the queue's clients are `store.client` and `queue.sqs`).
 * Off outside Lambda, and with POWERTOOLS_TRACE_ENABLED=false.
 *
 * Not wired into the handlers yet: the Tracer brings aws-xray-sdk-core (with semver, cls-hooked…,
 * ≈ 125 KB minified), which takes the Events API bundle to 532 KB, over its 500 KB budget (issue 12).
 * Nothing imports this module today, so no bundle carries it.
 */
export const tracer = new Tracer({ serviceName: SERVICE_NAME });

/** Captures an AWS SDK v3 client's calls as X-Ray subsegments; returns the client. */
export function traced<C>(client: C): C {
  return tracer.captureAWSv3Client(client);
}
