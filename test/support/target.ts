import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a target received. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body's bytes, for binary payloads. */
  raw: Buffer;
  json: () => unknown;
}

/** How the target answers; the default answers 200 with an empty JSON object. */
export type TargetBehaviour = (req: ReceivedRequest) => { status?: number; body?: string; headers?: Record<string, string> } | 'hang';

/** A real HTTP server on loopback that records what it receives: a function's stand-in. */
export class TestTarget {
  readonly received: ReceivedRequest[] = [];
  behaviour: TargetBehaviour = () => ({ status: 200, body: '{}' });
  private waiters: Array<{ count: number; resolve: () => void }> = [];
  private readonly server: Server;

  private constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = raw.toString('utf8');
        const received: ReceivedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, raw, json: () => JSON.parse(body) };
        this.received.push(received);
        this.notify();
        const answer = this.behaviour(received);
        if (answer === 'hang') return;
        res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body ?? '');
      });
    });
  }

  /** Starts a target; give `port` to bring a stopped target back at its old address. */
  static async start(port = 0): Promise<TestTarget> {
    const target = new TestTarget();
    await new Promise<void>((resolve) => target.server.listen(port, '127.0.0.1', resolve));
    return target;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  /** Resolves once `count` requests have arrived in total. */
  waitFor(count: number, timeoutMs = 10_000): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`target got ${this.received.length} of ${count} requests`)), timeoutMs);
      this.waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  /** Answers sync calls with this response object, as a function behind a sync subscription would. */
  respondWith(response: unknown): void {
    this.behaviour = () => ({ status: 200, body: JSON.stringify(response) });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private notify(): void {
    this.waiters = this.waiters.filter((w) => {
      if (this.received.length < w.count) return true;
      w.resolve();
      return false;
    });
  }
}
