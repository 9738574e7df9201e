import { FunctionCallError } from '../errors';
import type { GatewayResponse } from './response';

const MALFORMED = 'HTTP response object malformed';

/**
 * A sync subscriber's result as the HTTP response: a JSON object `{statusCode?, headers?, body?}`
 * (status 200 by default, body a string). Anything else is the contract's 500.
 */
export function parseSyncResult(result: Buffer): GatewayResponse {
  let value: unknown;
  try {
    value = JSON.parse(result.toString('utf8'));
  } catch (err) {
    throw new FunctionCallError(MALFORMED, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FunctionCallError(MALFORMED);
  const { statusCode, headers, body } = value as { statusCode?: unknown; headers?: unknown; body?: unknown };
  const status = statusCode ?? 200;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) throw new FunctionCallError(MALFORMED);
  if (body !== undefined && body !== null && typeof body !== 'string') throw new FunctionCallError(MALFORMED);
  return { statusCode: status, headers: toHeaders(headers), body: body ?? '' };
}

/** Headers that describe the connection, not the answer: the gateway sets its own. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'te', 'trailer', 'proxy-connection']);

function toHeaders(headers: unknown): Record<string, string> {
  if (headers === undefined || headers === null) return {};
  if (typeof headers !== 'object' || Array.isArray(headers)) throw new FunctionCallError(MALFORMED);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n]/.test(value)) throw new FunctionCallError(MALFORMED);
    const lower = name.toLowerCase();
    if (!HOP_BY_HOP.has(lower)) out[lower] = value;
  }
  return out;
}
