import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { accessKeysFromEnv, parseAccessKeys, type ConfigAccessOptions } from '../http/config-access';
import { gatewayOptionsOf, openQueue } from './backends';
import { parseCommandLine, type CliOptions } from './cli';
import { runCluster } from './cluster';
import { startGateway } from './gateway';
import { exitOnSignals } from './signals';
import { followTail, parseTailCommand } from './tail-cli';
import { loadPlugins } from '../plugins/load';
import type { Plugin } from '../plugins/plugin';
import { tracingConfig } from '../tracing/config';
import type { Tracing } from '../tracing/tracing';
import type { Logger } from '../logger';

/** A backstop: the code never logs these, and if a future log line did, pino would censor them. */
const REDACT = ['authorization', '*.authorization', 'headers.authorization', '*.headers.authorization', 'provider.signingSecret', '*.provider.signingSecret'];

function createLogger(options: CliOptions): pino.Logger {
  if (options.logFormat === 'json') return pino({ level: options.logLevel, redact: REDACT });
  return pino({ level: options.logLevel, redact: REDACT }, pino.transport({ target: 'pino-pretty', options: { colorize: process.stdout.isTTY, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } }));
}

/**
 * Config API access from the keys file and the environment. Without keys, `--dev` and
 * `--allow-unauthenticated-config` leave it open; otherwise it is read-only.
 */
function configAccessOf(options: CliOptions, envKeys: string | undefined): ConfigAccessOptions {
  const fileKeys = options.configKeysFile ? parseAccessKeys(readKeysFile(options.configKeysFile), options.configKeysFile) : [];
  const keys = [...fileKeys, ...accessKeysFromEnv(envKeys)];
  return { keys, withoutKeys: options.dev || options.allowUnauthenticatedConfig ? 'open' : 'read-only' };
}

function readKeysFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read --config-keys-file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/**
 * The OpenTelemetry SDK when `--otlp-endpoint` or the OTEL_* variables ask for it; loaded only then,
 * so that a gateway without tracing neither starts nor loads it.
 */
async function startTracing(options: CliOptions, version: string): Promise<Tracing | undefined> {
  const config = tracingConfig(process.env, options.otlpEndpoint);
  // In a cluster the workers route events and record spans; the primary serves the Config API only.
  if (!config || (options.processes > 1 && cluster.isPrimary)) return undefined;
  const { startOtelTracing } = await import('../tracing/otel');
  return startOtelTracing({ ...config, serviceVersion: version });
}

/** Export failures (a collector that is down) reach the gateway's log instead of vanishing in OpenTelemetry's silent default. */
async function reportExportErrors(logger: Logger): Promise<void> {
  const { diag, DiagLogLevel } = await import('@opentelemetry/api');
  const warn = (message: string) => logger.warn({ component: 'opentelemetry' }, message);
  diag.setLogger({ error: warn, warn, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);
}

/**
 * Runs the local server from a command line: starts both APIs, and on SIGINT/SIGTERM stops accepting,
 * finishes in-flight work and exits; a second signal exits at once.
 */
export async function main(args: string[], version: string): Promise<void> {
  if (args[0] === 'tail') return tail(args.slice(1));
  const request = parseCommandLine(args, version);
  if (request.kind === 'print') {
    (request.exitCode === 0 ? process.stdout : process.stderr).write(request.text);
    process.exitCode = request.exitCode;
    return;
  }
  const options = request.options;
  let configAccess: ConfigAccessOptions;
  let plugins: Plugin[];
  try {
    configAccess = configAccessOf(options, process.env.EVENT_GATEWAY_ACCESS_KEYS);
    // A plugin that cannot be loaded stops the start: a gateway without its allow-list is worse than none.
    plugins = await loadPlugins(options.plugins);
  } catch (err) {
    process.stderr.write(`event-gateway: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  let tracing: Tracing | undefined;
  try {
    tracing = await startTracing(options, version);
  } catch (err) {
    process.stderr.write(`event-gateway: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const logger = createLogger(options);
  if (tracing) await reportExportErrors(logger);
  if (options.processes > 1) {
    await runCluster(options, configAccess, logger, version, plugins, tracing);
    return;
  }
  const sqs = openQueue(options, logger);
  const gateway = await startGateway(gatewayOptionsOf(options, configAccess, logger, sqs, { plugins, ...(tracing ? { tracing } : {}) }));
  logger.info(
    { events: gateway.eventsUrl, config: gateway.configUrl, dataDir: options.embedDataDir, delivery: sqs ? 'sqs' : options.delivery, dev: options.dev, plugins: plugins.map((p) => p.name), tracing: tracing ? 'otlp' : 'propagation only' },
    `Event Gateway ${version} started: Events API ${gateway.eventsUrl}, Config API ${gateway.configUrl}`,
  );
  if (options.dev) logger.warn({ dev: true }, 'development mode: targets on loopback addresses (127.0.0.0/8, ::1) are allowed');
  exitOnSignals(logger, {
    message: 'stopping: draining in-flight requests and queued deliveries',
    // Spans of the drained work are exported last.
    close: async () => {
      await gateway.close();
      await tracing?.shutdown();
    },
  });
}

/** `event-gateway tail`: follows a space of a running gateway until the stream ends or Ctrl-C. */
async function tail(args: string[]): Promise<void> {
  const command = parseTailCommand(args, process.env);
  if (command.kind === 'print') {
    (command.exitCode === 0 ? process.stdout : process.stderr).write(command.text);
    process.exitCode = command.exitCode;
    return;
  }
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.exitCode = await followTail(command.options, process.stdout, process.stderr, process.stdout.isTTY === true, abort.signal);
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
}
