import { formatActivity, parseTailCommand, sseData } from '../../lib/server/tail-cli';

describe('event-gateway tail (parsing and printing)', () => {
  it('defaults to the default space on the local Config API, and takes the key from the environment', () => {
    expect(parseTailCommand([], { EVENT_GATEWAY_ACCESS_KEY: 'k'.repeat(20) })).toEqual({
      kind: 'run',
      options: { space: 'default', json: false, configUrl: 'http://127.0.0.1:4001', accessKey: 'k'.repeat(20) },
    });
    expect(parseTailCommand(['--space', 'shop', '--event-type', 'order.placed', '--json', '--config-url', 'https://gw.example/'], {})).toEqual({
      kind: 'run',
      options: { space: 'shop', eventType: 'order.placed', json: true, configUrl: 'https://gw.example' },
    });
  });

  it('refuses an unknown flag and a URL that is not http(s) with exit code 2', () => {
    expect(parseTailCommand(['--follow'], {})).toMatchObject({ kind: 'print', exitCode: 2 });
    expect(parseTailCommand(['--config-url', 'localhost:4001'], {})).toMatchObject({ kind: 'print', exitCode: 2, text: expect.stringContaining('--config-url must be an http(s) URL') });
  });

  it('reads the data of complete frames and keeps the rest for later', () => {
    expect(sseData(': hello\n\nevent: a\ndata: {"x":1}\n\nevent: b\ndata: {"x"')).toEqual({ data: ['{"x":1}'], rest: 'event: b\ndata: {"x"' });
  });

  it('colors the kind of an item on a terminal and prints plain text otherwise', () => {
    const item = { kind: 'delivery.failed', space: 's', time: '2026-11-29T21:00:01.250Z', eventType: 'order.placed', eventId: 'e1', functionId: 'f', mode: 'async', attempt: 2, latencyMs: 3.5, error: 'target answered 503' } as const;
    expect(formatActivity(item, false)).toBe('21:00:01.250  failed       order.placed  id=e1  → f (async, attempt 2) 3.5 ms: target answered 503');
    expect(formatActivity(item, true)).toContain('\u001b[33mfailed');
  });
});
