import { AwsClientCache, type AwsCallOptions } from './aws';
import { lambdaProvider } from './awslambda';
import { azureFunctionProvider } from './azurefunction';
import { googleCloudFunctionProvider } from './gcloudfunction';
import { httpProvider, type HttpCallOptions } from './http';
import { nodeTransport, type NodeAgents } from './http-node';
import type { HttpTransport } from './http-transport';
import { openWhiskProvider } from './openwhisk';
import { guardedNodeAgents, type TargetNetworkPolicy } from './target-network';
import { TargetError, type ProviderFactories } from './provider';

/** Shared resources of the providers, created once per gateway. */
export interface ProviderDeps {
  http: HttpCallOptions;
  /** AWS SDK clients, one per service, region, credentials and endpoint. */
  aws: AwsClientCache;
  /** Closes the kept-alive connections: the HTTP transport's pool, the AWS clients' agents. */
  close(): Promise<void>;
}

/** The function types that only take events (they cannot answer), each a put into an AWS stream or queue. */
export type ConnectorType = 'awssqs' | 'awskinesis' | 'awsfirehose' | 'awseventbridge';
export type ConnectorFactories = Pick<ProviderFactories, ConnectorType>;

/**
 * Every function type's provider factory, in one explicit map. The connectors come from
 * `connectors.ts` (or `connectorsCalledElsewhere`), so that a bundle that never calls them does not
 * carry their AWS SDK clients.
 */
export function createProviderFactories(deps: ProviderDeps, connectors: ConnectorFactories): ProviderFactories {
  return {
    http: (config) => httpProvider(config, deps.http),
    awslambda: (config) => lambdaProvider(config, deps.aws),
    gcloudfunction: (config) => googleCloudFunctionProvider(config, deps.http),
    azurefunction: (config) => azureFunctionProvider(config, deps.http),
    openwhisk: (config) => openWhiskProvider(config, deps.http),
    ...connectors,
  } satisfies ProviderFactories;
}

/**
 * Connectors for a process that never calls one: the Events API Lambda, whose async deliveries the
 * worker makes (connectors cannot answer sync subscriptions). A call is refused, never retried.
 */
export function connectorsCalledElsewhere(where: string): ConnectorFactories {
  const refuse = (type: ConnectorType) => () => ({
    invoke: () => Promise.reject(new TargetError('unsupported', `${type} functions are called by ${where}, not here`)),
  });
  return { awssqs: refuse('awssqs'), awskinesis: refuse('awskinesis'), awsfirehose: refuse('awsfirehose'), awseventbridge: refuse('awseventbridge') };
}

/** What provider dependencies may override: HTTP call options, AWS attempts, the target network policy. */
export type ProviderDepsOptions = Partial<HttpCallOptions> & Partial<Pick<AwsCallOptions, 'maxAttempts'>> & { targetNetworks?: TargetNetworkPolicy };

/** An HTTP transport and how to close its connections. */
export interface ClosableTransport {
  transport: HttpTransport;
  close(): Promise<void>;
}

/** Makes the HTTP transport of a gateway from its policy (and the guarded node agents, for a node transport). */
export type TransportMaker = (policy: TargetNetworkPolicy, agents: NodeAgents) => ClosableTransport;

/**
 * Provider dependencies with the defaults: 30 s per call, 6 MB answers, up to 3 attempts per AWS call
 * (the SDK's default, for throttling and 5xx), and the target network policy applied to every
 * connection, the AWS SDK's included (an `endpoint` override could point anywhere).
 */
export function providerDeps(makeTransport: TransportMaker, overrides: ProviderDepsOptions = {}): ProviderDeps {
  const { maxAttempts = 3, targetNetworks = {}, ...httpOverrides } = overrides;
  const agents = guardedNodeAgents(targetNetworks);
  const made = httpOverrides.transport ? { transport: httpOverrides.transport, close: async () => {} } : makeTransport(targetNetworks, agents);
  const http: HttpCallOptions = { timeoutMs: 30_000, maxResponseBytes: 6 * 1024 * 1024, ...httpOverrides, transport: made.transport };
  const aws = new AwsClientCache({ timeoutMs: http.timeoutMs, maxAttempts, ...agents });
  const close = async () => {
    await made.close();
    aws.destroy();
    agents.httpAgent.destroy();
    agents.httpsAgent.destroy();
  };
  return { http, aws, close };
}

/** Provider dependencies for Lambda: HTTP targets through node:http on the AWS SDK's guarded agents, so no undici in the bundle. */
export function nodeProviderDeps(overrides: ProviderDepsOptions = {}): ProviderDeps {
  // The node transport runs on the guarded agents, which providerDeps closes itself.
  return providerDeps((_policy, agents) => ({ transport: nodeTransport(agents), close: async () => {} }), overrides);
}
