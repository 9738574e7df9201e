import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsCredentialIdentity } from '@smithy/types';

/**
 * How to reach an AWS service. What is left out, the SDK resolves the way every AWS tool does: the
 * region from AWS_REGION or the profile's `region` in ~/.aws/config (AWS_PROFILE, AWS_CONFIG_FILE),
 * the endpoint from AWS_ENDPOINT_URL_<SERVICE> / AWS_ENDPOINT_URL, the credentials from its default
 * chain (environment, shared files, SSO, web identity, the instance or task role).
 */
export interface AwsConnection {
  region?: string;
  /** Another endpoint than the service's own (DynamoDB Local, a loopback stand-in, a VPC endpoint). */
  endpoint?: string;
  credentials?: AwsCredentialIdentity;
  /** Attempts per call; the SDK retries throttling, 5xx, timeouts and dropped connections. The SDK's default (3, or AWS_MAX_ATTEMPTS) when unset. */
  maxAttempts?: number;
  /** How long one attempt may take before it fails (30 s by default; SQS long polls wait 20 s at most). */
  requestTimeoutMs?: number;
  /** A handler to share keep-alive connections through (its own timeouts then apply). */
  requestHandler?: NodeHttpHandler;
}

/** The client configuration of an AWS SDK v3 client (DynamoDB, SQS, Lambda) for a connection. */
export function sdkClientConfig(connection: AwsConnection = {}) {
  const { region, endpoint, credentials, maxAttempts, requestTimeoutMs, requestHandler } = connection;
  return {
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(credentials ? { credentials } : {}),
    // Unset, the SDK's own default applies (3, or AWS_MAX_ATTEMPTS).
    ...(maxAttempts ? { maxAttempts } : {}),
    // A hung call must not hang its caller: an attempt that gets no answer in time is given up (and retried).
    requestHandler:
      requestHandler ??
      new NodeHttpHandler({
        connectionTimeout: 5_000,
        requestTimeout: requestTimeoutMs ?? 30_000,
        throwOnRequestTimeout: true,
        httpAgent: { keepAlive: true },
        httpsAgent: { keepAlive: true },
      }),
  };
}
