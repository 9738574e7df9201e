import { rmSync } from 'node:fs';
import { tempDir } from './gateway';
import { startGatewayProcess, type GatewayProcess } from './process';
import { SqsLoopback } from './sqs-loopback';
import { TestTarget } from './target';

/** The built gateway delivering through the SQS loopback (queue `deliveries`, dead letters in `dlq`), and one loopback target. */
export interface SqsGateway {
  sqs: SqsLoopback;
  target: TestTarget;
  gw: GatewayProcess;
  /** Stops the gateway (SIGTERM, waits for its exit), the loopbacks, and removes its data directory. */
  stop(): Promise<void>;
}

/** Starts an SqsGateway with its data in a fresh directory named from `dirPrefix`; `extraArgs` go to the command line. */
export async function startSqsGateway(dirPrefix: string, extraArgs: string[] = []): Promise<SqsGateway> {
  const dir = tempDir(dirPrefix);
  const sqs = await SqsLoopback.start();
  const target = await TestTarget.start();
  const closeRest = async () => {
    await Promise.all([sqs.close(), target.close()]);
    rmSync(dir, { recursive: true, force: true });
  };
  let gw: GatewayProcess;
  try {
    gw = await startGatewayProcess(
      ['--dev', `--embed-data-dir=${dir}`, `--sqs-queue-url=${sqs.queueUrl('deliveries')}`, `--sqs-dead-letter-queue-url=${sqs.queueUrl('dlq')}`, `--sqs-endpoint=${sqs.endpoint}`, ...extraArgs],
      // It signs its SQS calls with these; the loopback checks the signatures.
      { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' },
    );
  } catch (err) {
    await closeRest();
    throw err;
  }
  const stop = async () => {
    gw.child.kill('SIGTERM');
    await gw.exited;
    await closeRest();
  };
  return { sqs, target, gw, stop };
}
