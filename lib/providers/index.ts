import type { FunctionType } from './config';
import { createHttpAgent, httpProvider, type HttpCallOptions } from './http';
import { TargetError, type Provider, type ProviderFactories } from './provider';

/** Shared resources of the providers, created once per gateway. */
export interface ProviderDeps {
  http: HttpCallOptions;
}

/** A provider for a type this build cannot call yet: registrations are kept, calls fail clearly. */
function notYetSupported(type: FunctionType): () => Provider {
  const error = () => new TargetError('unsupported', `function type "${type}" cannot be invoked by this gateway yet`);
  return () => ({ invoke: () => Promise.reject(error()) });
}

/** Every function type's provider factory, in one explicit map. */
export function createProviderFactories(deps: ProviderDeps): ProviderFactories {
  return {
    http: (config) => httpProvider(config, deps.http),
    awslambda: notYetSupported('awslambda'),
    awssqs: notYetSupported('awssqs'),
    awskinesis: notYetSupported('awskinesis'),
    awsfirehose: notYetSupported('awsfirehose'),
    awseventbridge: notYetSupported('awseventbridge'),
    gcloudfunction: notYetSupported('gcloudfunction'),
    azurefunction: notYetSupported('azurefunction'),
    openwhisk: notYetSupported('openwhisk'),
  } satisfies ProviderFactories;
}

/** Provider dependencies with the defaults: a shared keep-alive pool, 30 s per call, 6 MB answers. */
export function defaultProviderDeps(overrides: Partial<HttpCallOptions> = {}): ProviderDeps {
  return { http: { timeoutMs: 30_000, maxResponseBytes: 6 * 1024 * 1024, ...overrides, dispatcher: overrides.dispatcher ?? createHttpAgent() } };
}
