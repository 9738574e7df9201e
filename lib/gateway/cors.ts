import type { CorsConfig } from '../registry/types';
import type { GatewayResponse } from './response';

/** Whether an origin is allowed; a `*` in an allowed origin stands for any characters. */
export function originAllowed(config: CorsConfig, requestOrigin: string): boolean {
  // Origins compare without case, as browsers and the original gateway (rs/cors) treat them.
  const origin = requestOrigin.toLowerCase();
  return config.allowedOrigins.some((configured) => {
    const allowed = configured.toLowerCase();
    if (allowed === '*') return true;
    if (!allowed.includes('*')) return allowed === origin;
    const pattern = allowed.split('*').map(escapeRegExp).join('.*');
    return new RegExp(`^${pattern}$`).test(origin);
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The headers that let a browser read the answer to an actual (non-preflight) request. */
export function corsHeaders(config: CorsConfig | undefined, origin: string | undefined): Record<string, string> {
  if (!config || !origin || !originAllowed(config, origin)) return {};
  const headers: Record<string, string> = { 'access-control-allow-origin': origin, vary: 'Origin' };
  if (config.allowCredentials) headers['access-control-allow-credentials'] = 'true';
  return headers;
}

/**
 * The gateway's own answer to a preflight request, from the configuration of the method asked for.
 * A disallowed origin, method or header gets the answer without CORS headers, which the browser refuses.
 */
export function preflightResponse(config: CorsConfig, origin: string | undefined, method: string, requestHeaders: string | undefined): GatewayResponse {
  const headers: Record<string, string> = { vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers' };
  const asked = (requestHeaders ?? '').split(',').map((h) => h.trim()).filter((h) => h !== '');
  // `Origin` is always allowed and `*` allows any header, as in rs/cors, which the original used.
  const allowedHeaders = new Set(['origin', ...config.allowedHeaders.map((h) => h.toLowerCase())]);
  const ok =
    origin !== undefined &&
    originAllowed(config, origin) &&
    config.allowedMethods.includes(method.toUpperCase()) &&
    (allowedHeaders.has('*') || asked.every((h) => allowedHeaders.has(h.toLowerCase())));
  if (ok) {
    headers['access-control-allow-origin'] = origin;
    headers['access-control-allow-methods'] = method.toUpperCase();
    if (asked.length > 0) headers['access-control-allow-headers'] = asked.join(', ');
    if (config.allowCredentials) headers['access-control-allow-credentials'] = 'true';
  }
  return { statusCode: 200, headers, body: '' };
}
