import type { FunctionRecord } from '../registry/types';
import type { FunctionType } from './config';
import type { Provider, ProviderFactories, ProviderFactory } from './provider';

/**
 * Providers by function, kept across routing-table rebuilds so that connections and SDK clients are
 * reused; a function whose config changed gets a new one.
 */
export class ProviderCache {
  private readonly entries = new Map<string, { config: string; provider: Provider }>();

  constructor(private readonly factories: ProviderFactories) {}

  /** The provider of a function, made once per distinct config. */
  providerFor = (fn: FunctionRecord): Provider => {
    const key = `${fn.space}\u0000${fn.functionId}`;
    const config = `${fn.type}\u0000${JSON.stringify(fn.provider)}`;
    const cached = this.entries.get(key);
    if (cached && cached.config === config) return cached.provider;
    const factory = this.factories[fn.type] as ProviderFactory<FunctionType>;
    const provider = factory(fn.provider as never);
    this.entries.set(key, { config, provider });
    return provider;
  };
}
