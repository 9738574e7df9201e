import { request, type IncomingHttpHeaders } from 'node:http';

/** One Server-Sent Events frame of a live tail. */
export interface TailFrame {
  event: string;
  data: any;
}

/** A live tail read by a test: the answer's status and the frames, one at a time. */
export interface TestTail {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body of a refused tail (JSON error). */
  body?: any;
  /** The next data frame (comments are skipped); rejects when the stream ends first or after the deadline. */
  next(deadlineMs?: number): Promise<TailFrame>;
  close(): void;
}

/** Parses the frames of an SSE text stream; returns the frames complete so far and the rest. */
function frames(buffer: string): { complete: TailFrame[]; rest: string } {
  const complete: TailFrame[] = [];
  let rest = buffer;
  for (let cut = rest.indexOf('\n\n'); cut !== -1; cut = rest.indexOf('\n\n')) {
    const lines = rest.slice(0, cut).split('\n').filter((l) => !l.startsWith(':'));
    rest = rest.slice(cut + 2);
    if (lines.length === 0) continue;
    const event = lines.find((l) => l.startsWith('event: '))?.slice('event: '.length) ?? 'message';
    const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice('data: '.length)).join('\n');
    complete.push({ event, data: JSON.parse(data) });
  }
  return { complete, rest };
}

/**
 * Opens `GET <url>` as a stream with node:http (closing an aborted fetch leaves its socket open for a
 * while, which would hold the gateway's shutdown) and parses its frames as they come.
 */
export function openTail(url: string, headers: Record<string, string> = {}): Promise<TestTail> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      res.setEncoding('utf8');
      if (res.statusCode !== 200) {
        let text = '';
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined, next: () => Promise.reject(new Error('not open')), close: () => req.destroy() }),
        );
        return;
      }
      let buffer = '';
      let ended = false;
      const queue: TailFrame[] = [];
      let wake: (() => void) | undefined;
      res.on('data', (chunk: string) => {
        const parsed = frames(buffer + chunk);
        buffer = parsed.rest;
        queue.push(...parsed.complete);
        wake?.();
      });
      const finish = () => {
        ended = true;
        wake?.();
      };
      res.on('end', finish);
      res.on('close', finish);
      const next = async (deadlineMs = 10_000): Promise<TailFrame> => {
        const until = Date.now() + deadlineMs;
        for (;;) {
          const frame = queue.shift();
          if (frame) return frame;
          if (ended) throw new Error('the tail ended');
          if (Date.now() > until) throw new Error('no tail frame before the deadline');
          await new Promise<void>((done) => {
            const timer = setTimeout(done, 100);
            wake = () => {
              clearTimeout(timer);
              done();
            };
          });
        }
      };
      resolve({ status: 200, headers: res.headers, next, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}
