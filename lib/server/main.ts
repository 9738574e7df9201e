import pino from 'pino';
import { openQueue, openStore } from './backends';
import { parseCommandLine, type CliOptions } from './cli';
import { startGateway } from './gateway';

function createLogger(options: CliOptions): pino.Logger {
  if (options.logFormat === 'json') return pino({ level: options.logLevel });
  return pino({ level: options.logLevel }, pino.transport({ target: 'pino-pretty', options: { colorize: process.stdout.isTTY, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } }));
}

/**
 * Runs the local server from a command line: starts both APIs, and on SIGINT/SIGTERM stops accepting,
 * finishes in-flight work and exits; a second signal exits at once.
 */
export async function main(args: string[], version: string): Promise<void> {
  const request = parseCommandLine(args, version);
  if (request.kind === 'print') {
    (request.exitCode === 0 ? process.stdout : process.stderr).write(request.text);
    process.exitCode = request.exitCode;
    return;
  }
  const options = request.options;
  const logger = createLogger(options);
  const store = openStore(options);
  const queue = openQueue(options, logger);
  const gateway = await startGateway({
    store,
    logger,
    host: options.host,
    eventsPort: options.eventsPort,
    configPort: options.configPort,
    workers: options.workers,
    workersBacklog: options.workersBacklog,
    eventsBodyLimit: options.eventsBodyLimit,
    ...(options.eventsTls ? { eventsTls: options.eventsTls } : {}),
    ...(options.configTls ? { configTls: options.configTls } : {}),
    ...(queue ? { queue } : {}),
    ...(options.dynamodb ? { registryRefreshMs: options.registryRefreshMs } : {}),
  });
  logger.info(
    { events: gateway.eventsUrl, config: gateway.configUrl, dataDir: options.embedDataDir, dev: options.dev },
    `Event Gateway ${version} started: Events API ${gateway.eventsUrl}, Config API ${gateway.configUrl}`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'stopping: draining in-flight requests and queued deliveries');
    gateway.close().then(
      () => {
        logger.info({}, 'stopped');
        logger.flush?.();
        setImmediate(() => process.exit(0));
      },
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
