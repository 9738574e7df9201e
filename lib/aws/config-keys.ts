import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigAccess, parseAccessKeys, withConfigAccess } from '../http/config-access';
import type { IncomingRequest } from '../events/request';
import { errorResponse, type GatewayResponse } from '../gateway/response';
import type { Logger } from '../logger';

/** How long keys read from the secret are used before it is read again: a rotation applies within this time. */
export const CONFIG_KEYS_TTL_MS = 5 * 60_000;
/** How long a failed read is remembered before the next request tries again (no storm of reads while it fails). */
const RETRY_AFTER_FAILURE_MS = 5_000;
/** Time allowed for one read of the secret. */
const READ_TIMEOUT_MS = 5_000;

/** The keys now, or why every request is refused. */
export type KeysState = { access: ConfigAccess } | { refused: string };

export interface SecretAccessKeysOptions {
  client: SecretsManagerClient;
  /** The secret's name or ARN. */
  secretId: string;
  logger: Logger;
  ttlMs?: number;
}

/**
 * The Config API's access keys, read from a Secrets Manager secret (the `--config-keys-file` JSON)
 * and cached for a few minutes, so that a rotation needs no redeploy and the keys never sit in the
 * function's environment. Fails closed: a secret that cannot be read, does not parse or holds no key
 * refuses every request.
 */
export class SecretAccessKeys {
  private state?: { value: KeysState; until: number };
  private reading?: Promise<KeysState>;

  constructor(private readonly options: SecretAccessKeysOptions) {}

  /** The current keys: cached, or read now (one read at a time, shared by the requests waiting on it). */
  current(): Promise<KeysState> {
    if (this.state && Date.now() < this.state.until) return Promise.resolve(this.state.value);
    this.reading ??= this.read().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async read(): Promise<KeysState> {
    const { client, secretId, logger } = this.options;
    let value: KeysState;
    try {
      const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }), { abortSignal: AbortSignal.timeout(READ_TIMEOUT_MS) });
      if (out.SecretString === undefined) throw new Error('the secret has no SecretString');
      const keys = parseAccessKeys(out.SecretString, 'the access keys secret');
      value = keys.length > 0 ? { access: new ConfigAccess({ keys, withoutKeys: 'read-only' }) } : { refused: "The Config API's access keys secret holds no key: every request is refused." };
      if (keys.length === 0) logger.error({ secretId }, 'the access keys secret holds no key; the Config API refuses every request');
    } catch (err) {
      // Names and AWS error codes only: parseAccessKeys' messages never carry a key.
      logger.error({ secretId, err: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }, 'cannot read the access keys secret; the Config API refuses every request');
      value = { refused: "The Config API's access keys cannot be read: every request is refused." };
    }
    const ttl = 'access' in value ? (this.options.ttlMs ?? CONFIG_KEYS_TTL_MS) : RETRY_AFTER_FAILURE_MS;
    this.state = { value, until: Date.now() + ttl };
    return value;
  }
}

/** Wraps the Config API handler with the secret's keys: refused requests (503 while no keys are usable, else 401/403) never reach it. */
export function withSecretConfigAccess(handle: (req: IncomingRequest) => Promise<GatewayResponse>, keys: SecretAccessKeys) {
  return async (req: IncomingRequest): Promise<GatewayResponse> => {
    const state = await keys.current();
    if ('refused' in state) return errorResponse(503, state.refused);
    return withConfigAccess(handle, state.access)(req);
  };
}
