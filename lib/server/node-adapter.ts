import type { IncomingMessage, ServerResponse } from 'node:http';
import { PayloadTooLargeError } from '../errors';
import type { IncomingRequest } from '../events/request';
import { errorResponse, type GatewayResponse } from '../gateway/response';
import type { Logger } from '../logger';

/** A transport-neutral handler, as the Events and Config APIs are. */
export type RequestHandler = (req: IncomingRequest) => Promise<GatewayResponse>;

const NO_BODY = Buffer.alloc(0);

/** Reads a request body, refusing more than `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  // Without Content-Length or Transfer-Encoding an HTTP/1.1 request has no body (RFC 9112 §6.3): nothing to wait for.
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) return Promise.resolve(NO_BODY);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new PayloadTooLargeError());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new PayloadTooLargeError());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The neutral request of a node:http request; the path stays percent-encoded. */
export function toIncomingRequest(req: IncomingMessage, body: Buffer): IncomingRequest {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return {
    method: req.method ?? 'GET',
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? '' : url.slice(q + 1),
    headers: req.headers,
    body,
    host: req.headers.host ?? '',
  };
}

/** Writes a neutral response. */
export function writeResponse(res: ServerResponse, response: GatewayResponse): void {
  const body = response.body;
  const headers: Record<string, string | number> = { ...response.headers };
  headers['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  res.writeHead(response.statusCode, headers);
  res.end(body);
}

/** Adapts a neutral handler to node:http: body limit, error mapping, never a stack trace to the client. */
export function nodeListener(handler: RequestHandler, options: { bodyLimit: number; logger: Logger }) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    readBody(req, options.bodyLimit)
      .then((body) => handler(toIncomingRequest(req, body)))
      .then(
        (response) => writeResponse(res, response),
        (err: unknown) => {
          if (err instanceof PayloadTooLargeError) {
            res.setHeader('connection', 'close');
            writeResponse(res, errorResponse(413, `Request body exceeds the limit of ${options.bodyLimit} bytes.`));
            return;
          }
          options.logger.error({ err }, 'request failed');
          writeResponse(res, errorResponse(500, 'Internal server error.'));
        },
      )
      .catch((err: unknown) => {
        options.logger.error({ err }, 'response could not be written');
        res.destroy();
      });
  };
}
