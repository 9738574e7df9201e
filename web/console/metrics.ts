/** One sample of a Prometheus exposition: name, labels, value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses Prometheus text exposition (comments skipped). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const match = LINE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) labels[key as string] = (value as string).replace(/\\(.)/g, '$1');
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of a metric's samples whose labels include `where`. */
export function total(samples: Sample[], name: string, where: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}

/** Spaces named by any sample's `space` label. */
export function spacesOf(samples: Sample[]): string[] {
  return [...new Set(samples.map((s) => s.labels.space).filter((s): s is string => typeof s === 'string' && s !== ''))].sort();
}

/** A point of a rate chart: when, and the counter's value then. */
export interface Point {
  at: number;
  events: number;
  deliveries: number;
}

const HISTORY_KEY = 'eventgateway.rates';
const HISTORY_MS = 10 * 60 * 1000;

/** Counter readings kept across page changes in this tab (the gateway keeps no history: the console samples it). */
export function history(space: string): Point[] {
  try {
    const all = JSON.parse(sessionStorage.getItem(HISTORY_KEY) ?? '{}') as Record<string, Point[]>;
    return all[space] ?? [];
  } catch {
    return [];
  }
}

export function remember(space: string, point: Point): Point[] {
  const all = (() => {
    try {
      return JSON.parse(sessionStorage.getItem(HISTORY_KEY) ?? '{}') as Record<string, Point[]>;
    } catch {
      return {};
    }
  })();
  const points = [...(all[space] ?? []), point].filter((p) => p.at >= point.at - HISTORY_MS);
  all[space] = points;
  sessionStorage.setItem(HISTORY_KEY, JSON.stringify(all));
  return points;
}

/** Per-second rates between consecutive readings; a counter that went down (a restart) counts from zero. */
export function rates(points: Point[], pick: (p: Point) => number): Array<{ at: number; rate: number }> {
  const out: Array<{ at: number; rate: number }> = [];
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1] as Point;
    const b = points[i] as Point;
    const seconds = (b.at - a.at) / 1000;
    if (seconds <= 0) continue;
    const delta = pick(b) >= pick(a) ? pick(b) - pick(a) : pick(b);
    out.push({ at: b.at, rate: delta / seconds });
  }
  return out;
}
