import { ApiError, api, openTail, request, spacePath } from './api';
import { h, json, render, table } from './dom';
import { history, parseMetrics, rates, remember, spacesOf, total, type Point, type Sample } from './metrics';

/** A page of the console: shows itself in `view` and returns what stops its timers and streams. */
export interface Page {
  id: string;
  title: string;
  show(view: HTMLElement, space: string): Promise<(() => void) | undefined>;
}

type Json = Record<string, unknown>;
interface EventType extends Json {
  name: string;
  authorizerId?: string;
  metadata?: Record<string, string>;
  schema?: unknown;
}
interface FunctionRecord extends Json {
  functionId: string;
  type: string;
  provider: Json;
  metadata?: Record<string, string>;
}
interface Subscription extends Json {
  subscriptionId: string;
  type: 'sync' | 'async';
  eventType: string;
  functionId: string;
  path: string;
  method: string;
  filters?: unknown[];
  transform?: { jsonata?: string; replace?: string };
  delivery?: { mode?: string; specversion?: string };
  retry?: { maxAttempts?: number; maxAgeSeconds?: number };
}
interface DeadLetter {
  deliveryId: string;
  subscriptionId: string;
  functionId: string;
  eventType: string;
  eventId: string;
  attempts: number;
  acceptedAt: string;
  deadLetteredAt?: string;
  error: string;
  event: unknown;
}

/** How often the overview samples the metrics; a tab may set `eventgateway.pollMs` in sessionStorage (tests do). */
const pollMs = () => Number(sessionStorage.getItem('eventgateway.pollMs')) || 5000;

const metadataChips = (metadata?: Record<string, string>) => Object.entries(metadata ?? {}).map(([k, v]) => h('span', { class: 'chip' }, `${k}=${v}`));
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The dead letters of a space, or the reason there are none to show (memory delivery, AWS without a DLQ). */
async function deadLettersOf(space: string): Promise<DeadLetter[] | string> {
  try {
    return (await api<{ deadLetters: DeadLetter[] }>('GET', spacePath(space, '/deadletters'))).deadLetters;
  } catch (err) {
    if (err instanceof ApiError && err.status === 501) return err.message;
    throw err;
  }
}

/** The metrics exposition, or undefined where there is none to read (AWS, a key limited to spaces). */
async function metrics(): Promise<Sample[] | undefined> {
  const res = await request('GET', '/v1/metrics');
  if (!res.ok) return undefined;
  const samples = parseMetrics(await res.text());
  return samples.some((s) => s.name.startsWith('eventgateway_')) ? samples : undefined;
}

/** Fills the space picker's suggestions. */
function suggestSpaces(spaces: string[]): void {
  const list = document.getElementById('spaces');
  if (list) render(list, spaces.map((s) => h('option', { value: s })));
}

/** A small area chart of per-second rates. */
function chart(points: Array<{ at: number; rate: number }>, kind: string): SVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 600 120');
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('class', `chart ${kind}`);
  if (points.length < 2) return svg;
  const max = Math.max(1, ...points.map((p) => p.rate));
  const first = (points[0] as { at: number }).at;
  const span = Math.max(1, (points[points.length - 1] as { at: number }).at - first);
  const xy = points.map((p) => [((p.at - first) / span) * 600, 115 - (p.rate / max) * 105] as const);
  const line = xy.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
  const area = document.createElementNS(ns, 'path');
  area.setAttribute('class', 'area');
  area.setAttribute('d', `${line} L600,120 L0,120 Z`);
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('class', 'line');
  path.setAttribute('d', line);
  svg.append(area, path);
  return svg;
}

const overview: Page = {
  id: 'overview',
  title: 'Overview',
  async show(view, space) {
    const draw = async () => {
      const [eventTypes, functions, subscriptions, deadLetters, samples] = await Promise.all([
        api<{ eventTypes: EventType[] }>('GET', spacePath(space, '/eventtypes')),
        api<{ functions: FunctionRecord[] }>('GET', spacePath(space, '/functions')),
        api<{ subscriptions: Subscription[] }>('GET', spacePath(space, '/subscriptions')),
        deadLettersOf(space),
        metrics(),
      ]);
      const points = samples
        ? remember(space, {
            at: Date.now(),
            events: total(samples, 'eventgateway_events_received_total', { space }),
            deliveries: total(samples, 'eventgateway_events_custom_processing_seconds_count'),
          })
        : history(space);
      const spaces = samples ? spacesOf(samples) : [space];
      suggestSpaces(spaces);
      const count = (label: string, n: number | string, id: string) => h('div', { class: 'card', 'data-count': id }, h('div', { class: 'n' }, String(n)), h('div', { class: 'l' }, label));
      render(
        view,
        h('h1', {}, `Space “${space}”`),
        h(
          'div',
          { class: 'cards' },
          count('event types', eventTypes.eventTypes.length, 'eventTypes'),
          count('functions', functions.functions.length, 'functions'),
          count('subscriptions', subscriptions.subscriptions.length, 'subscriptions'),
          count('dead letters', typeof deadLetters === 'string' ? '–' : deadLetters.length, 'deadLetters'),
        ),
        samples ? rateCharts(points) : h('p', { class: 'panel muted' }, 'Rates come from the Prometheus metrics of the local server (GET /v1/metrics); they are not available here (AWS reports to CloudWatch, or this key is limited to spaces).'),
        samples ? spacesTable(samples) : null,
        samples ? circuits(samples) : null,
      );
    };
    await draw();
    const timer = setInterval(() => {
      draw().catch(() => {
        // The next poll tries again; a gateway that went away shows on the next page change.
      });
    }, pollMs());
    return () => clearInterval(timer);
  },
};

function rateCharts(points: Point[]): HTMLElement {
  const panel = (title: string, kind: 'events' | 'deliveries', pick: (p: Point) => number) => {
    const series = rates(points, pick);
    const now = series.length > 0 ? (series[series.length - 1] as { rate: number }).rate : 0;
    return h(
      'div',
      { class: 'panel', 'data-chart': kind },
      h('div', { class: 'chart-head' }, h('strong', {}, title), h('span', { class: 'now' }, `${now.toFixed(now < 10 ? 1 : 0)}/s`)),
      chart(series, kind),
      h('div', { class: 'muted' }, series.length < 2 ? `sampling every ${pollMs() / 1000} s…` : `last ${Math.round((points[points.length - 1]!.at - points[0]!.at) / 60000) || '<1'} min`),
    );
  };
  return h('div', { class: 'grid2' }, panel('Events received', 'events', (p) => p.events), panel('Deliveries (all spaces)', 'deliveries', (p) => p.deliveries));
}

function spacesTable(samples: Sample[]): HTMLElement {
  const rows = spacesOf(samples).map((s) => [
    h('a', { href: `#/${encodeURIComponent(s)}/overview` }, s),
    String(total(samples, 'eventgateway_eventtypes_total', { space: s })),
    String(total(samples, 'eventgateway_functions_total', { space: s })),
    String(total(samples, 'eventgateway_subscriptions_total', { space: s })),
    String(total(samples, 'eventgateway_events_received_total', { space: s })),
    String(total(samples, 'eventgateway_deliveries_deadlettered_total', { space: s })),
  ]);
  return h('div', { class: 'panel' }, h('h2', {}, 'Spaces'), table(['space', 'event types', 'functions', 'subscriptions', 'events received', 'dead-lettered'], rows, 'Nothing registered yet.'));
}

/** Circuit breaker states per target, where the gateway reports them (0 closed, 1 half-open, 2 open). */
function circuits(samples: Sample[]): HTMLElement | null {
  const states = samples.filter((s) => s.name === 'eventgateway_target_circuit_state');
  if (states.length === 0) return null;
  const names = ['closed', 'half-open', 'open'];
  const rows = states.map((s) => [Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(' '), names[s.value] ?? String(s.value)]);
  return h('div', { class: 'panel' }, h('h2', {}, 'Target circuits'), table(['target', 'state'], rows, ''));
}

const eventTypes: Page = {
  id: 'eventtypes',
  title: 'Event types',
  async show(view, space) {
    const { eventTypes: list } = await api<{ eventTypes: EventType[] }>('GET', spacePath(space, '/eventtypes'));
    const rows = list.map((et) => [
      h('strong', { 'data-event-type': et.name }, et.name),
      et.authorizerId ?? h('span', { class: 'muted' }, '—'),
      metadataChips(et.metadata),
      et.schema === undefined
        ? h('span', { class: 'muted' }, 'no schema')
        : h(
            'details',
            { class: 'schema' },
            h('summary', {}, 'JSON Schema'),
            json(et.schema),
            h('div', { class: 'muted' }, 'also served as application/schema+json: ', h('code', {}, `GET ${spacePath(space, `/eventtypes/${encodeURIComponent(et.name)}/schema`)}`)),
          ),
    ]);
    render(view, h('h1', {}, 'Event types'), h('div', { class: 'panel' }, table(['name', 'authorizer', 'metadata', 'schema'], rows, 'No event types in this space.')));
    return undefined;
  },
};

const SECRET = /secret|password|token|auth|functionkey|signing|apikey/i;

/** The provider with anything secret-looking masked (the API masks secrets already; this is a second guard). */
function masked(value: unknown, key = ''): unknown {
  if (typeof value === 'string' && SECRET.test(key)) return '••••••';
  if (Array.isArray(value)) return value.map((v) => masked(v));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, masked(v, k)]));
  return value;
}

function targetOf(fn: FunctionRecord): string {
  const p = fn.provider;
  const first = ['url', 'arn', 'queueUrl', 'streamName', 'deliveryStreamName', 'eventBusName', 'action'].find((k) => typeof p[k] === 'string');
  return first ? String(p[first]) : '';
}

const functions: Page = {
  id: 'functions',
  title: 'Functions',
  async show(view, space) {
    const { functions: list } = await api<{ functions: FunctionRecord[] }>('GET', spacePath(space, '/functions'));
    const rows = list.map((fn) => [
      h('strong', { 'data-function': fn.functionId }, fn.functionId),
      h('span', { class: 'chip' }, fn.type),
      h('code', {}, targetOf(fn)),
      h('details', {}, h('summary', {}, 'provider'), json(masked(fn.provider))),
      metadataChips(fn.metadata),
    ]);
    render(view, h('h1', {}, 'Functions'), h('div', { class: 'panel' }, table(['function', 'type', 'target', 'provider (secrets masked)', 'metadata'], rows, 'No functions in this space.')));
    return undefined;
  },
};

/** A filter of the CloudEvents Subscriptions dialect as one readable line. */
export function describeFilter(filter: unknown): string {
  if (typeof filter !== 'object' || filter === null) return String(filter);
  const [op, arg] = Object.entries(filter)[0] ?? ['?', undefined];
  const pairs = (sign: string) => Object.entries((arg ?? {}) as Record<string, unknown>).map(([k, v]) => `${k} ${sign} "${String(v)}"`).join(' and ');
  switch (op) {
    case 'exact':
      return pairs('=');
    case 'prefix':
      return pairs('starts with');
    case 'suffix':
      return pairs('ends with');
    case 'all':
      return `(${(arg as unknown[]).map(describeFilter).join(' and ')})`;
    case 'any':
      return `(${(arg as unknown[]).map(describeFilter).join(' or ')})`;
    case 'not':
      return `not ${describeFilter(arg)}`;
    default:
      return JSON.stringify(filter);
  }
}

const subscriptions: Page = {
  id: 'subscriptions',
  title: 'Subscriptions',
  async show(view, space) {
    const [subs, types, fns] = await Promise.all([
      api<{ subscriptions: Subscription[] }>('GET', spacePath(space, '/subscriptions')),
      api<{ eventTypes: EventType[] }>('GET', spacePath(space, '/eventtypes')),
      api<{ functions: FunctionRecord[] }>('GET', spacePath(space, '/functions')),
    ]);
    const fnType = new Map(fns.functions.map((f) => [f.functionId, f.type]));
    const byType = new Map<string, Subscription[]>();
    for (const s of subs.subscriptions) byType.set(s.eventType, [...(byType.get(s.eventType) ?? []), s]);
    const cells: HTMLElement[] = [];
    for (const [eventType, list] of [...byType].sort(([a], [b]) => a.localeCompare(b))) {
      if (cells.length > 0) cells.push(h('div', { class: 'group-sep' }));
      list.forEach((s, i) => {
        cells.push(i === 0 ? h('div', { class: 'node et' }, eventType, h('small', {}, 'event type')) : h('div', {}));
        cells.push(edge(s));
        cells.push(h('div', { class: 'node fn' }, s.functionId, h('small', {}, fnType.get(s.functionId) ?? 'function')));
      });
    }
    const idle = types.eventTypes.filter((t) => !byType.has(t.name)).map((t) => h('span', { class: 'chip' }, t.name));
    render(
      view,
      h('h1', {}, 'Subscriptions'),
      h('p', { class: 'muted' }, 'Event type → function. Solid: sync (answers the request); dashed: async. Filters and transforms are shown on the arrow.'),
      h('div', { class: 'panel' }, cells.length > 0 ? h('div', { class: 'graph' }, cells) : h('p', { class: 'empty' }, 'No subscriptions in this space.')),
      idle.length > 0 ? h('div', { class: 'panel' }, h('strong', {}, 'Event types without subscribers: '), idle) : null,
    );
    return undefined;
  },
};

function edge(s: Subscription): HTMLElement {
  const transform = s.transform;
  return h(
    'div',
    { class: `edge ${s.type}`, 'data-subscription': s.subscriptionId },
    h(
      'span',
      { class: 'label' },
      h('span', { class: `chip ${s.type}` }, s.type),
      h('code', {}, `${s.method} ${s.path}`),
      h('br', {}),
      (s.filters ?? []).map((f) => h('span', { class: 'chip filter', title: JSON.stringify(f) }, `filter: ${describeFilter(f)}`)),
      transform ? h('span', { class: 'chip transform', title: transform.jsonata ?? '' }, `transform → ${transform.replace ?? 'data'}: ${transform.jsonata ?? ''}`) : null,
      s.delivery?.mode ? h('span', { class: 'chip' }, `${s.delivery.mode} mode`) : null,
      s.delivery?.specversion ? h('span', { class: 'chip' }, `as ${s.delivery.specversion}`) : null,
      s.retry ? h('span', { class: 'chip' }, `retry ≤ ${s.retry.maxAttempts ?? '?'}×`) : null,
    ),
  );
}

const deadLetters: Page = {
  id: 'deadletters',
  title: 'Dead letters',
  async show(view, space) {
    let status = '';
    const act = async (what: () => Promise<unknown>, done: string) => {
      try {
        await what();
        status = done;
      } catch (err) {
        status = message(err);
      }
      await draw();
    };
    const base = spacePath(space, '/deadletters');
    const draw = async () => {
      const list = await deadLettersOf(space);
      if (typeof list === 'string') {
        render(view, h('h1', {}, 'Dead letters'), h('p', { class: 'panel muted' }, list));
        return;
      }
      const rows = list.map((d) => [
        h('code', { 'data-dead-letter': d.deliveryId }, d.deliveryId.slice(0, 12)),
        d.eventType,
        d.functionId,
        String(d.attempts),
        h('span', { class: 'error' }, d.error),
        d.deadLetteredAt ? new Date(d.deadLetteredAt).toLocaleString() : '',
        h('details', {}, h('summary', {}, 'event'), json(d.event)),
        h(
          'span',
          {},
          h('button', { class: 'secondary', 'data-action': 'replay', onclick: () => void act(() => api('POST', `${base}/${encodeURIComponent(d.deliveryId)}/replay`), `Replayed ${d.deliveryId.slice(0, 12)}.`) }, 'Replay'),
          ' ',
          h('button', { class: 'danger', 'data-action': 'delete', onclick: () => void act(() => request('DELETE', `${base}/${encodeURIComponent(d.deliveryId)}`), `Deleted ${d.deliveryId.slice(0, 12)}.`) }, 'Delete'),
        ),
      ]);
      render(
        view,
        h('h1', {}, 'Dead letters'),
        h(
          'div',
          { class: 'toolbar' },
          h('button', { 'data-action': 'replay-all', disabled: list.length === 0, onclick: () => void act(() => api('POST', `${base}/replay`), 'Replayed all.') }, 'Replay all'),
          h('button', { class: 'danger', 'data-action': 'delete-all', disabled: list.length === 0, onclick: () => void act(() => api('DELETE', base), 'Deleted all.') }, 'Delete all'),
          h('button', { class: 'secondary', onclick: () => void draw() }, 'Refresh'),
          h('span', { class: 'muted', id: 'dead-letter-status' }, status),
        ),
        h('div', { class: 'panel' }, table(['delivery', 'event type', 'function', 'attempts', 'error', 'dead-lettered', 'event', ''], rows, 'No dead letters in this space.')),
      );
    };
    await draw();
    return undefined;
  },
};

interface TailItem {
  kind: string;
  time: string;
  eventType: string;
  eventId: string;
  [key: string]: unknown;
}

function tailDetails(item: TailItem): string {
  const f = (k: string) => (item[k] === undefined ? '' : String(item[k]));
  switch (item.kind) {
    case 'event.received':
      return `${item.eventType}  id=${item.eventId}  source=${f('source')}  ${f('size')} B${item.truncated ? ' (too large to show)' : ''}`;
    case 'event.invalid':
      return `${item.eventType}  id=${item.eventId}  ${f('error')}`;
    case 'delivery.succeeded':
      return `${item.eventType}  id=${item.eventId}  → ${f('functionId')} (${f('mode')}${item.attempt ? `, attempt ${f('attempt')}` : ''})  ${f('latencyMs')} ms`;
    case 'delivery.failed':
      return `${item.eventType}  id=${item.eventId}  → ${f('functionId')} (${f('mode')}${item.attempt ? `, attempt ${f('attempt')}` : ''})  ${f('latencyMs')} ms  ${f('error')}`;
    case 'delivery.deadlettered':
      return `${item.eventType}  id=${item.eventId}  → ${f('functionId')} after ${f('attempt')} attempts: ${f('error')}`;
    default:
      return JSON.stringify(item);
  }
}

const LABELS: Record<string, string> = {
  'event.received': 'received',
  'event.invalid': 'invalid',
  'delivery.succeeded': 'delivered',
  'delivery.failed': 'failed',
  'delivery.deadlettered': 'dead letter',
};

const tail: Page = {
  id: 'tail',
  title: 'Live tail',
  async show(view, space) {
    const list = h('div', { class: 'tail-list', id: 'tail-list' });
    const dot = h('span', { class: 'status-dot' });
    const state = h('span', { class: 'muted', id: 'tail-state' }, 'connecting…');
    const filter = h('input', { placeholder: 'event type (all)', id: 'tail-filter', spellcheck: 'false' }) as HTMLInputElement;
    let abort = new AbortController();
    let shown = 0;
    const add = (item: TailItem) => {
      const row = h(
        'div',
        { class: `tail-row kind-${item.kind.replace('.', '-')}`, 'data-kind': item.kind, 'data-event-id': item.eventId },
        h('span', {}, item.time.slice(11, 23)),
        h('strong', {}, LABELS[item.kind] ?? item.kind),
        h('span', { title: item.event === undefined ? '' : JSON.stringify(item.event) }, tailDetails(item)),
      );
      list.prepend(row);
      if (++shown > 500) list.lastElementChild?.remove();
    };
    const connect = async () => {
      abort.abort();
      abort = new AbortController();
      const signal = abort.signal;
      dot.classList.remove('live');
      state.textContent = 'connecting…';
      try {
        const res = await openTail(space, filter.value.trim(), signal);
        if (!res.ok || !res.body) {
          const text = await res.text();
          let reason = text;
          try {
            reason = (JSON.parse(text) as { errors: Array<{ message: string }> }).errors[0]?.message ?? text;
          } catch {
            // keep the text
          }
          state.textContent = res.status === 501 ? reason : `${res.status}: ${reason}`;
          return;
        }
        dot.classList.add('live');
        state.textContent = `live${filter.value.trim() ? ` (event type ${filter.value.trim()})` : ''}`;
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          for (let cut = buffer.indexOf('\n\n'); cut !== -1; cut = buffer.indexOf('\n\n')) {
            const data = buffer.slice(0, cut).split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
            buffer = buffer.slice(cut + 2);
            if (data) add(JSON.parse(data) as TailItem);
          }
        }
        dot.classList.remove('live');
        state.textContent = 'the gateway ended the tail';
      } catch (err) {
        if (signal.aborted) return;
        dot.classList.remove('live');
        state.textContent = `disconnected: ${message(err)}`;
      }
    };
    render(
      view,
      h('h1', {}, 'Live tail'),
      h(
        'div',
        { class: 'toolbar' },
        dot,
        state,
        filter,
        h('button', { class: 'secondary', onclick: () => void connect() }, 'Apply'),
        h('button', { class: 'secondary', onclick: () => list.replaceChildren() }, 'Clear'),
      ),
      h('div', { class: 'panel' }, list),
    );
    filter.addEventListener('keydown', (e) => {
      if ((e as KeyboardEvent).key === 'Enter') void connect();
    });
    void connect();
    return () => abort.abort();
  },
};

export const PAGES: Page[] = [overview, eventTypes, functions, subscriptions, deadLetters, tail];
