import type { SubscriptionType } from './types';

const SEGMENT_SAFE = /[A-Za-z0-9\-_.~$&+:=@]/;

/**
 * A path written as one URL path segment, byte for byte as Go's `url.PathEscape` writes it (`/` becomes
 * `%2F`, `:` stays), so that IDs are the ones the original gateway and its clients compute.
 */
export function escapePath(path: string): string {
  let out = '';
  for (const char of path) {
    if (SEGMENT_SAFE.test(char)) {
      out += char;
      continue;
    }
    for (const byte of Buffer.from(char)) out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/**
 * The deterministic subscription ID: base64url without padding of its identifying fields. Sync
 * subscriptions leave out the function, so that a route has at most one of them.
 */
export function subscriptionId(s: { type: SubscriptionType; eventType: string; functionId: string; path: string; method: string }): string {
  const parts =
    s.type === 'async'
      ? [s.type, s.eventType, s.functionId, escapePath(s.path), s.method]
      : [s.type, s.eventType, escapePath(s.path), s.method];
  return Buffer.from(parts.join(',')).toString('base64url');
}

/** The CORS configuration ID: the method followed by the escaped path, e.g. `GET%2Fusers`. */
export function corsId(c: { method: string; path: string }): string {
  return c.method + escapePath(c.path);
}
