import { readAwsConfig } from '../lib/aws/compose';
import { composeWorker } from '../lib/aws/compose-worker';
import { workerHandler } from '../lib/aws/handlers';

/** Lambda entry of the async delivery worker (SQS event source); wired once per cold start. */
export const handler = workerHandler(composeWorker(readAwsConfig(process.env)));
