import { providerDeps, type ProviderDeps, type ProviderDepsOptions } from './factories';
import { createHttpAgent, undiciTransport } from './http-undici';

export { allProviderFactories } from './connectors';
export { nodeProviderDeps, providerDeps, type ProviderDeps, type ProviderDepsOptions } from './factories';

/**
 * Provider dependencies of the local server (see providerDeps for the defaults): HTTP targets through
 * undici, one shared keep-alive pool whose connector applies the target network policy.
 */
export function defaultProviderDeps(overrides: ProviderDepsOptions = {}): ProviderDeps {
  return providerDeps((policy) => {
    const pool = createHttpAgent(policy);
    return { transport: undiciTransport(pool), close: () => pool.close() };
  }, overrides);
}
