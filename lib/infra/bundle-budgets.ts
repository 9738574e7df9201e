/**
 * Size budgets of the Lambda handlers' bundles (minified, KB), held by the bundling test and printed by
 * bench/lambda.ts. Issue 12 set 500 KB for each API handler and 900 KB for the worker, with the AWS SDK's
 * own clients bundled. Two engines came into every handler after those budgets were set, and each gets
 * its measured size (rounded up) on top, named apart: event schemas (ajv, ajv-formats, fast-uri: ≈ 144 KB
 * minified) and subscription transforms (jsonata: ≈ 81 KB).
 */
export const EVENT_SCHEMAS_KB = 150;
export const TRANSFORMS_KB = 85;

const ENGINES_KB = EVENT_SCHEMAS_KB + TRANSFORMS_KB;

export const BUNDLE_BUDGETS_KB: ReadonlyArray<readonly [handler: string, kb: number]> = [
  ['Events API', 500 + ENGINES_KB],
  ['Config API', 500 + ENGINES_KB],
  ['worker', 900 + ENGINES_KB],
];

/** The budget of the handler whose function description names it; 0 (nothing fits) for an unknown one. */
export function bundleBudgetKb(description: string): number {
  return BUNDLE_BUDGETS_KB.find(([name]) => description.includes(name))?.[1] ?? 0;
}
