import { availableParallelism } from 'node:os';
import { parseCommandLine } from '../../lib/server/cli';

const run = (args: string[]) => {
  const request = parseCommandLine(args, '0.0.0');
  if (request.kind !== 'run') throw new Error(request.text);
  return request.options;
};

describe('the command line', () => {
  it('takes --flag=value, --flag value and Go-style -flag', () => {
    expect(run(['--events-port=5000', '--config-port', '5001', '-workers', '3'])).toMatchObject({ eventsPort: 5000, configPort: 5001, workers: 3 });
  });

  it('runs one process by default, N with --processes N, one per available CPU with auto', () => {
    expect(run([]).processes).toBe(1);
    expect(run(['--processes', '3']).processes).toBe(3);
    expect(run(['--processes=auto']).processes).toBe(availableParallelism());
    expect(parseCommandLine(['--processes=0'], '0.0.0')).toMatchObject({ kind: 'print', exitCode: 2, text: expect.stringContaining('--processes must be an integer from 1 to 256') });
  });

  it('takes boolean flags written as Go writes them, =true and =false', () => {
    expect(run(['--dev=true']).dev).toBe(true);
    expect(run(['-dev=false']).dev).toBe(false);
    expect(run(['--dev']).logFormat).toBe('text');
  });

  it('refuses a value for a boolean flag other than true or false', () => {
    const request = parseCommandLine(['--dev=yes'], '0.0.0');
    expect(request).toMatchObject({ kind: 'print', exitCode: 2 });
  });
});
