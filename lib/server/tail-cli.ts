import { parseArgs, styleText } from 'node:util';
import type { Activity } from '../gateway/activity';

/** What `event-gateway tail` follows and how it prints. */
export interface TailCommandOptions {
  space: string;
  eventType?: string;
  json: boolean;
  configUrl: string;
  accessKey?: string;
}

export const TAIL_HELP = `Usage: event-gateway tail [--space <space>] [--event-type <type>] [--json]

Follows what happens in a space of a running gateway: events received and refused, deliveries
succeeded, failed and dead-lettered, one line each (colored on a terminal).

  --space <space>          the space to follow (default "default")
  --event-type <type>      only this event type
  --json                   print each item as one line of JSON
  --config-url <url>       the gateway's Config API (default http://127.0.0.1:4001; env EVENT_GATEWAY_CONFIG_URL)
  --access-key <key>       an access key of the Config API (env EVENT_GATEWAY_ACCESS_KEY)
  --help                   print this help and exit
`;

export type TailCommand = { kind: 'run'; options: TailCommandOptions } | { kind: 'print'; text: string; exitCode: number };

/** Parses the arguments after `tail`; never exits itself. */
export function parseTailCommand(args: string[], env: NodeJS.ProcessEnv): TailCommand {
  try {
    const { values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        space: { type: 'string' },
        'event-type': { type: 'string' },
        json: { type: 'boolean', default: false },
        'config-url': { type: 'string' },
        'access-key': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    });
    if (values.help) return { kind: 'print', text: TAIL_HELP, exitCode: 0 };
    const configUrl = values['config-url'] ?? env.EVENT_GATEWAY_CONFIG_URL ?? 'http://127.0.0.1:4001';
    if (!/^https?:\/\//.test(configUrl)) throw new Error(`--config-url must be an http(s) URL, got "${configUrl}"`);
    const accessKey = values['access-key'] ?? env.EVENT_GATEWAY_ACCESS_KEY;
    return {
      kind: 'run',
      options: {
        space: values.space ?? 'default',
        ...(values['event-type'] ? { eventType: values['event-type'] } : {}),
        json: values.json ?? false,
        configUrl: configUrl.replace(/\/+$/, ''),
        ...(accessKey ? { accessKey } : {}),
      },
    };
  } catch (err) {
    return { kind: 'print', text: `event-gateway tail: ${(err as Error).message}\nRun event-gateway tail --help for the flags.\n`, exitCode: 2 };
  }
}

type Style = Parameters<typeof styleText>[0];

const LABELS: Record<Activity['kind'], [label: string, style: Style]> = {
  'event.received': ['received', 'cyan'],
  'event.invalid': ['invalid', 'magenta'],
  'delivery.succeeded': ['delivered', 'green'],
  'delivery.failed': ['failed', 'yellow'],
  'delivery.deadlettered': ['dead-letter', 'red'],
};

/** One human line for an item: time, what happened, the event, and the details of its kind. */
export function formatActivity(item: Activity, color: boolean): string {
  // Whether to color is decided here (TTY or not), not by styleText's own check of stdout.
  const paint = (style: Style, text: string) => (color ? styleText(style, text, { validateStream: false }) : text);
  const [label, style] = LABELS[item.kind] ?? [item.kind, 'white'];
  const time = item.time.slice(11, 23);
  const head = `${paint('dim', time)}  ${paint(style, label.padEnd(11))}  ${paint('bold', item.eventType)}  id=${item.eventId}`;
  return `${head}  ${details(item, paint)}`;
}

function details(item: Activity, paint: (style: Style, text: string) => string): string {
  switch (item.kind) {
    case 'event.received':
      return `source=${item.source} ${item.size} B${item.truncated ? ' (too large to show)' : ''}`;
    case 'event.invalid':
      return paint('magenta', item.error);
    case 'delivery.succeeded':
      return `→ ${item.functionId} (${item.mode}${item.attempt ? `, attempt ${item.attempt}` : ''}) ${item.latencyMs} ms`;
    case 'delivery.failed':
      return `→ ${item.functionId} (${item.mode}${item.attempt ? `, attempt ${item.attempt}` : ''}) ${item.latencyMs} ms: ${paint('yellow', item.error)}`;
    case 'delivery.deadlettered':
      return `→ ${item.functionId} after ${item.attempt} attempts: ${paint('red', item.error)} (dead letter ${item.deliveryId})`;
    default: {
      const unknown: never = item;
      return JSON.stringify(unknown);
    }
  }
}

/** The data lines of the complete SSE frames in `buffer`, and what is left of it. */
export function sseData(buffer: string): { data: string[]; rest: string } {
  const data: string[] = [];
  let rest = buffer;
  for (let cut = rest.indexOf('\n\n'); cut !== -1; cut = rest.indexOf('\n\n')) {
    const lines = rest.slice(0, cut).split('\n');
    rest = rest.slice(cut + 2);
    const payload = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart());
    if (payload.length > 0) data.push(payload.join('\n'));
  }
  return { data, rest };
}

/**
 * Follows a space's tail and writes one line per item until the stream ends; resolves with the exit
 * code (0 when the gateway ended the stream, 1 when it refused or could not be reached).
 */
export async function followTail(options: TailCommandOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream, color: boolean, signal?: AbortSignal): Promise<number> {
  const query = options.eventType ? `?eventType=${encodeURIComponent(options.eventType)}` : '';
  const url = `${options.configUrl}/v1/spaces/${encodeURIComponent(options.space)}/tail${query}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'text/event-stream', ...(options.accessKey ? { authorization: `Bearer ${options.accessKey}` } : {}) }, ...(signal ? { signal } : {}) });
  } catch (e) {
    err.write(`event-gateway tail: cannot reach ${options.configUrl}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}\n`);
    return 1;
  }
  if (res.status !== 200 || !res.body) {
    const text = await res.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { errors?: Array<{ message?: string }> }).errors?.[0]?.message ?? text;
    } catch {
      // not the contract's JSON: print the text
    }
    err.write(`event-gateway tail: ${res.status} ${message}\n`);
    return 1;
  }
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of res.body) {
      const parsed = sseData(buffer + decoder.decode(chunk as Uint8Array, { stream: true }));
      buffer = parsed.rest;
      for (const data of parsed.data) out.write(`${options.json ? data : formatActivity(JSON.parse(data) as Activity, color)}\n`);
    }
  } catch (e) {
    if (signal?.aborted) return 0;
    err.write(`event-gateway tail: the stream broke: ${(e as Error).message}\n`);
    return 1;
  }
  return 0;
}
