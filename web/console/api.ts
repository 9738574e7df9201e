const KEY_STORAGE = 'eventgateway.accessKey';

/** An error answer of the Config API: its status and the contract's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Asks the user for an access key; resolves once one is entered. Set by the shell. */
let askForKey: (problem?: string) => Promise<void> = () => Promise.reject(new Error('no key prompt'));

export function setKeyPrompt(prompt: (problem?: string) => Promise<void>): void {
  askForKey = prompt;
}

export function accessKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function setAccessKey(key: string | null): void {
  if (key === null) sessionStorage.removeItem(KEY_STORAGE);
  else sessionStorage.setItem(KEY_STORAGE, key);
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const key = accessKey();
  return { ...extra, ...(key ? { authorization: `Bearer ${key}` } : {}) };
}

/**
 * A Config API request from the console (same origin). A 401 asks for a key and tries again, so the
 * console works with and without access keys.
 */
export async function request(method: string, path: string, body?: unknown): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const init: RequestInit = { method, headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }) };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await fetch(path, init);
    if (res.status !== 401 || attempt > 5) return res;
    await askForKey(accessKey() ? 'That key was refused.' : undefined);
  }
}

/** A JSON answer, or an ApiError with the contract's message. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await request(method, path, body);
  const text = await res.text();
  if (!res.ok) {
    let message = text || res.statusText;
    try {
      message = (JSON.parse(text) as { errors?: Array<{ message?: string }> }).errors?.[0]?.message ?? message;
    } catch {
      // not JSON: keep the text
    }
    throw new ApiError(res.status, message);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

export const spacePath = (space: string, rest: string): string => `/v1/spaces/${encodeURIComponent(space)}${rest}`;

/** Opens a live tail with the key (EventSource cannot send one); the caller reads the body stream. */
export function openTail(space: string, eventType: string, signal: AbortSignal): Promise<Response> {
  const query = eventType ? `?eventType=${encodeURIComponent(eventType)}` : '';
  return fetch(spacePath(space, `/tail${query}`), { headers: headers({ accept: 'text/event-stream' }), signal });
}
