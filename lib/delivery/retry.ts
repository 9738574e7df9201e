import type { RetryPolicy } from './queue';

/**
 * Defaults close to the peers': EventBridge retries for 24 h (185 attempts), Event Grid for 24 h
 * (30 attempts). With the backoff below, 30 attempts span about two hours before the age limit matters.
 */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 30, maxAgeSeconds: 24 * 60 * 60 };

/** Backoff shape: the first retry after about a second, doubling, at most five minutes apart. */
export interface Backoff {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 1000, capMs: 5 * 60 * 1000 };

/**
 * Delay before the next attempt after `attempts` failed ones: exponential with "equal jitter" (half
 * fixed, half random), so that retries of a burst spread out but never come back at once.
 */
export function retryDelayMs(attempts: number, backoff: Backoff = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exponential = Math.min(backoff.capMs, backoff.baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

/** Whether a delivery that failed for the `attempts`-th time, accepted at `acceptedAt`, may be tried again. */
export function mayRetry(policy: RetryPolicy, attempts: number, acceptedAt: number, now: number): boolean {
  return attempts < policy.maxAttempts && now - acceptedAt < policy.maxAgeSeconds * 1000;
}
