import { TargetError } from '../../lib/providers/provider';

/** Polls `check` until it gives a value; the deadline only bounds a failing test. */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, deadlineMs = 10_000): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The TargetError a call failed with; throws when it succeeded or failed otherwise. */
export async function failureOf(promise: Promise<unknown>): Promise<TargetError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof TargetError)) throw new Error(`expected a TargetError, got ${String(err)}`);
  return err;
}
