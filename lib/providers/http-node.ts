import { request as httpRequest, type Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import { answerTooLarge, callFailure, type HttpTransport } from './http-transport';

/** The keep-alive agents a node transport connects through (see guardedNodeAgents: they apply the target network policy). */
export interface NodeAgents {
  httpAgent: HttpAgent;
  httpsAgent: HttpsAgent;
}

/** Why the transport itself ended a call that took too long. */
class CallTimeout extends Error {
  constructor() {
    super('no answer in time');
    this.name = 'TimeoutError';
  }
}

/**
 * The Lambda transport: node:http(s) through keep-alive agents. It keeps undici (half a megabyte
 * minified) out of the Lambda bundles. The timeout is the socket's idle time, so it applies per phase
 * like undici's headers and body timeouts.
 */
export function nodeTransport(agents: NodeAgents): HttpTransport {
  return (url, call) =>
    new Promise((resolve, reject) => {
      // Set when the transport ends the call itself; reported instead of the socket error it causes.
      let ended: Error | undefined;
      let req: ReturnType<typeof httpRequest>;
      const fail = (err: unknown) => reject(callFailure(ended ?? err, url, ended instanceof CallTimeout));
      const collect = (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= call.maxResponseBytes) chunks.push(chunk);
          else if (!ended) req.destroy((ended = answerTooLarge(url, call.maxResponseBytes)));
        });
        res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', fail);
        res.on('close', () => {
          if (!res.complete) fail(new Error('answer cut short'));
        });
      };
      try {
        const target = new URL(url);
        const https = target.protocol === 'https:';
        const headers = { ...call.headers, 'content-length': String(Buffer.byteLength(call.body)) };
        const options = { method: call.method, headers, agent: https ? agents.httpsAgent : agents.httpAgent, timeout: call.timeoutMs };
        req = https ? httpsRequest(target, options, collect) : httpRequest(target, options, collect);
      } catch (err) {
        // A bad URL, or a target address refused by the guarded agent before any socket exists.
        fail(err);
        return;
      }
      const timeUp = () => {
        if (!ended) req.destroy((ended = new CallTimeout()));
      };
      req.on('timeout', timeUp);
      req.on('error', fail);
      if (call.signal) {
        const signal = call.signal;
        if (signal.aborted) timeUp();
        signal.addEventListener('abort', timeUp, { once: true });
        req.on('close', () => signal.removeEventListener('abort', timeUp));
      }
      req.end(call.body);
    });
}
