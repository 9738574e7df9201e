import { parseCommandLine } from '../../lib/server/cli';
import { call, startTestGateway, subscribe, type TestGateway } from '../support/gateway';
import { capturedLogger, waitForLog } from '../support/logs';
import { rawRequest } from '../support/raw';
import { TestTarget } from '../support/target';

describe('limits', () => {
  let gw: TestGateway;
  let target: TestTarget;
  const logs = capturedLogger();
  beforeAll(async () => {
    target = await TestTarget.start();
    gw = await startTestGateway({ configBodyLimit: 2048, maxHeaderSize: 4096, maxRecordsPerSpace: 3, targetTimeoutMs: 300, logger: logs.logger });
  });
  afterAll(async () => {
    await target.close();
    await gw.stop();
  });

  it('refuses a Config API body over its own limit with 413 and the JSON error', async () => {
    const res = await call('POST', `${gw.space()}/functions`, { functionId: 'big', type: 'http', provider: { url: target.url }, metadata: { pad: 'x'.repeat(4096) } });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ errors: [{ message: 'Request body exceeds the limit of 2048 bytes.' }] });
  });

  it('answers oversized headers on both APIs with 431 and the JSON error', async () => {
    for (const port of [gw.configPort, gw.eventsPort]) {
      const answer = await rawRequest(port, `GET /v1/status HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(8192)}\r\n\r\n`);
      expect(answer).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
      expect(answer).toContain('content-type: application/json');
      expect(answer.slice(answer.indexOf('\r\n\r\n') + 4)).toBe('{"errors":[{"message":"Request headers are too large."}]}');
    }
  });

  it('answers a malformed request line with 400 and the JSON error', async () => {
    const answer = await rawRequest(gw.eventsPort, 'NOT HTTP AT ALL\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answer).toContain('{"errors":[{"message":"Malformed HTTP request."}]}');
  });

  it('caps the records of each kind in a space with a clear 400, other spaces unaffected', async () => {
    for (const id of ['f1', 'f2', 'f3']) expect((await call('POST', `${gw.space('capped')}/functions`, { functionId: id, type: 'http', provider: { url: target.url } })).status).toBe(201);
    const over = await call('POST', `${gw.space('capped')}/functions`, { functionId: 'f4', type: 'http', provider: { url: target.url } });
    expect(over.status).toBe(400);
    expect(over.body).toEqual({ errors: [{ message: 'Space "capped" has reached the limit of 3 functions.' }] });
    expect((await call('GET', `${gw.space('capped')}/functions/f4`)).status).toBe(404);
    expect((await call('POST', `${gw.space('roomy')}/functions`, { functionId: 'f4', type: 'http', provider: { url: target.url } })).status).toBe(201);
    // Deleting one makes room again.
    expect((await call('DELETE', `${gw.space('capped')}/functions/f3`)).status).toBe(204);
    expect((await call('POST', `${gw.space('capped')}/functions`, { functionId: 'f4', type: 'http', provider: { url: target.url } })).status).toBe(201);
  });

  it('gives up on a target that does not answer within the target timeout', async () => {
    target.behaviour = () => 'hang';
    await subscribe(gw, { type: 'sync', eventType: 'http.request', functionId: 'slow', url: target.url, path: '/slow', method: 'GET', space: 'timeouts' });
    const res = await fetch(`${gw.eventsUrl}/slow`);
    expect(res.status).toBe(500);
    const line = await waitForLog(logs.lines, (l) => l.functionId === 'slow');
    expect(line.err).toMatch(/timed out/);
  });

  it('takes the limits from the command line', () => {
    const parsed = parseCommandLine(['--config-body-limit=10', '--max-header-size', '8192', '--max-records-per-space=5', '--target-timeout=1500'], '0.0.0');
    expect(parsed).toMatchObject({ kind: 'run', options: { configBodyLimit: 10, maxHeaderSize: 8192, maxRecordsPerSpace: 5, targetTimeoutMs: 1500 } });
    const defaults = parseCommandLine([], '0.0.0');
    expect(defaults).toMatchObject({ kind: 'run', options: { configBodyLimit: 1048576, maxHeaderSize: 16384, maxRecordsPerSpace: 1000, targetTimeoutMs: 30000, allowPrivateTargets: false, allowUnauthenticatedConfig: false, allowTargetNetworks: [] } });
    expect(parseCommandLine(['--allow-target-networks=10.0.0.0/8,nope'], '0.0.0')).toMatchObject({ kind: 'print', exitCode: 2, text: expect.stringContaining('--allow-target-networks: "nope" is not an IP network') });
  });
});
