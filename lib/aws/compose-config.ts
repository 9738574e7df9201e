import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { sqsClient } from '../delivery/sqs-client';
import { SqsDeadLetters } from '../delivery/sqs-dead-letters';
import { gatewayStatus } from '../health';
import { ConfigAccess } from '../http/config-access';
import { ConfigApi } from '../http/config-api';
import { consoleDirectory } from '../http/console';
import { join } from 'node:path';
import { RegistryService } from '../registry/service';
import { composeBase, type AwsConfig } from './compose';
import { SecretAccessKeys } from './config-keys';
import { sdkClientConfig } from './sdk-config';

// Apart from compose.ts so that the Config API's router (find-my-way) stays out of the events and worker bundles.

/** The Config API handler's parts. */
export function composeConfig(config: AwsConfig) {
  const base = composeBase(config);
  const registry = new RegistryService(base.store);
  const renderMetrics = async () => ({
    contentType: 'text/plain; charset=utf-8',
    body: '# On AWS the gateway reports to CloudWatch (namespace EventGateway), not here.\n',
  });
  const deadLetters =
    config.deadLetterQueueUrl && config.queueUrl
      ? new SqsDeadLetters({
          sqs: sqsClient(config.deadLetterQueueUrl, config.sqsEndpoint ? { endpoint: config.sqsEndpoint } : {}),
          deadLetterQueueUrl: config.deadLetterQueueUrl,
          queueUrl: config.queueUrl,
        })
      : undefined;
  const status = () => gatewayStatus({ registry: base.registryHealth });
  // The stack copies dist/console next to the bundle (see GatewayStack); from the sources (tests) it is the repository's
  // dist/console. The console polls here: there is no tail on AWS.
  const consoleFiles = consoleDirectory([join(__dirname, 'console'), join(__dirname, '..', '..', 'dist', 'console')]);
  const configApi = new ConfigApi({ registry, metrics: base.metrics, logger: base.logger, renderMetrics, status, console: consoleFiles, ...(deadLetters ? { deadLetters } : {}) });
  if (config.configKeysSecret) {
    const client = new SecretsManagerClient(sdkClientConfig(config.secretsManagerEndpoint ? { endpoint: config.secretsManagerEndpoint } : {}));
    const keys = new SecretAccessKeys({ client, secretId: config.configKeysSecret, logger: base.logger, ...(config.configKeysTtlMs !== undefined ? { ttlMs: config.configKeysTtlMs } : {}) });
    // Read during the cold start, before the first request waits on it; it never rejects (failures refuse requests).
    void keys.current();
    return { ...base, configApi, keys };
  }
  const access = config.accessKeys.length > 0 ? new ConfigAccess({ keys: config.accessKeys, withoutKeys: 'read-only' }) : undefined;
  return { ...base, configApi, ...(access ? { access } : {}) };
}
