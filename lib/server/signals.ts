import type pino from 'pino';

/** How a process stops on SIGINT/SIGTERM: what to drain, and what to do at once on a second signal. */
export interface GracefulStop {
  /** Logged when the first signal arrives. */
  message: string;
  /** Drains and closes; the process exits 0 once it resolves, 1 if it rejects. */
  close: () => Promise<void>;
  /** Runs before the immediate exit of a second signal (e.g. killing worker processes). */
  onSecondSignal?: () => void;
}

/** The process that is stopped: Node's own, or a test's stand-in. */
export interface SignalledProcess {
  on(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  exit(code: number): void;
}

/** The first SIGINT/SIGTERM drains then exits; a second one exits at once (the README's promise). */
export function exitOnSignals(logger: pino.Logger, how: GracefulStop, proc: SignalledProcess = process): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      how.onSecondSignal?.();
      proc.exit(1);
    }
    stopping = true;
    logger.info({ signal }, how.message);
    how.close().then(
      () => {
        logger.info({}, 'stopped');
        logger.flush?.();
        setImmediate(() => proc.exit(0));
      },
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        proc.exit(1);
      },
    );
  };
  proc.on('SIGINT', () => stop('SIGINT'));
  proc.on('SIGTERM', () => stop('SIGTERM'));
}
