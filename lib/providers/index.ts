import { AwsClientCache, type AwsCallOptions } from './aws';
import { eventBridgeProvider } from './awseventbridge';
import { firehoseProvider } from './awsfirehose';
import { kinesisProvider } from './awskinesis';
import { lambdaProvider } from './awslambda';
import { sqsProvider } from './awssqs';
import { azureFunctionProvider } from './azurefunction';
import { googleCloudFunctionProvider } from './gcloudfunction';
import { createHttpAgent, httpProvider, type HttpCallOptions } from './http';
import { openWhiskProvider } from './openwhisk';
import { guardedNodeAgents, type TargetNetworkPolicy } from './target-network';
import type { ProviderFactories } from './provider';

/** Shared resources of the providers, created once per gateway. */
export interface ProviderDeps {
  http: HttpCallOptions;
  /** AWS SDK clients, one per service, region, credentials and endpoint. */
  aws: AwsClientCache;
}

/** Every function type's provider factory, in one explicit map. */
export function createProviderFactories(deps: ProviderDeps): ProviderFactories {
  return {
    http: (config) => httpProvider(config, deps.http),
    awslambda: (config) => lambdaProvider(config, deps.aws),
    awssqs: (config) => sqsProvider(config, deps.aws),
    awskinesis: (config) => kinesisProvider(config, deps.aws),
    awsfirehose: (config) => firehoseProvider(config, deps.aws),
    awseventbridge: (config) => eventBridgeProvider(config, deps.aws),
    gcloudfunction: (config) => googleCloudFunctionProvider(config, deps.http),
    azurefunction: (config) => azureFunctionProvider(config, deps.http),
    openwhisk: (config) => openWhiskProvider(config, deps.http),
  } satisfies ProviderFactories;
}

/**
 * Provider dependencies with the defaults: a shared keep-alive pool, 30 s per call, 6 MB answers,
 * up to 3 attempts per AWS call (the SDK's default, for throttling and 5xx), and the target network
 * policy applied to every connection, the AWS SDK's included (an `endpoint` override could point anywhere).
 */
export function defaultProviderDeps(
  overrides: Partial<HttpCallOptions> & Partial<Pick<AwsCallOptions, 'maxAttempts'>> & { targetNetworks?: TargetNetworkPolicy } = {},
): ProviderDeps {
  const { maxAttempts = 3, targetNetworks = {}, ...httpOverrides } = overrides;
  const dispatcher = httpOverrides.dispatcher ?? createHttpAgent(targetNetworks);
  const http: HttpCallOptions = { timeoutMs: 30_000, maxResponseBytes: 6 * 1024 * 1024, ...httpOverrides, dispatcher };
  return { http, aws: new AwsClientCache({ timeoutMs: http.timeoutMs, maxAttempts, ...guardedNodeAgents(targetNetworks) }) };
}
