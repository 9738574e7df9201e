import { readAwsConfig } from '../lib/aws/compose';
import { composeConfig } from '../lib/aws/compose-config';
import { configHandler } from '../lib/aws/handlers';

/** Lambda entry of the Config API; wired once per cold start from the environment. */
export const handler = configHandler(composeConfig(readAwsConfig(process.env)));
