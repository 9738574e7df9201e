import { SQSClient } from '@aws-sdk/client-sqs';
import { sdkClientConfig, type AwsConnection } from '../aws/sdk-config';

/**
 * The SQS client of a queue. Without an endpoint the SDK sends each call to its queue URL's own host
 * (useQueueUrlAsEndpoint); without a region it takes the queue URL's, then the SDK's usual sources.
 */
export function sqsClient(queueUrl: string, connection: AwsConnection = {}): SQSClient {
  const region = connection.region ?? regionOfQueueUrl(queueUrl);
  return new SQSClient(sdkClientConfig({ ...connection, ...(region ? { region } : {}) }));
}

/** `https://sqs.eu-west-1.amazonaws.com/…` → `eu-west-1`. */
export function regionOfQueueUrl(url: string): string | undefined {
  return /^https?:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com/.exec(url)?.[1];
}
