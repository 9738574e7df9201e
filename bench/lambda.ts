import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { bundleBudgetKb } from '../lib/infra/bundle-budgets';
import { EventGatewayStack } from '../lib/infra/gateway-stack';

/**
 * The Lambda side of the bench: synthesises the stack (the real NodejsFunction bundling, local
 * esbuild), then reports each handler's bundle size beside its budget and its cold `require` time, the median of
 * RUNS fresh Node processes. Run by bench/run.ts through tsx (lib/infra is not in dist).
 */

const RUNS = 7;
/** What the handlers read at module load; nothing is called, so the values need not exist. */
const HANDLER_ENV = {
  EG_TABLE_NAME: 'bench-registry',
  EG_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/bench',
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'AKIDBENCH',
  AWS_SECRET_ACCESS_KEY: 'bench',
};

/** Milliseconds to `require` a bundle in a fresh process, as a Lambda cold start does before the first event. */
function coldRequireMs(file: string): number {
  const script = `const t = performance.now(); require(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t));`;
  const out = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, ...HANDLER_ENV }, encoding: 'utf8' });
  return Number(out);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function main(): void {
  const outdir = mkdtempSync(join(tmpdir(), 'eg-bench-cdk-'));
  try {
    const app = new App({ outdir });
    const stack = new EventGatewayStack(app, 'EventGateway');
    const template = app.synth().getStackByName(stack.stackName).template as { Resources: Record<string, { Type: string; Properties: { Code: { S3Key: string }; Description?: string } }> };
    const lines = ['| Lambda handler | bundle KB (minified) | budget KB | cold require ms (median of 7) |', '|---|---:|---:|---:|'];
    for (const resource of Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function')) {
      const file = join(outdir, `asset.${String(resource.Properties.Code.S3Key).replace('.zip', '')}`, 'index.js');
      const times = Array.from({ length: RUNS }, () => coldRequireMs(file));
      const description = String(resource.Properties.Description);
      lines.push(`| ${description} | ${(statSync(file).size / 1024).toFixed(0)} | ${bundleBudgetKb(description)} | ${median(times).toFixed(1)} |`);
    }
    process.stdout.write(`\n${lines.join('\n')}\n`);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

main();
