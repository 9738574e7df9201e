import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Activity, ActivityFeed } from '../gateway/activity';
import { errorResponse } from '../gateway/response';
import type { ConfigAccess } from '../http/config-access';
import type { Logger } from '../logger';
import { writeResponse } from './node-adapter';

export interface LiveTailsOptions {
  feed: ActivityFeed;
  access: ConfigAccess;
  logger: Logger;
  /** Most tails open at once in this process (default 32); more are a 429. */
  maxTails?: number;
  /** Bytes a tail may have waiting for a slow client before it is dropped (default 1 MB). */
  maxBufferedBytes?: number;
  /** How often a comment line keeps idle connections (and proxies) open, in ms (default 15 s). */
  heartbeatMs?: number;
}

const TAIL_PATH = /^\/v1\/spaces\/([^/]+)\/tail\/?$/;

/** The space of a tail request's path, or undefined when the path is not a tail's. */
export function tailSpace(path: string): string | undefined {
  const match = TAIL_PATH.exec(path);
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1] as string);
  } catch {
    return match[1];
  }
}

/**
 * `GET /v1/spaces/{space}/tail`: Server-Sent Events of a space's activity, for the local server (it
 * needs a response that stays open, which the request → response Config API cannot give). Same access
 * keys as the Config API. A client that does not keep up is dropped: writing never waits for it.
 */
export class LiveTails {
  private readonly open = new Set<ServerResponse>();
  private readonly maxTails: number;
  private readonly maxBuffered: number;

  constructor(private readonly options: LiveTailsOptions) {
    this.maxTails = options.maxTails ?? 32;
    this.maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
  }

  /** Serves the request when it is a tail's and returns true; false leaves it to the Config API. */
  handles(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const space = tailSpace(q === -1 ? url : url.slice(0, q));
    if (space === undefined || req.method !== 'GET') return false;
    const decision = this.options.access.decide({ method: 'GET', path: q === -1 ? url : url.slice(0, q), authorization: req.headers.authorization });
    if (!decision.allowed) {
      writeResponse(res, errorResponse(decision.statusCode, decision.message));
      return true;
    }
    if (this.open.size >= this.maxTails) {
      writeResponse(res, errorResponse(429, `Too many live tails: at most ${this.maxTails} per gateway process. Close one and try again.`));
      return true;
    }
    const eventType = new URLSearchParams(q === -1 ? '' : url.slice(q + 1)).get('eventType') ?? undefined;
    this.stream(res, space, eventType || undefined);
    return true;
  }

  /** Open tails. */
  get size(): number {
    return this.open.size;
  }

  /** Ends every tail (the gateway is stopping: open streams would hold the server open). */
  closeAll(): void {
    for (const res of this.open) res.end();
  }

  private stream(res: ServerResponse, space: string, eventType: string | undefined): void {
    // A tail's connection is not reused: ending the stream closes it, so that stopping never waits on it.
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no', connection: 'close' });
    res.write(`: tail of space ${space}${eventType ? `, event type ${eventType}` : ''}\n\n`);
    this.open.add(res);
    let unsubscribe = (): void => {};
    const unwatch = this.options.feed.watch(space);
    const heartbeat = setInterval(() => this.write(res, ': ping\n\n', stop), this.options.heartbeatMs ?? 15_000);
    heartbeat.unref();
    const stop = () => {

      clearInterval(heartbeat);
      unsubscribe();
      unwatch();
      this.open.delete(res);
      if (!res.writableEnded) res.end();
    };
    unsubscribe = this.options.feed.subscribe((item) => {
      if (item.space !== space || (eventType !== undefined && item.eventType !== eventType)) return;
      this.write(res, frame(item), stop);
    });
    res.on('close', stop);
  }

  /** Writes without waiting; a client with more than the limit still unread is dropped. */
  private write(res: ServerResponse, text: string, stop: () => void): void {
    if (res.destroyed || res.writableEnded) return;
    res.write(text);
    if (res.writableLength > this.maxBuffered) {
      this.options.logger.info({ buffered: res.writableLength }, 'live tail dropped: the client does not keep up');
      stop();
      res.destroy();
    }
  }
}

/** One Server-Sent Events frame: the kind as the event name, the item as JSON data. */
function frame(item: Activity): string {
  return `event: ${item.kind}\ndata: ${JSON.stringify(item)}\n\n`;
}
