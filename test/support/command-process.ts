import { EventEmitter } from 'node:events';
import { openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { CommandProcess } from '../../lib/server/main';
import { eventually } from './waiting';

/**
 * Node's `process` as the command sees it, for running `main()` inside a test: stdout (and the
 * logger) write to a file of its own, stderr is kept, the environment is the test's, signals are
 * emitted on it, and `exit` is recorded instead of ending the test process. Its file stays open until
 * the test process ends: a logger may still write to it after the test is done with it.
 */
export class StandInProcess extends EventEmitter implements CommandProcess {
  readonly stdout: Writable & { fd: number; isTTY: boolean };
  readonly stderr: Writable;
  exitCode?: number | string;
  /** Resolves with the code `exit` was called with. */
  readonly exited: Promise<number>;
  private errors = '';
  private exitWith: (code: number) => void = () => {};

  constructor(
    private readonly file: string,
    readonly env: NodeJS.ProcessEnv = {},
    isTTY = false,
  ) {
    super();
    const fd = openSync(file, 'a');
    this.stdout = Object.assign(
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          writeSync(fd, chunk);
          done();
        },
      }),
      { fd, isTTY },
    );
    this.stderr = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.errors += chunk.toString();
        done();
      },
    });
    this.exited = new Promise((resolve) => (this.exitWith = resolve));
  }

  /** A stand-in writing to `name` in `dir`. */
  static in(dir: string, name: string, env: NodeJS.ProcessEnv = {}, isTTY = false): StandInProcess {
    return new StandInProcess(join(dir, name), env, isTTY);
  }

  exit(code: number): void {
    this.exitWith(code);
  }

  /** What was written to stdout so far (the logger's lines included, once written). */
  output(): string {
    return readFileSync(this.file, 'utf8');
  }

  errorOutput(): string {
    return this.errors;
  }

  /** JSON log lines written so far. */
  logLines(): Array<Record<string, unknown>> {
    return this.output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** Waits for a JSON log line that `matches`. */
  logLine(matches: (line: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> {
    return eventually(async () => this.logLines().find(matches), what);
  }

  /** Waits for stdout to contain `text`. */
  async printed(text: string): Promise<string> {
    return eventually(async () => (this.output().includes(text) ? this.output() : undefined), `"${text}" on stdout`);
  }

  /**
   * The start-up line, once written. Waits for its message in whatever format, then reads it as JSON, so
   * that a start-up line that is not what the tests expect fails at once rather than after a deadline.
   */
  async started(): Promise<Record<string, unknown>> {
    await this.printed('started: Events API');
    const line = this.logLines().find((l) => String(l.msg).includes('started: Events API'));
    if (!line || typeof line.events !== 'string' || typeof line.config !== 'string') throw new Error(`not a JSON start-up line with the URLs:\n${this.output()}`);
    return line;
  }

  /**
   * Stops a started gateway as a SIGTERM would: resolves with the exit code once the last line of the
   * stop ("stopped", or the error it stopped with) is written, so that the log can be read as it is.
   */
  async stop(signal: 'SIGTERM' | 'SIGINT' = 'SIGTERM'): Promise<number> {
    if (this.listenerCount(signal) === 0) throw new Error(`nothing stops on ${signal}`);
    this.emit(signal);
    const code = await this.exited;
    await this.logLine((l) => l.msg === 'stopped' || l.msg === 'error while stopping', 'the last line of the stop');
    return code;
  }
}
