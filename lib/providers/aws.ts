import { createHash } from 'node:crypto';
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { isThrottlingError, isTransientError } from '@smithy/core/retry';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { SdkError as ClassifiedError } from '@smithy/types';
import type { AwsCredentialFields } from './config';
import { TargetError } from './provider';
import { TargetRefusedError } from './target-network';

/** What every AWS client is built from: where it goes and who it is. */
export interface AwsTarget extends AwsCredentialFields {
  region: string;
}

/** The settings all AWS SDK clients share. */
export interface AwsClientSettings {
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  requestHandler: NodeHttpHandler;
  maxAttempts: number;
}

/** Options of calls to AWS services. */
export interface AwsCallOptions {
  /** Time allowed for a whole call, retries included, in milliseconds. */
  timeoutMs: number;
  /** Attempts per call made by the SDK (throttling, 5xx, network errors). */
  maxAttempts: number;
  /** Connection agents for the SDK clients, e.g. ones that check resolved addresses; keep-alive ones by default. */
  httpAgent?: HttpAgent;
  httpsAgent?: HttpsAgent;
}

/**
 * SDK clients by (service, region, credentials, endpoint), each made once and reused, so that every
 * function of the same account and region shares one connection pool.
 */
export class AwsClientCache {
  private readonly clients = new Map<string, unknown>();

  constructor(readonly options: AwsCallOptions) {}

  /** The client of a service for a target, made by `make` the first time. */
  clientFor<C>(service: string, target: AwsTarget, make: (settings: AwsClientSettings) => C): C {
    const key = clientKey(service, target);
    const existing = this.clients.get(key);
    if (existing) return existing as C;
    const client = make(this.settings(target));
    this.clients.set(key, client);
    return client;
  }

  /** Destroys every client (closing its connections); the cache is empty afterwards. */
  destroy(): void {
    for (const client of this.clients.values()) (client as { destroy?: () => void }).destroy?.();
    this.clients.clear();
  }

  /** How many clients exist; a test reads it to see that clients are shared. */
  get size(): number {
    return this.clients.size;
  }

  /** A signal that aborts a call once its time is up, or when the caller's signal aborts. */
  callSignal(caller?: AbortSignal): AbortSignal {
    const own = AbortSignal.timeout(this.options.timeoutMs);
    return caller ? AbortSignal.any([own, caller]) : own;
  }

  private settings(target: AwsTarget): AwsClientSettings {
    // HTTP/1.1 everywhere: Kinesis would default to HTTP/2, which only SubscribeToShard needs.
    const requestHandler = new NodeHttpHandler({
      connectionTimeout: Math.min(this.options.timeoutMs, 10_000),
      httpAgent: this.options.httpAgent ?? { keepAlive: true },
      httpsAgent: this.options.httpsAgent ?? { keepAlive: true },
    });
    const settings: AwsClientSettings = { region: target.region, requestHandler, maxAttempts: this.options.maxAttempts };
    if (target.endpoint) settings.endpoint = target.endpoint;
    // Without keys the SDK's default chain applies: environment, shared config, SSO, the instance or task role.
    if (target.awsAccessKeyId && target.awsSecretAccessKey) {
      settings.credentials = { accessKeyId: target.awsAccessKeyId, secretAccessKey: target.awsSecretAccessKey };
      if (target.awsSessionToken) settings.credentials.sessionToken = target.awsSessionToken;
    }
    return settings;
  }
}

/** A hashed key, so that the map never holds secrets in clear beside the clients. */
function clientKey(service: string, t: AwsTarget): string {
  const parts = [service, t.region, t.endpoint ?? '', t.awsAccessKeyId ?? '', t.awsSecretAccessKey ?? '', t.awsSessionToken ?? ''];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** AWS error names that mean the credentials are missing, wrong, expired or not allowed to call. */
const CREDENTIAL_ERRORS = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'ExpiredToken',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'InvalidSecurity',
  'AuthFailure',
  'NotAuthorized',
  'CredentialsProviderError',
]);

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Maps what an SDK call threw to a TargetError; `what` names the target in the message. */
export function awsTargetError(err: unknown, what: string): TargetError {
  if (err instanceof TargetError) return err;
  const refused = refusedCause(err);
  if (refused) return new TargetError('refused', `call to ${what} refused: ${refused.message}`, { cause: err });
  const e = (err ?? {}) as SdkError;
  const name = e.name ?? 'Error';
  // The SDK's classifiers read optional fields only: any thrown value will do.
  const classified = e as unknown as ClassifiedError;
  if (name === 'AbortError' || name === 'TimeoutError') {
    return new TargetError('timeout', `call to ${what} timed out`, { cause: err });
  }
  if (CREDENTIAL_ERRORS.has(name)) {
    const hint = name === 'CredentialsProviderError' ? 'no AWS credentials were found: set awsAccessKeyId/awsSecretAccessKey on the function or give the gateway a role' : `AWS refused the credentials (${name}): check the function's awsAccessKeyId/awsSecretAccessKey/awsSessionToken, their expiry, and that they may call ${what}`;
    return new TargetError('credentials', `call to ${what} failed: ${hint}`, { cause: err });
  }
  // The SDK's own classification, as its retry strategy uses it: throttling is any service's throttle
  // (ThrottlingException, SQS's RequestThrottled, Kinesis's ProvisionedThroughputExceededException, a 429…).
  if (isThrottlingError(classified)) {
    return new TargetError('status', `call to ${what} was throttled (${name})`, { cause: err, statusCode: 429 });
  }
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined) {
    // A 4xx the SDK still calls transient (a retryable error, a corrected clock skew) is retried as a 503 would be.
    const statusCode = status < 500 && isTransientError(classified) ? 503 : status;
    return new TargetError('status', `call to ${what} failed: ${name} (${status}): ${short(e.message)}`, { cause: err, statusCode });
  }
  return new TargetError('unreachable', `call to ${what} failed: ${e.code ?? name}`, { cause: err });
}

/** The network policy's refusal behind an SDK error, if that is what it is. */
function refusedCause(err: unknown): TargetRefusedError | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof TargetRefusedError) return e;
  }
  return undefined;
}

/** An SDK command: its own middleware stack lets one call watch its attempts. */
interface Command {
  middlewareStack: { add(middleware: unknown, options: { step: 'deserialize'; name: string; override: boolean }): void };
}

/**
 * Runs one SDK call with the call deadline (and the caller's, when given) and maps its failure. When the deadline ends the SDK's
 * retries, the failure that made it retry (a refused connection, a throttle, a 5xx) is what is
 * reported: it says more than "timed out" and keeps its classification (unreachable stays unreachable).
 */
export async function callAws<T>(cache: AwsClientCache, what: string, command: Command, call: (abortSignal: AbortSignal) => Promise<T>, caller?: AbortSignal): Promise<T> {
  let attemptFailure: unknown;
  // The deserialize step runs inside the retry loop: once per attempt.
  command.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
      try {
        return await next(args);
      } catch (err) {
        if (!isAbort(err)) attemptFailure = err;
        throw err;
      }
    },
    { step: 'deserialize', name: 'eventGatewayAttemptFailure', override: true },
  );
  try {
    return await call(cache.callSignal(caller));
  } catch (err) {
    throw awsTargetError(isAbort(err) && attemptFailure !== undefined ? attemptFailure : err, what);
  }
}

function isAbort(err: unknown): boolean {
  const name = (err as { name?: unknown } | undefined)?.name;
  return name === 'AbortError' || name === 'TimeoutError';
}

/** At most 200 characters of a message from AWS, for logs. */
export function short(text: string | undefined): string {
  if (!text) return '';
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** A small JSON answer of a connector, naming what the service created. */
export function connectorAnswer(fields: Record<string, string | undefined>): Buffer {
  return Buffer.from(JSON.stringify(fields));
}
