/**
 * The JSON lines a Lambda handler writes to stdout and stderr (Powertools' log lines — warnings and
 * errors go to stderr — and EMF documents), captured instead of printed while `start`ed, as CloudWatch
 * Logs would receive them; other output passes through.
 */
export class LambdaOutput {
  readonly lines: Array<Record<string, any>> = [];
  private spies: jest.SpyInstance[] = [];

  start(): this {
    this.spies = [this.capture(process.stdout), this.capture(process.stderr)];
    return this;
  }

  stop(): void {
    for (const spy of this.spies) spy.mockRestore();
    this.spies = [];
  }

  private capture(stream: NodeJS.WriteStream): jest.SpyInstance {
    const write = stream.write.bind(stream);
    return jest.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: never[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      const parsed = text.split('\n').filter((l) => l.startsWith('{')).map(tryParse);
      if (parsed.length > 0 && parsed.every((p) => p !== undefined)) {
        this.lines.push(...(parsed as Array<Record<string, any>>));
        return true;
      }
      return write(chunk, ...rest);
    }) as typeof stream.write);
  }

  /** Powertools' log lines (they have a `level`). */
  logs(): Array<Record<string, any>> {
    return this.lines.filter((l) => typeof l.level === 'string');
  }

  /** EMF documents (they have `_aws`). */
  metrics(): Array<Record<string, any>> {
    return this.lines.filter((l) => l._aws !== undefined);
  }
}

function tryParse(line: string): Record<string, any> | undefined {
  try {
    return JSON.parse(line) as Record<string, any>;
  } catch {
    return undefined;
  }
}
