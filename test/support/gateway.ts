import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../lib/logger';
import { startGateway, type GatewayOptions, type RunningGateway } from '../../lib/server/gateway';
import { SqliteStore } from '../../lib/stores/sqlite';
import { TestTarget } from './target';

/** A gateway on free loopback ports with its own data directory, removed on stop. */
export interface TestGateway extends RunningGateway {
  dataDir: string;
  /** Config API base URL of a space. */
  space(name?: string): string;
  stop(): Promise<void>;
}

export function tempDir(prefix = 'eg-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startTestGateway(overrides: Partial<GatewayOptions> & { dataDir?: string } = {}): Promise<TestGateway> {
  const dataDir = overrides.dataDir ?? tempDir();
  const gateway = await startGateway({
    store: new SqliteStore(dataDir),
    logger: silentLogger,
    eventsPort: 0,
    configPort: 0,
    workers: 8,
    workersBacklog: 1000,
    // Durable delivery with a quick backoff, so that retry tests take milliseconds, not minutes.
    delivery: { mode: 'durable', dataDir, backoff: { baseMs: 20, capMs: 200 } },
    // Tests call loopback targets and change the registry without keys, as `--dev` allows.
    configAccess: { keys: [], withoutKeys: 'open' },
    targetNetworks: { allowLoopback: true },
    ...overrides,
  });
  return {
    ...gateway,
    dataDir,
    space: (name = 'default') => `${gateway.configUrl}/v1/spaces/${name}`,
    stop: async () => {
      await gateway.close();
      if (!overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The message of the contract's error body `{"errors":[{"message"}]}`. */
export const errorOf = (body: any): string => body?.errors?.[0]?.message;

/** A JSON request to the Config API; returns status and parsed body. */
export async function call(method: string, url: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const init: RequestInit = { method, headers: { 'content-type': 'application/json' } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(url, init);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: keep the text, the test asserts on it
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Registers an event type, an http function and a subscription in one go. */
export async function subscribe(
  gw: TestGateway,
  sub: { type: 'sync' | 'async'; eventType: string; functionId: string; url: string; path?: string; method?: string; space?: string },
): Promise<any> {
  const base = gw.space(sub.space);
  await call('POST', `${base}/eventtypes`, { name: sub.eventType });
  await call('POST', `${base}/functions`, { functionId: sub.functionId, type: 'http', provider: { url: sub.url } });
  const res = await call('POST', `${base}/subscriptions`, {
    type: sub.type,
    eventType: sub.eventType,
    functionId: sub.functionId,
    ...(sub.path ? { path: sub.path } : {}),
    ...(sub.method ? { method: sub.method } : {}),
  });
  if (res.status !== 201) throw new Error(`subscribe failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** What each test of a shared gateway gets: the gateway, and a target and a space of its own. */
export interface SharedGatewayFixture {
  gw: TestGateway;
  target: TestTarget;
  space: string;
}

/**
 * One gateway for the whole describe block and, before each test, a fresh target and a fresh space
 * (`${prefix}1`, `${prefix}2`, …) handed to `use`. Registers its own hooks: call it inside a describe.
 */
export function sharedGateway(prefix: string, use: (fixture: SharedGatewayFixture) => void): void {
  let gw: TestGateway;
  let target: TestTarget;
  let n = 0;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw.stop());
  beforeEach(async () => {
    target = await TestTarget.start();
    use({ gw, target, space: `${prefix}${++n}` });
  });
  afterEach(() => target.close());
}
