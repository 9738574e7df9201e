/**
 * Size budgets of the Lambda handlers' bundles (minified, KB), held by the bundling test and printed by
 * bench/lambda.ts. Issue 12 set 500 KB for each API handler and 900 KB for the worker, with the AWS SDK's
 * own clients bundled. Event schemas (ajv, ajv-formats, fast-uri: ≈ 145 KB minified) came into every
 * handler that routes or validates after those budgets were set, so the API handlers get that on top,
 * named apart; the worker's fits within its own.
 */
export const EVENT_SCHEMAS_KB = 150;

export const BUNDLE_BUDGETS_KB: ReadonlyArray<readonly [handler: string, kb: number]> = [
  ['Events API', 500 + EVENT_SCHEMAS_KB],
  ['Config API', 500 + EVENT_SCHEMAS_KB],
  ['worker', 900],
];

/** The budget of the handler whose function description names it; 0 (nothing fits) for an unknown one. */
export function bundleBudgetKb(description: string): number {
  return BUNDLE_BUDGETS_KB.find(([name]) => description.includes(name))?.[1] ?? 0;
}
