import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingRequest } from '../events/request';
import { isConsolePath } from './console';
import { errorResponse, type GatewayResponse } from '../gateway/response';

/** One Config API access key: full access unless limited to some spaces and/or to reading. */
export interface AccessKey {
  key: string;
  /** Spaces the key may use; absent means every space (and `GET /v1/metrics`). */
  spaces?: string[];
  /** Only GET requests. */
  readOnly?: boolean;
  /** A label for operators; never the key itself. */
  name?: string;
}

/** Who may use the Config API. */
export interface ConfigAccessOptions {
  keys: readonly AccessKey[];
  /**
   * Without keys: `open` lets anyone change the registry (development, or an explicit
   * `--allow-unauthenticated-config`); `read-only` refuses every write. Ignored when keys exist.
   */
  withoutKeys: 'open' | 'read-only';
}

/** The outcome of the access check: allowed, or the error answer to send. */
export type AccessDecision = { allowed: true } | { allowed: false; statusCode: 401 | 403; message: string };

interface StoredKey {
  hash: Buffer;
  spaces?: ReadonlySet<string>;
  readOnly: boolean;
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const MIN_KEY_LENGTH = 16;

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * Parses access keys from JSON: an array of entries, or `{"keys": [...]}`; an entry is a key string
 * (full access) or `{key, spaces?, readOnly?, name?}`. Error messages name the entry, never the key.
 */
export function parseAccessKeys(json: string, source: string): AccessKey[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error(`${source}: access keys are not valid JSON`);
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) throw new Error(`${source}: expected an array of access keys or {"keys": [...]}`);
  return list.map((entry: unknown, i) => accessKey(typeof entry === 'string' ? { key: entry } : entry, `${source}: access key #${i + 1}`));
}

function accessKey(entry: unknown, where: string): AccessKey {
  if (typeof entry !== 'object' || entry === null) throw new Error(`${where} must be a string or an object`);
  const { key, spaces, readOnly, name } = entry as Record<string, unknown>;
  if (typeof key !== 'string' || key.length < MIN_KEY_LENGTH || /\s/.test(key)) {
    throw new Error(`${where}: "key" must be a string of at least ${MIN_KEY_LENGTH} characters without spaces`);
  }
  if (spaces !== undefined && !(Array.isArray(spaces) && spaces.every((s) => typeof s === 'string'))) throw new Error(`${where}: "spaces" must be an array of space names`);
  if (readOnly !== undefined && typeof readOnly !== 'boolean') throw new Error(`${where}: "readOnly" must be true or false`);
  if (name !== undefined && typeof name !== 'string') throw new Error(`${where}: "name" must be a string`);
  return { key, ...(spaces ? { spaces: spaces as string[] } : {}), ...(readOnly !== undefined ? { readOnly } : {}), ...(name ? { name } : {}) };
}

/** Access keys from `EVENT_GATEWAY_ACCESS_KEYS`: the JSON form, or plain keys separated by commas (full access). */
export function accessKeysFromEnv(value: string | undefined): AccessKey[] {
  if (value === undefined || value.trim() === '') return [];
  const text = value.trim();
  if (text.startsWith('[') || text.startsWith('{')) return parseAccessKeys(text, 'EVENT_GATEWAY_ACCESS_KEYS');
  return text.split(',').map((key, i) => accessKey({ key: key.trim() }, `EVENT_GATEWAY_ACCESS_KEYS: access key #${i + 1}`));
}

/** The bearer token of an Authorization header; the scheme is case-insensitive, as the official client sends `bearer`. */
function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const match = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(value ?? '');
  return match?.[1];
}

/** The space a Config API path is about, found exactly as the Config API finds it (4th segment, decoded). */
function spaceOf(path: string): string {
  const segment = path.split('/')[3] ?? '';
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Decides whether a Config API request may proceed. Pure and transport-neutral, so a Lambda
 * authorizer in front of API Gateway can make the same decision with the same keys.
 */
export class ConfigAccess {
  private readonly keys: readonly StoredKey[];

  constructor(private readonly options: ConfigAccessOptions) {
    this.keys = options.keys.map((k) => ({
      hash: sha256(k.key),
      readOnly: k.readOnly ?? false,
      ...(k.spaces ? { spaces: new Set(k.spaces) } : {}),
    }));
  }

  /** Whether keys are enforced. */
  get enforced(): boolean {
    return this.keys.length > 0;
  }

  decide(req: { method: string; path: string; authorization?: string | string[] | undefined }): AccessDecision {
    // The console's page and script hold no data: it asks for a key itself and sends it with every call.
    if ((req.method === 'GET' && (req.path === '/v1/status' || req.path === '/v1/status/live')) || isConsolePath(req.method, req.path)) return { allowed: true };
    const write = !READ_METHODS.has(req.method);
    if (!this.enforced) {
      if (!write || this.options.withoutKeys === 'open') return { allowed: true };
      return deny(403, 'The Config API is read-only: no access keys are configured. Start the gateway with --config-keys-file (or --allow-unauthenticated-config).');
    }
    const token = bearerToken(req.authorization);
    const key = token === undefined ? undefined : this.find(token);
    if (!key) return deny(401, 'Missing or invalid access key. Send "Authorization: Bearer <key>".');
    if (write && key.readOnly) return deny(403, 'This access key is read-only.');
    if (!key.spaces) return { allowed: true };
    if (req.path === '/v1/metrics') return deny(403, 'Metrics need an access key that is not limited to spaces.');
    const space = spaceOf(req.path);
    if (!key.spaces.has(space)) return deny(403, `This access key may not use space "${space}".`);
    return { allowed: true };
  }

  /** Compares the token's hash with every key's hash in constant time, without stopping at a match. */
  private find(token: string): StoredKey | undefined {
    const hash = sha256(token);
    let found: StoredKey | undefined;
    for (const key of this.keys) {
      if (timingSafeEqual(hash, key.hash) && !found) found = key;
    }
    return found;
  }
}

function deny(statusCode: 401 | 403, message: string): AccessDecision {
  return { allowed: false, statusCode, message };
}

/** Wraps a Config API handler: refused requests get the contract's JSON error and never reach it. */
export function withConfigAccess(handle: (req: IncomingRequest) => Promise<GatewayResponse>, access: ConfigAccess) {
  return (req: IncomingRequest): Promise<GatewayResponse> => {
    const decision = access.decide({ method: req.method, path: req.path, authorization: req.headers.authorization });
    if (decision.allowed) return handle(req);
    const challenge: Record<string, string> = decision.statusCode === 401 ? { 'www-authenticate': 'Bearer realm="event-gateway-config"' } : {};
    return Promise.resolve(errorResponse(decision.statusCode, decision.message, challenge));
  };
}
