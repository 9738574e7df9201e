import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The context `cdk synth` gives the app: cdk.json's (the recommended feature flags among it). */
export const CDK_JSON_CONTEXT = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;

/** The feature flags the installed aws-cdk-lib recommends: what `cdk init` writes into a new app's cdk.json. */
export function recommendedFeatureFlags(): Record<string, unknown> {
  const file = join(dirname(require.resolve('aws-cdk-lib/package.json')), 'recommended-feature-flags.json');
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}
