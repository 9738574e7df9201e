import { composeEvents, readAwsConfig } from '../lib/aws/compose';
import { eventsHandler } from '../lib/aws/handlers';

/** Lambda entry of the Events API; wired once per cold start from the environment. */
export const handler = eventsHandler(composeEvents(readAwsConfig(process.env)));
