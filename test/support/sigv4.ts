import type { IncomingHttpHeaders } from 'node:http';
import { Sha256 } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/transport';
import { SignatureV4 } from '@smithy/signature-v4';
import { LOCAL_CREDENTIALS } from './dynamodb-local';
import { TEST_CREDENTIALS } from './kinesis';

/** The secret keys of the access keys tests sign with; a loopback AWS stand-in checks signatures made with these. */
export const KNOWN_SECRETS = new Map<string, string>([
  [TEST_CREDENTIALS.awsAccessKeyId, TEST_CREDENTIALS.awsSecretAccessKey],
  [LOCAL_CREDENTIALS.accessKeyId, LOCAL_CREDENTIALS.secretAccessKey],
  ['AKIDEXAMPLE', 'secret'],
  ['k', 's'],
]);

/** A request as a server received it. */
export interface ReceivedRequest {
  method: string;
  /** The path and query as they came on the wire (still percent-encoded). */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * Checks a request's SigV4 signature the way AWS does: rebuilds the canonical request from what was
 * received (the signed headers, the wire path, a hash of the body actually received) and signs it
 * again with the secret of the access key named in the Authorization header. `unknown` when the key
 * is not one of KNOWN_SECRETS (nothing to check it with).
 */
export async function checkSignature(req: ReceivedRequest): Promise<'valid' | 'invalid' | 'unknown'> {
  const auth = String(req.headers.authorization ?? '');
  const scope = /Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request/.exec(auth);
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(auth)?.[1]?.split(';');
  const date = String(req.headers['x-amz-date'] ?? '');
  if (!scope || !signedHeaders || !date) return 'invalid';
  const [, accessKeyId = '', , region = '', service = ''] = scope;
  const secretAccessKey = KNOWN_SECRETS.get(accessKeyId);
  if (secretAccessKey === undefined) return 'unknown';
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) headers[name] = String(req.headers[name] ?? '');
  // The hash of what arrived, not what the client claims it sent.
  if ('x-amz-content-sha256' in headers) headers['x-amz-content-sha256'] = await sha256Hex(req.body);
  const url = new URL(req.path, 'http://placeholder');
  const token = req.headers['x-amz-security-token'];
  const signer = new SignatureV4({
    service,
    region,
    sha256: Sha256,
    uriEscapePath: true,
    applyChecksum: signedHeaders.includes('x-amz-content-sha256'),
    credentials: { accessKeyId, secretAccessKey, ...(typeof token === 'string' ? { sessionToken: token } : {}) },
  });
  const request = new HttpRequest({
    method: req.method,
    hostname: headers.host ?? '',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers,
    body: req.body,
  });
  const signed = await signer.sign(request, { signingDate: amzDate(date), unsignableHeaders: new Set(), signableHeaders: new Set(signedHeaders) });
  return signed.headers.authorization === auth ? 'valid' : 'invalid';
}

async function sha256Hex(body: string): Promise<string> {
  const hash = new Sha256();
  hash.update(Buffer.from(body));
  return Buffer.from(await hash.digest()).toString('hex');
}

/** `20261127T031958Z` → a Date. */
function amzDate(text: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return new Date(NaN);
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}
