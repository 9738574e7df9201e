import { isIP } from 'node:net';
import { Agent, buildConnector, errors, type Dispatcher } from 'undici';
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

/**
 * The local server's transport: undici through a shared (guarded) pool, driven by `dispatch` with a
 * handler of its own. `request()` would wrap every answer in a Readable stream and every call in
 * more promises; a call here is one promise and a list of chunks.
 */
export function undiciTransport(dispatcher: Dispatcher): HttpTransport {
  const targets = new TargetCache();
  return (url, call) =>
    new Promise((resolve, reject) => {
      let target: DispatchTarget;
      try {
        target = targets.get(url);
      } catch (err) {
        reject(callFailure(err, url, false));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let statusCode = 0;
      let abort: ((reason: Error) => void) | undefined;
      const signal = call.signal;
      const timeUp = () => abort?.(callerTimeUp());
      const handler = {
        onConnect: (abortCall: (reason: Error) => void) => {
          abort = abortCall;
          if (signal?.aborted) timeUp();
        },
        onHeaders: (status: number) => {
          statusCode = status;
          return true;
        },
        onData: (chunk: Buffer) => {
          size += chunk.length;
          if (size > call.maxResponseBytes) {
            abort?.(answerTooLarge(url, call.maxResponseBytes));
            return false;
          }
          chunks.push(chunk);
          return true;
        },
        onComplete: () => {
          signal?.removeEventListener('abort', timeUp);
          resolve({ statusCode, body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks) });
        },
        onError: (err: Error) => {
          signal?.removeEventListener('abort', timeUp);
          reject(callFailure(err, url, timedOut(err)));
        },
      };
      signal?.addEventListener('abort', timeUp, { once: true });
      dispatcher.dispatch(
        {
          origin: target.origin,
          path: target.path,
          method: call.method,
          headers: call.headers,
          body: call.body,
          // Per-phase timeouts rather than an AbortSignal: no timer object and listener per call on the hot path.
          headersTimeout: call.timeoutMs,
          bodyTimeout: call.timeoutMs,
        },
        handler as Dispatcher.DispatchHandler,
      );
    });
}

/** Where `dispatch` sends a URL's calls. */
interface DispatchTarget {
  origin: string;
  path: string;
}

/** Parsed target URLs: a function's URL is the same on every call, so it is parsed once. */
class TargetCache {
  private readonly targets = new Map<string, DispatchTarget>();

  get(url: string): DispatchTarget {
    let target = this.targets.get(url);
    if (target) return target;
    const parsed = new URL(url);
    target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
    // Bounded: URLs come from the registry, but a registry can change for ever.
    if (this.targets.size >= 10_000) this.targets.clear();
    this.targets.set(url, target);
    return target;
  }
}

/** The error a call ends with when its caller's time is up. */
function callerTimeUp(): Error {
  const err = new Error("the caller's time is up");
  err.name = 'TimeoutError';
  return err;
}

function timedOut(err: unknown): boolean {
  const name = (err as { name?: string }).name;
  return name === 'TimeoutError' || name === 'AbortError' || err instanceof errors.HeadersTimeoutError || err instanceof errors.BodyTimeoutError;
}
