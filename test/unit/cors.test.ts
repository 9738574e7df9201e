import { corsHeaders, originAllowed, preflightResponse } from '../../lib/gateway/cors';
import type { CorsConfig } from '../../lib/registry/types';

const config = (overrides: Partial<CorsConfig> = {}): CorsConfig => ({
  space: 'space1',
  corsId: 'GET%2Fx',
  method: 'GET',
  path: '/x',
  allowedOrigins: ['*'],
  allowedMethods: ['HEAD', 'GET', 'POST'],
  allowedHeaders: ['Origin', 'Accept', 'Content-Type'],
  allowCredentials: false,
  ...overrides,
});

describe('CORS', () => {
  it('matches origins with * standing for any characters, without case', () => {
    const c = config({ allowedOrigins: ['https://*.example.com'] });
    expect(originAllowed(c, 'https://app.example.com')).toBe(true);
    expect(originAllowed(c, 'HTTPS://APP.EXAMPLE.COM')).toBe(true);
    expect(originAllowed(c, 'https://example.org')).toBe(false);
    expect(originAllowed(c, 'https://app.example.com.evil.test')).toBe(false);
  });

  it('allows a preflight for an allowed method and headers, and refuses others', () => {
    const ok = preflightResponse(config(), 'https://a.test', 'get', 'Content-Type, Origin');
    expect(ok.headers['access-control-allow-origin']).toBe('https://a.test');
    expect(ok.headers['access-control-allow-methods']).toBe('GET');
    expect(preflightResponse(config(), 'https://a.test', 'DELETE', undefined).headers['access-control-allow-origin']).toBeUndefined();
    expect(preflightResponse(config(), 'https://a.test', 'GET', 'X-Secret').headers['access-control-allow-origin']).toBeUndefined();
    expect(preflightResponse(config({ allowedHeaders: ['*'] }), 'https://a.test', 'GET', 'X-Secret').headers['access-control-allow-headers']).toBe('X-Secret');
  });

  it('adds credentials only when configured, and nothing without an origin', () => {
    expect(corsHeaders(config({ allowCredentials: true }), 'https://a.test')['access-control-allow-credentials']).toBe('true');
    expect(corsHeaders(config(), 'https://a.test')['access-control-allow-credentials']).toBeUndefined();
    expect(corsHeaders(config(), undefined)).toEqual({});
  });
});
