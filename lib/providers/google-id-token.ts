import { createSign } from 'node:crypto';
import type { GoogleServiceAccountKey } from './config';
import type { HttpCallOptions } from './http';
import { TargetError } from './provider';

const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Tokens live an hour; a fresh one is fetched this long before the old one expires. */
const REFRESH_MARGIN_MS = 5 * 60_000;
const LIFETIME_S = 3600;

/**
 * Google ID tokens for one audience, minted from a service-account key the way Google's own
 * libraries do (a signed JWT exchanged at the key's `token_uri`), cached until shortly before expiry.
 */
export class GoogleIdTokenSource {
  private current: { token: string; refreshAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly key: GoogleServiceAccountKey,
    private readonly audience: string,
    private readonly http: HttpCallOptions,
  ) {}

  /** A valid ID token; concurrent callers share one fetch. */
  token(): Promise<string> {
    if (this.current && Date.now() < this.current.refreshAt) return Promise.resolve(this.current.token);
    this.pending ??= this.fetch().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async fetch(): Promise<string> {
    const tokenUri = this.key.token_uri ?? GOOGLE_TOKEN_URI;
    const assertion = this.assertion(tokenUri);
    const answer = await this.exchange(tokenUri, assertion);
    this.current = { token: answer, refreshAt: Date.now() + LIFETIME_S * 1000 - REFRESH_MARGIN_MS };
    return answer;
  }

  private assertion(tokenUri: string): string {
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', ...(this.key.private_key_id ? { kid: this.key.private_key_id } : {}) };
    const claims = { iss: this.key.client_email, sub: this.key.client_email, aud: tokenUri, iat: now, exp: now + LIFETIME_S, target_audience: this.audience };
    const unsigned = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    let signature: string;
    try {
      signature = createSign('RSA-SHA256').update(unsigned).sign(this.key.private_key, 'base64url');
    } catch (err) {
      throw new TargetError('credentials', `the private_key of service account ${this.key.client_email} cannot sign: ${(err as Error).message}`);
    }
    return `${unsigned}.${signature}`;
  }

  private async exchange(tokenUri: string, assertion: string): Promise<string> {
    const body = new URLSearchParams({ grant_type: JWT_BEARER, assertion }).toString();
    let statusCode: number;
    let text: string;
    try {
      const answer = await this.http.transport(tokenUri, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        timeoutMs: this.http.timeoutMs,
        maxResponseBytes: this.http.maxResponseBytes,
      });
      statusCode = answer.statusCode;
      text = answer.body.toString('utf8');
    } catch (err) {
      // The transport's reason (timeout, refused, unreachable) stands; the message names the token endpoint.
      const reason = err instanceof TargetError ? err.reason : 'unreachable';
      throw new TargetError(reason, `Google token endpoint ${tokenUri} ${reason === 'timeout' ? 'timed out' : 'could not be reached'}`, { cause: err });
    }
    const idToken = parseIdToken(text);
    if (statusCode !== 200 || !idToken) {
      const reason = statusCode === 400 || statusCode === 401 || statusCode === 403 ? 'credentials' : 'status';
      throw new TargetError(reason, `Google refused an ID token for service account ${this.key.client_email} (${statusCode}): ${errorOf(text)}`, { statusCode });
    }
    return idToken;
  }
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

function parseIdToken(text: string): string | undefined {
  try {
    const doc = JSON.parse(text) as { id_token?: unknown };
    return typeof doc.id_token === 'string' ? doc.id_token : undefined;
  } catch {
    return undefined;
  }
}

/** OAuth's `error: error_description`, never the assertion. */
function errorOf(text: string): string {
  try {
    const doc = JSON.parse(text) as { error?: unknown; error_description?: unknown };
    return [doc.error, doc.error_description].filter((x) => typeof x === 'string').join(': ').slice(0, 200);
  } catch {
    return 'unreadable answer';
  }
}
