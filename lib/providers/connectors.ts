import { eventBridgeProvider } from './awseventbridge';
import { firehoseProvider } from './awsfirehose';
import { kinesisProvider } from './awskinesis';
import { sqsProvider } from './awssqs';
import { createProviderFactories, type ConnectorFactories, type ProviderDeps } from './factories';
import type { ProviderFactories } from './provider';

/** The connectors' factories: puts into SQS, Kinesis, Firehose and EventBridge through the AWS SDK's clients. */
export function connectorFactories(deps: ProviderDeps): ConnectorFactories {
  return {
    awssqs: (config) => sqsProvider(config, deps.aws),
    awskinesis: (config) => kinesisProvider(config, deps.aws),
    awsfirehose: (config) => firehoseProvider(config, deps.aws),
    awseventbridge: (config) => eventBridgeProvider(config, deps.aws),
  };
}

/** Every function type's factory, connectors included. */
export function allProviderFactories(deps: ProviderDeps): ProviderFactories {
  return createProviderFactories(deps, connectorFactories(deps));
}
