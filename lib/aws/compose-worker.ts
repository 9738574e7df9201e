import { SqsApi } from '../aws-api/sqs';
import { SqsRetries } from '../delivery/sqs-retries';
import { connectorFactories } from '../providers/connectors';
import { composeRouter, type AwsConfig, type ComposeOptions } from './compose';

/**
 * The worker handler's parts: every provider, connectors included (it emits system events, so it
 * enqueues too), and the delivery retry policy on SQS: backoff, then the dead-letter queue.
 */
export function composeWorker(config: AwsConfig, options: ComposeOptions = {}) {
  const parts = composeRouter(config, options, connectorFactories);
  const queueUrl = config.queueUrl as string;
  const sqs = new SqsApi({ queueUrl, ...(config.sqsEndpoint ? { endpoint: config.sqsEndpoint } : {}) });
  const retries = new SqsRetries({ sqs, queueUrl, logger: parts.logger, ...(config.deadLetterQueueUrl ? { deadLetterQueueUrl: config.deadLetterQueueUrl } : {}) });
  return { ...parts, retries };
}
