import { SqsRetries } from '../delivery/sqs-retries';
import { connectorFactories } from '../providers/connectors';
import type { ConnectorFactories } from '../providers/factories';
import { TargetError } from '../providers/provider';
import { composeRouter, type AwsConfig, type ComposeOptions } from './compose';

/**
 * The worker handler's parts: every provider, connectors included (it emits system events, so it
 * enqueues too), and the delivery retry policy on SQS: backoff, then the dead-letter queue.
 */
export function composeWorker(config: AwsConfig, options: ComposeOptions = {}) {
  const ownQueues = [config.queueUrl, config.deadLetterQueueUrl].filter((url): url is string => url !== undefined);
  const parts = composeRouter(config, options, (deps) => withoutOwnQueues(connectorFactories(deps), ownQueues));
  const queueUrl = config.queueUrl as string;
  // The delivery queue's client: one SQS client per handler. The circuit breakers live as long as the
  // execution environment: each environment learns by itself that a target is down, parks that target's
  // messages (new delayed messages, no attempt spent) and probes it once per open interval.
  const retries = new SqsRetries({
    sqs: parts.sqsClient,
    queueUrl,
    logger: parts.logger,
    ...(config.deadLetterQueueUrl ? { deadLetterQueueUrl: config.deadLetterQueueUrl } : {}),
    onCircuitChange: (space, functionId, state) => parts.metrics.circuitChanged(space, functionId, state),
  });
  return { ...parts, retries };
}

/** A queue's identity whatever form its URL takes (sqs.<region>.amazonaws.com, queue.amazonaws.com, …): account and name. */
function queueIdentity(url: string): string {
  try {
    return new URL(url).pathname.split('/').filter((s) => s !== '').slice(-2).join('/');
  } catch {
    return url;
  }
}

/**
 * Refuses `awssqs` functions naming the gateway's own delivery or dead-letter queue. The worker's role
 * may send there (it enqueues system events and dead letters), and IAM cannot tell that send from a
 * target's, so the check is here: a registered function must not inject deliveries or dead letters.
 */
function withoutOwnQueues(connectors: ConnectorFactories, ownQueueUrls: string[]): ConnectorFactories {
  const own = new Set(ownQueueUrls.map(queueIdentity));
  const refused = { invoke: () => Promise.reject(new TargetError('refused', "the gateway's own queues are not targets")) };
  return { ...connectors, awssqs: (config) => (own.has(queueIdentity(config.queueUrl)) ? refused : connectors.awssqs(config)) };
}
