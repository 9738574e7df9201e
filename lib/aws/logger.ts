import type { Logger } from '../logger';

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

/** Errors as plain JSON: name, message and stack (logs only; never sent to clients). */
function serialise(obj: object): object {
  const err = (obj as { err?: unknown }).err;
  if (!(err instanceof Error)) return obj;
  return { ...obj, err: { name: err.name, message: err.message, stack: err.stack } };
}

/**
 * A JSON-lines logger for Lambda: one object per line on stdout, which CloudWatch Logs indexes.
 * Small on purpose, to keep the bundles and cold starts light. `context` is merged into every line.
 */
export class JsonLogger implements Logger {
  context: Record<string, unknown> = {};

  constructor(
    private readonly level: LogLevel = 'info',
    private readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  ) {}

  debug(obj: object, msg?: string): void {
    this.log('debug', obj, msg);
  }
  info(obj: object, msg?: string): void {
    this.log('info', obj, msg);
  }
  warn(obj: object, msg?: string): void {
    this.log('warn', obj, msg);
  }
  error(obj: object, msg?: string): void {
    this.log('error', obj, msg);
  }

  private log(level: Exclude<LogLevel, 'silent'>, obj: object, msg: string | undefined): void {
    if (LEVELS[level] < LEVELS[this.level]) return;
    this.write(JSON.stringify({ level, time: new Date().toISOString(), ...this.context, ...serialise(obj), ...(msg ? { msg } : {}) }));
  }
}

/** A log level from text; unknown text means `info`. */
export function logLevel(text: string | undefined): LogLevel {
  return text !== undefined && text in LEVELS ? (text as LogLevel) : 'info';
}
