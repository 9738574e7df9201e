import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkSignature } from './sigv4';

/** One GetSecretValue call as it arrived on the wire. */
export interface SecretsManagerCall {
  target: string;
  secretId: string;
  signature: 'valid' | 'invalid' | 'unknown';
  /** The SigV4 signing service of the request (from its credential scope). */
  service: string;
}

/**
 * A loopback server speaking the Secrets Manager JSON protocol (AWS JSON 1.1, `X-Amz-Target:
 * secretsmanager.GetSecretValue`): enough to point the real SDK client at it. A secret missing from
 * `secrets` is answered as Secrets Manager answers one it does not have; `failing` answers 500s.
 */
export class SecretsManagerLoopback {
  readonly calls: SecretsManagerCall[] = [];
  readonly secrets = new Map<string, string>();
  failing = false;
  private readonly server: Server;

  private constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const target = String(req.headers['x-amz-target'] ?? '');
        const body = JSON.parse(raw || '{}') as { SecretId?: string };
        const service = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
        void checkSignature({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: raw }).then((signature) => {
          this.calls.push({ target, secretId: body.SecretId ?? '', signature, service });
          const answer = this.answer(target, body.SecretId ?? '', signature);
          res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1', ...(answer.status >= 400 ? { 'x-amzn-errortype': (answer.body as { __type: string }).__type } : {}) });
          res.end(JSON.stringify(answer.body));
        });
      });
    });
  }

  static async start(): Promise<SecretsManagerLoopback> {
    const sm = new SecretsManagerLoopback();
    await new Promise<void>((resolve) => sm.server.listen(0, '127.0.0.1', resolve));
    return sm;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(target: string, secretId: string, signature: string): { status: number; body: unknown } {
    if (signature === 'invalid') return { status: 400, body: { __type: 'InvalidSignatureException', message: 'signature mismatch' } };
    if (this.failing) return { status: 500, body: { __type: 'InternalServiceError', message: 'stand-in failing on purpose' } };
    if (target !== 'secretsmanager.GetSecretValue') return { status: 400, body: { __type: 'UnknownOperationException', message: target } };
    const value = this.secrets.get(secretId);
    if (value === undefined) return { status: 400, body: { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." } };
    const arn = `arn:aws:secretsmanager:us-east-1:000000000000:secret:${secretId}-AbCdEf`;
    return { status: 200, body: { ARN: arn, Name: secretId, SecretString: value, VersionId: 'v1', VersionStages: ['AWSCURRENT'], CreatedDate: 1_790_000_000 } };
  }
}
