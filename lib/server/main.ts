import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { accessKeysFromEnv, parseAccessKeys, type ConfigAccessOptions } from '../http/config-access';
import { gatewayOptionsOf, openQueue } from './backends';
import { parseCommandLine, type CliOptions } from './cli';
import { runCluster } from './cluster';
import { startGateway, type RunningGateway } from './gateway';
import { exitOnSignals, type SignalledProcess } from './signals';
import { followTail, parseTailCommand } from './tail-cli';
import { loadPlugins } from '../plugins/load';
import type { Plugin } from '../plugins/plugin';
import { tracingConfig, type TracingConfig } from '../tracing/config';
import type { Tracing } from '../tracing/tracing';
import type { Logger } from '../logger';

/**
 * Where the command runs: Node's `process`, or in tests a stand-in with its own output, environment,
 * signals and exit. The logger writes to `stdout.fd` (from another thread in the text format).
 */
export interface CommandProcess extends SignalledProcess {
  readonly stdout: NodeJS.WritableStream & { readonly fd: number; readonly isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  exitCode?: number | string | undefined;
  once(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  off(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
}

/** The gateway's logger, writing to the file descriptor `fd`: JSON lines, or pino-pretty's text on a thread of its own. */
export function createLogger(options: Pick<CliOptions, 'logFormat' | 'logLevel'>, fd: number, colorize?: boolean): pino.Logger {
  // A backstop: the code never logs these, and if a future log line did, pino would censor them.
  const redact = ['authorization', '*.authorization', 'headers.authorization', '*.headers.authorization', 'provider.signingSecret', '*.provider.signingSecret'];
  const settings = { level: options.logLevel, redact };
  if (options.logFormat === 'json') return pino(settings, pino.destination({ fd }));
  return pino(settings, pino.transport({ target: 'pino-pretty', options: { destination: fd, colorize, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } }));
}

/**
 * Config API access from the keys file and the environment. Without keys, `--dev` and
 * `--allow-unauthenticated-config` leave it open; otherwise it is read-only.
 */
export function configAccessOf(options: CliOptions, envKeys: string | undefined): ConfigAccessOptions {
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
 * What this process exports spans with, if anything: `--otlp-endpoint` or the OTEL_* variables decide
 * (and a protocol this build cannot speak stops the start). In a cluster the workers route events and
 * record spans; the primary serves the Config API only.
 */
export function tracingConfigOf(options: CliOptions, env: NodeJS.ProcessEnv, primary: boolean): TracingConfig | undefined {
  const config = tracingConfig(env, options.otlpEndpoint);
  return options.processes > 1 && primary ? undefined : config;
}

/** The OpenTelemetry SDK, loaded only when spans are exported, so that a gateway without tracing neither starts nor loads it. */
async function startTracing(config: TracingConfig | undefined, version: string): Promise<Tracing | undefined> {
  if (!config) return undefined;
  const { startOtelTracing } = await import('../tracing/otel');
  return startOtelTracing({ ...config, serviceVersion: version });
}

/** Export failures (a collector that is down) reach the gateway's log instead of vanishing in OpenTelemetry's silent default. */
async function reportExportErrors(logger: Logger): Promise<void> {
  const { diag, DiagLogLevel } = await import('@opentelemetry/api');
  const warn = (message: string) => logger.warn({ component: 'opentelemetry' }, message);
  diag.setLogger({ error: warn, warn, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);
}

/** The start-up line: where both APIs listen (scripts and tests read `events` and `config`) and how this gateway runs. */
export function startUpLine(
  version: string,
  options: CliOptions,
  gateway: Pick<RunningGateway, 'eventsUrl' | 'configUrl'>,
  run: { sqs: boolean; plugins: readonly Plugin[]; tracing: boolean },
): { fields: Record<string, unknown>; message: string } {
  return {
    fields: {
      events: gateway.eventsUrl,
      config: gateway.configUrl,
      dataDir: options.embedDataDir,
      delivery: run.sqs ? 'sqs' : options.delivery,
      dev: options.dev,
      plugins: run.plugins.map((p) => p.name),
      tracing: run.tracing ? 'otlp' : 'propagation only',
    },
    message: `Event Gateway ${version} started: Events API ${gateway.eventsUrl}, Config API ${gateway.configUrl}`,
  };
}

/** Everything a start needs before it listens; a mistake here is a usage error (exit code 2), not a crash. */
async function prepare(options: CliOptions, version: string, proc: CommandProcess): Promise<{ configAccess: ConfigAccessOptions; plugins: Plugin[]; tracing: Tracing | undefined }> {
  const configAccess = configAccessOf(options, proc.env.EVENT_GATEWAY_ACCESS_KEYS);
  // A plugin that cannot be loaded stops the start: a gateway without its allow-list is worse than none.
  const plugins = await loadPlugins(options.plugins);
  const tracing = await startTracing(tracingConfigOf(options, proc.env, cluster.isPrimary), version);
  return { configAccess, plugins, tracing };
}

/**
 * Runs the local server from a command line: starts both APIs, and on SIGINT/SIGTERM stops accepting,
 * finishes in-flight work and exits; a second signal exits at once.
 */
export async function main(args: string[], version: string, proc: CommandProcess = process): Promise<void> {
  if (args[0] === 'tail') return tail(args.slice(1), proc);
  const request = parseCommandLine(args, version);
  if (request.kind === 'print') {
    (request.exitCode === 0 ? proc.stdout : proc.stderr).write(request.text);
    proc.exitCode = request.exitCode;
    return;
  }
  const options = request.options;
  let prepared: Awaited<ReturnType<typeof prepare>>;
  try {
    prepared = await prepare(options, version, proc);
  } catch (err) {
    proc.stderr.write(`event-gateway: ${(err as Error).message}\n`);
    proc.exitCode = 2;
    return;
  }
  const { configAccess, plugins, tracing } = prepared;
  const logger = createLogger(options, proc.stdout.fd, proc.stdout.isTTY);
  if (tracing) await reportExportErrors(logger);
  if (options.processes > 1) {
    await runCluster(options, configAccess, logger, version, plugins, tracing);
    return;
  }
  const sqs = openQueue(options, logger);
  const gateway = await startGateway(gatewayOptionsOf(options, configAccess, logger, sqs, { plugins, ...(tracing ? { tracing } : {}) }));
  const started = startUpLine(version, options, gateway, { sqs: sqs !== undefined, plugins, tracing: tracing !== undefined });
  logger.info(started.fields, started.message);
  if (options.dev) logger.warn({ dev: true }, 'development mode: targets on loopback addresses (127.0.0.0/8, ::1) are allowed');
  exitOnSignals(
    logger,
    {
      message: 'stopping: draining in-flight requests and queued deliveries',
      // Spans of the drained work are exported last.
      close: async () => {
        await gateway.close();
        await tracing?.shutdown();
      },
    },
    proc,
  );
}

/** `event-gateway tail`: follows a space of a running gateway until the stream ends or Ctrl-C. */
async function tail(args: string[], proc: CommandProcess): Promise<void> {
  const command = parseTailCommand(args, proc.env);
  if (command.kind === 'print') {
    (command.exitCode === 0 ? proc.stdout : proc.stderr).write(command.text);
    proc.exitCode = command.exitCode;
    return;
  }
  const abort = new AbortController();
  const stop = () => abort.abort();
  proc.once('SIGINT', stop);
  proc.once('SIGTERM', stop);
  proc.exitCode = await followTail(command.options, proc.stdout, proc.stderr, proc.stdout.isTTY === true, abort.signal);
  proc.off('SIGINT', stop);
  proc.off('SIGTERM', stop);
}
