import { createVerify, generateKeyPairSync } from 'node:crypto';
import { TestTarget } from './target';

/** A service-account key made for a test, as Google's key files shape it. */
export interface TestServiceAccountKey {
  type: 'service_account';
  client_email: string;
  private_key: string;
  private_key_id: string;
  token_uri: string;
}

/**
 * Google's side of a private HTTPS function on loopback: `/token` checks a JWT-bearer assertion signed
 * with a known service account's key and answers an ID token for its `target_audience`; `/function`
 * accepts only that ID token (as Cloud Functions' front end does) and answers 401 otherwise.
 */
export class GoogleFake {
  readonly issued: string[] = [];
  readonly assertions: Array<Record<string, unknown>> = [];
  private readonly publicKey: string;
  readonly key: TestServiceAccountKey;

  private constructor(readonly server: TestTarget) {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    this.publicKey = pair.publicKey;
    this.key = { type: 'service_account', client_email: 'gateway@test-project.iam.gserviceaccount.com', private_key: pair.privateKey, private_key_id: 'key-1', token_uri: `${server.url}token` };
    server.behaviour = (req) => {
      if (req.url === '/token') return this.token(req.body);
      const expected = `Bearer ${this.issued.at(-1) ?? 'none'}`;
      if (req.headers.authorization !== expected) return { status: 401, body: 'Your client does not have permission to the requested URL.' };
      return { status: 200, body: '{"statusCode":200,"body":"from google"}' };
    };
  }

  static async start(): Promise<GoogleFake> {
    return new GoogleFake(await TestTarget.start());
  }

  get functionUrl(): string {
    return `${this.server.url}function`;
  }

  /** Requests the function itself received (not the token endpoint). */
  get functionRequests() {
    return this.server.received.filter((r) => r.url !== '/token');
  }

  private token(body: string): { status: number; body: string } {
    const form = new URLSearchParams(body);
    const assertion = form.get('assertion') ?? '';
    const [header, claims, signature] = assertion.split('.');
    const verified = form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:jwt-bearer' && header && claims && signature &&
      createVerify('RSA-SHA256').update(`${header}.${claims}`).verify(this.publicKey, signature, 'base64url');
    const decoded = claims ? (JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as Record<string, unknown>) : {};
    if (!verified || decoded.iss !== this.key.client_email || decoded.aud !== this.key.token_uri) {
      return { status: 400, body: JSON.stringify({ error: 'invalid_grant', error_description: 'Invalid JWT Signature.' }) };
    }
    this.assertions.push(decoded);
    const idToken = `id-token-${this.issued.length + 1}-for-${String(decoded.target_audience)}`;
    this.issued.push(idToken);
    return { status: 200, body: JSON.stringify({ id_token: idToken }) };
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
