import { isIP } from 'node:net';
import { Agent, buildConnector, errors, request, type Dispatcher } from 'undici';
import { answerTooLarge, callFailure, type HttpTransport } from './http-transport';
import { addressCheck, guardedLookup, TargetRefusedError, type TargetNetworkPolicy } from './target-network';

/**
 * An undici connector that applies the policy at connection time: IP literals (which node connects
 * to without a lookup) are checked here, names through the guarded lookup.
 */
export function guardedConnector(policy: TargetNetworkPolicy = {}, options: buildConnector.BuildOptions = {}): buildConnector.connector {
  const check = addressCheck(policy);
  const connect = buildConnector({ ...options, lookup: guardedLookup(check) } as buildConnector.BuildOptions);
  return (opts, callback) => {
    const refused = isIP(opts.hostname) ? check(opts.hostname) : undefined;
    if (refused) callback(new TargetRefusedError(opts.hostname, refused), null);
    else connect(opts, callback);
  };
}

/**
 * A keep-alive connection pool for target calls. Every connection it opens passes the target network
 * policy on its resolved address, so every provider sharing the pool is guarded.
 */
export function createHttpAgent(policy: TargetNetworkPolicy = {}): Agent {
  return new Agent({ keepAliveTimeout: 30_000, connections: 256, pipelining: 1, connect: guardedConnector(policy) });
}

/** The local server's transport: undici through a shared (guarded) pool. */
export function undiciTransport(dispatcher: Dispatcher): HttpTransport {
  return async (url, call) => {
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: call.method,
        body: call.body,
        headers: call.headers,
        dispatcher,
        // Per-phase timeouts rather than an AbortSignal: no timer object and listener per call on the hot path.
        headersTimeout: call.timeoutMs,
        bodyTimeout: call.timeoutMs,
      });
    } catch (err) {
      throw callFailure(err, url, timedOut(err));
    }
    return { statusCode: response.statusCode, body: await readLimited(response.body, call.maxResponseBytes, url) };
  };
}

async function readLimited(body: Dispatcher.ResponseData['body'], limit: number, url: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        body.destroy();
        throw answerTooLarge(url, limit);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    throw callFailure(err, url, timedOut(err));
  }
  return Buffer.concat(chunks);
}

function timedOut(err: unknown): boolean {
  const name = (err as { name?: string }).name;
  return name === 'TimeoutError' || name === 'AbortError' || err instanceof errors.HeadersTimeoutError || err instanceof errors.BodyTimeoutError;
}
