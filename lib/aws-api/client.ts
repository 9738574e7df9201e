import { setTimeout as sleep } from 'node:timers/promises';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/transport';
import { NodeHttpHandler, streamCollector } from '@smithy/node-http-handler';
import { DEFAULT_RETRY_DELAY_BASE, THROTTLING_RETRY_DELAY_BASE, isClockSkewError, isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, SdkError } from '@smithy/types';

/**
 * A lean AWS API client: one signed HTTPS call (the SDK's own SigV4 signer and node:http handler),
 * retried the way the SDK retries, with AWS's errors as `AwsServiceError`. It stands in for the
 * SDK's generated clients on the paths every Lambda bundle carries (DynamoDB, SQS, Lambda Invoke):
 * those clients bring ≈230 KB of protocol machinery into a bundle, this ≈40 KB.
 */

/** Static keys, as a function's config or a test gives them. */
export type AwsCredentials = AwsCredentialIdentity;

export interface AwsApiOptions {
  /** The signing name, also the endpoint's first label: `dynamodb`, `sqs`, `lambda`. */
  service: string;
  /** Defaults to AWS_REGION / AWS_DEFAULT_REGION (Lambda always sets AWS_REGION). */
  region?: string;
  /** Another endpoint than the service's regional one (DynamoDB Local, a loopback stand-in). */
  endpoint?: string;
  /** Without them the SDK's default chain applies: environment, shared config, SSO, the instance or task role. */
  credentials?: AwsCredentials;
  /** Keep-alive agents live here; share one across the APIs of a process when its agents are guarded. */
  requestHandler?: NodeHttpHandler;
  /** Attempts per call for throttling, 5xx and dropped connections; 3 like the SDK's default. */
  maxAttempts?: number;
  /** Without a requestHandler: how long a connection may stay silent before the call fails (30 s; SQS long polls wait 20 s at most). */
  idleTimeoutMs?: number;
}

/** One call: a path under the endpoint, headers, a body. */
export interface AwsRequest {
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  abortSignal?: AbortSignal;
}

export interface AwsResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** An error AWS answered with: its type as `name`, its status in `$metadata` (the SDK's shape), its other fields. */
export class AwsServiceError extends Error {
  readonly $metadata: { httpStatusCode: number };
  readonly fields: Record<string, unknown>;
  /** The answer's headers (its `date` corrects clock skew). */
  readonly headers: Record<string, string>;

  constructor(name: string, message: string, answer: { statusCode: number; headers: Record<string, string> }, fields: Record<string, unknown>) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: answer.statusCode };
    this.fields = fields;
    this.headers = answer.headers;
  }
}

/** How far AWS's clock may be from ours before a refused signature is put down to it. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

export class AwsApi {
  readonly region: string;
  private readonly url: URL;
  private readonly signer: SignatureV4;
  private readonly handler: NodeHttpHandler;
  private readonly ownsHandler: boolean;
  private readonly maxAttempts: number;
  /** Milliseconds added to our clock when signing (AWS's clock minus ours, once a skew was seen). */
  private clockOffset = 0;

  constructor(options: AwsApiOptions) {
    const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    if (!region) throw new Error(`no AWS region for ${options.service}: set AWS_REGION (or pass one, e.g. --dynamodb-region)`);
    this.region = region;
    this.url = new URL(options.endpoint ?? regionalEndpoint(options.service, region));
    const credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider = options.credentials ?? defaultProvider();
    this.signer = new SignatureV4({ service: options.service, region, credentials, sha256: Sha256, uriEscapePath: true, applyChecksum: true });
    this.ownsHandler = !options.requestHandler;
    // A hung call must not hang its caller: a silent socket is given up.
    const socketTimeout = options.idleTimeoutMs ?? 30_000;
    this.handler = options.requestHandler ?? new NodeHttpHandler({ httpsAgent: { keepAlive: true }, httpAgent: { keepAlive: true }, connectionTimeout: 5_000, socketTimeout });
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  }

  /** A POST, signed, retried on throttling, 5xx and dropped connections; a non-2xx answer throws AwsServiceError. */
  async post(request: AwsRequest): Promise<AwsResponse> {
    // A deadline reached while retrying ends the call with the failure that made it retry: it says more.
    let failure: unknown;
    for (let attempt = 1; ; attempt++) {
      let delayBase = DEFAULT_RETRY_DELAY_BASE;
      try {
        return await this.once(request);
      } catch (err) {
        if (request.abortSignal?.aborted) throw failure ?? err;
        const offset = clockOffset(err, this.clockOffset);
        // A clock far from AWS's fails every signature: sign with AWS's time from now on, as the SDK does
        // (and back again once the clock is right: the offset is measured against the time we signed with).
        if (offset !== undefined) this.clockOffset = offset;
        else if (attempt >= this.maxAttempts || !retryable(err)) throw err;
        if (attempt >= this.maxAttempts) throw err;
        failure = err;
        if (isThrottlingError(err as SdkError)) delayBase = THROTTLING_RETRY_DELAY_BASE;
      }
      // Full jitter on a doubling base (100 ms, 500 ms when throttled), as the SDK's standard retry strategy.
      const delay = Math.random() * Math.min(20_000, delayBase * 2 ** attempt);
      const aborted = await sleep(delay, false, request.abortSignal ? { signal: request.abortSignal } : {}).catch(() => true);
      if (aborted) throw failure;
    }
  }

  /** An AWS JSON protocol call (`X-Amz-Target`), input and output as JSON. */
  async json<T>(target: string, input: unknown, options: { version?: '1.0' | '1.1'; headers?: Record<string, string>; abortSignal?: AbortSignal } = {}): Promise<T> {
    const response = await this.post({
      path: '/',
      headers: { ...options.headers, 'content-type': `application/x-amz-json-${options.version ?? '1.0'}`, 'x-amz-target': target },
      body: JSON.stringify(input),
      ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
    });
    return (response.body.length > 0 ? JSON.parse(response.body.toString('utf8')) : {}) as T;
  }

  /** Closes the keep-alive connections, unless the handler was shared. */
  destroy(): void {
    if (this.ownsHandler) this.handler.destroy();
  }

  private async once(request: AwsRequest): Promise<AwsResponse> {
    const body = request.body ?? '';
    const basePath = this.url.pathname.replace(/\/$/, '');
    const unsigned = new HttpRequest({
      method: 'POST',
      protocol: this.url.protocol,
      hostname: this.url.hostname,
      ...(this.url.port ? { port: Number(this.url.port) } : {}),
      path: `${basePath}${request.path}`,
      headers: { ...request.headers, host: this.url.host, 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'event-gateway' },
      body,
    });
    const signed = await this.signer.sign(unsigned, this.clockOffset === 0 ? {} : { signingDate: new Date(Date.now() + this.clockOffset) });
    const { response } = await this.handler.handle(signed as HttpRequest, request.abortSignal ? { abortSignal: request.abortSignal } : {});
    const answer = { statusCode: response.statusCode, headers: response.headers, body: Buffer.from(await streamCollector(response.body)) };
    if (answer.statusCode >= 200 && answer.statusCode < 300) return answer;
    throw serviceError(answer);
  }
}

/** `https://dynamodb.eu-west-1.amazonaws.com`; China's regions are under `amazonaws.com.cn`. */
export function regionalEndpoint(service: string, region: string): string {
  return `https://${service}.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/** The error of a non-2xx answer: its type from `x-amzn-errortype` or the body's `__type`/`code`, its message from the body. */
function serviceError(answer: AwsResponse): AwsServiceError {
  let fields: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(answer.body.toString('utf8'));
    if (parsed && typeof parsed === 'object') fields = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's page, an empty body): the status alone says what happened.
  }
  const typed = answer.headers['x-amzn-errortype'] ?? stringField(fields, '__type') ?? stringField(fields, 'code') ?? stringField(fields, 'Code');
  // `ResourceNotFoundException:http://internal.amazon.com/…` and `com.amazonaws.dynamodb.v20120810#ResourceNotFoundException`.
  const name = typed ? (typed.split(':')[0] ?? typed).split('#').pop() || `HTTP${answer.statusCode}` : `HTTP${answer.statusCode}`;
  const message = stringField(fields, 'message') ?? stringField(fields, 'Message') ?? `${name} (${answer.statusCode})`;
  return new AwsServiceError(name, message, answer, fields);
}

function stringField(fields: Record<string, unknown>, key: string): string | undefined {
  const value = fields[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The SDK's own classification: throttling, transient (timeouts, dropped or unreachable connections, 502–504) and other 5xx. */
function retryable(err: unknown): boolean {
  const e = err as SdkError;
  return isThrottlingError(e) || isTransientError(e) || isServerError(e);
}

/**
 * The new offset of our signing clock (AWS's time minus our clock) when a refusal is put down to skew:
 * AWS's `Date` is far from the time we signed with. Undefined otherwise.
 */
function clockOffset(err: unknown, currentOffset: number): number | undefined {
  if (!(err instanceof AwsServiceError) || !isClockSkewError(err as unknown as SdkError)) return undefined;
  const serverTime = Date.parse(err.headers.date ?? '');
  const now = Date.now();
  if (!Number.isFinite(serverTime) || Math.abs(serverTime - (now + currentOffset)) < CLOCK_SKEW_MS) return undefined;
  return serverTime - now;
}
