/**
 * An incoming HTTP request in a transport-neutral shape: what node:http and API Gateway both give.
 * Header names are lower-case; repeated headers are arrays.
 */
export interface IncomingRequest {
  method: string;
  /** The URL path, still percent-encoded. */
  path: string;
  /** The raw query string, without `?`. */
  query: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  host?: string;
  /** Aborted when the handler's time is up (on Lambda): calls to targets and authorizers end then. */
  signal?: AbortSignal;
}

/** A header's value with repeats joined by `, `, as the original flattens them. */
export function headerValue(headers: IncomingRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** `content-type` → `Content-Type`, the canonical form Go's net/http gives header names. */
export function canonicalHeaderName(name: string): string {
  let canonical = canonicalNames.get(name);
  if (canonical === undefined) {
    canonical = name.replace(/(^|-)([a-z])/g, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
    // Header names repeat from request to request; a bounded cache spares the regex on the hot path.
    if (canonicalNames.size < 1000) canonicalNames.set(name, canonical);
  }
  return canonical;
}

const canonicalNames = new Map<string, string>();

/** Percent-decodes URL text; text that does not decode (a stray `%`) is kept as sent. */
export function decodeOrKeep(text: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
