/**
 * Jest setup (setupFilesAfterEach): a promise rejected without a handler fails the test it happened in
 * (or the next one of the file, or the file's last test when it surfaces after all of them). Node would
 * end the gateway's process on one (and Lambda's runtime its execution environment): no test may leave one.
 */
const unhandled: unknown[] = [];

process.on('unhandledRejection', (reason: unknown) => {
  unhandled.push(reason);
});

function describeReason(reason: unknown): string {
  return reason instanceof Error ? (reason.stack ?? `${reason.name}: ${reason.message}`) : String(reason);
}

/** Gives rejections made in the test's last turns the chance to surface, then fails on any that did. */
async function failOnUnhandled(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  if (unhandled.length === 0) return;
  const reasons = unhandled.splice(0);
  throw new Error(`${reasons.length} unhandled promise rejection(s):\n${reasons.map(describeReason).join('\n---\n')}`);
}

afterEach(failOnUnhandled);
afterAll(failOnUnhandled);
