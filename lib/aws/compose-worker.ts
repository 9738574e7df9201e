import { connectorFactories } from '../providers/connectors';
import { composeRouter, type AwsConfig, type ComposeOptions } from './compose';

/** The worker handler's parts: every provider, connectors included (it emits system events, so it enqueues too). */
export function composeWorker(config: AwsConfig, options: ComposeOptions = {}) {
  return composeRouter(config, options, connectorFactories);
}
