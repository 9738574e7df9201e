import { spawn } from 'node:child_process';
import { BIN } from '../support/process';
import { call, startTestGateway, type TestGateway } from '../support/gateway';
import { eventually } from '../support/waiting';

/** `event-gateway tail` as a user runs it, against a gateway on loopback. */
describe('event-gateway tail', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
    await call('POST', `${gw.space()}/eventtypes`, { name: 'cli.order' });
    await call('POST', `${gw.space()}/eventtypes`, { name: 'cli.other' });
  });
  afterAll(() => gw.stop());

  const follow = (args: string[]) => {
    const child = spawn(process.execPath, [BIN, 'tail', '--config-url', gw.configUrl, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, exited, stdout: () => stdout, stderr: () => stderr };
  };
  const emit = (type: string, id: string) =>
    fetch(gw.eventsUrl, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify({ specversion: '1.0', type, source: '/cli', id, data: { n: 1 } }) });
  /** Emits until the tail has printed a line for it (the tail may connect after the first emit). */
  const emitUntilShown = async (tail: ReturnType<typeof follow>, type: string, id: string) =>
    eventually(async () => {
      await emit(type, id);
      return tail.stdout().includes(id) ? true : undefined;
    }, `${id} in the tail's output`);

  it('prints one JSON line per item with --json, only of the event type asked for', async () => {
    const tail = follow(['--space', 'default', '--event-type', 'cli.order', '--json']);
    try {
      await emit('cli.other', 'not-this-one');
      await emitUntilShown(tail, 'cli.order', 'order-1');
      const items = tail.stdout().trim().split('\n').map((line) => JSON.parse(line) as { kind: string; eventType: string; eventId: string });
      expect(items[0]).toMatchObject({ kind: 'event.received', eventType: 'cli.order', eventId: 'order-1' });
      expect(items.every((i) => i.eventType === 'cli.order')).toBe(true);
    } finally {
      tail.child.kill('SIGINT');
      await tail.exited;
    }
  });

  it('prints a readable line without color when the output is not a terminal', async () => {
    const tail = follow([]);
    try {
      await emitUntilShown(tail, 'cli.order', 'order-2');
      const line = tail.stdout().split('\n').find((l) => l.includes('order-2')) as string;
      expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d\d\d {2}received {5}cli\.order {2}id=order-2 {2}source=\/cli \d+ B$/);
      expect(line).not.toContain('\u001b[');
    } finally {
      tail.child.kill('SIGINT');
      await tail.exited;
    }
  });

  it('exits 1 with the gateway\'s message when the tail is refused', async () => {
    const keyed = await startTestGateway({ configAccess: { keys: [{ key: 'a-key-of-sixteen-chars', spaces: ['other'] }], withoutKeys: 'read-only' } });
    try {
      const tail = follow(['--config-url', keyed.configUrl, '--access-key', 'a-key-of-sixteen-chars']);
      expect(await tail.exited).toBe(1);
      expect(tail.stderr()).toBe('event-gateway tail: 403 This access key may not use space "default".\n');
    } finally {
      await keyed.stop();
    }
  });
});
