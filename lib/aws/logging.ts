import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { Logger } from '../logger';

/** The service name in every log line and in the cold-start metric. */
export const SERVICE_NAME = 'event-gateway';

/**
 * The Lambda handlers' logger: Powertools' JSON lines on stdout, which CloudWatch Logs indexes; its
 * middy middleware (`injectLambdaContext`) adds the request ID, cold start and function name to every
 * line. The level is EG_LOG_LEVEL's (`debug`, `info`, `warn`, `error`, `silent`); Lambda's own log-level
 * control (AWS_LAMBDA_LOG_LEVEL) takes precedence, as Powertools has it.
 */
export function lambdaLogger(level: string): PowertoolsLogger {
  return new PowertoolsLogger({ serviceName: SERVICE_NAME, logLevel: powertoolsLevel(level) });
}

const LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'] as const;

/** A Powertools level from ours; unknown text means INFO. */
function powertoolsLevel(level: string): (typeof LEVELS)[number] {
  const upper = level.toUpperCase();
  return LEVELS.find((l) => l === upper) ?? 'INFO';
}

/**
 * The core's logger (`(fields, message)`, pino's order) on a Powertools logger (`(message, fields)`):
 * the fields become attributes of the line, errors among them formatted by Powertools.
 */
export function coreLogger(logger: PowertoolsLogger): Logger {
  return {
    debug: (obj, msg) => logger.debug(msg ?? '', obj as Record<string, unknown>),
    info: (obj, msg) => logger.info(msg ?? '', obj as Record<string, unknown>),
    warn: (obj, msg) => logger.warn(msg ?? '', obj as Record<string, unknown>),
    error: (obj, msg) => logger.error(msg ?? '', obj as Record<string, unknown>),
  };
}
