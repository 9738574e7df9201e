// The official client, unchanged: proves the API is what its users' code expects.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const EventGateway = require('@serverless/event-gateway-sdk');
import { rmSync } from 'node:fs';
import { startTestGateway, tempDir } from '../support/gateway';
import { startGatewayProcess } from '../support/process';
import { TestTarget } from '../support/target';

interface Started {
  eventsUrl: string;
  configUrl: string;
  stop(): Promise<void>;
}

/** The CLI with `--processes 2`: a write is answered only once both workers route by it. */
async function startCluster(): Promise<Started> {
  const dataDir = tempDir('eg-sdk-cluster-');
  const gateway = await startGatewayProcess(['--dev', `--embed-data-dir=${dataDir}`, '--processes=2']);
  return {
    eventsUrl: gateway.eventsUrl,
    configUrl: gateway.configUrl,
    stop: async () => {
      gateway.child.kill('SIGTERM');
      await gateway.exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describe.each([
  ['one process', startTestGateway as () => Promise<Started>],
  ['--processes 2', startCluster],
])('the official Node client (@serverless/event-gateway-sdk), %s', (_mode, start) => {
  let gw: Started;
  let target: TestTarget;
  let eg: any;
  beforeAll(async () => {
    gw = await start();
    target = await TestTarget.start();
    eg = new EventGateway({ url: gw.eventsUrl, configurationUrl: gw.configUrl, space: 'sdkspace' });
  });
  afterAll(async () => {
    await target.close();
    await gw.stop();
  });

  it('registers, subscribes, emits, lists and cleans up', async () => {
    await eg.createEventType({ name: 'user.created', metadata: { owner: 'sdk' } });
    const fn = await eg.createFunction({ functionId: 'welcome', type: 'http', provider: { url: target.url } });
    expect(fn).toMatchObject({ space: 'sdkspace', functionId: 'welcome' });
    const sub = await eg.subscribe({ type: 'async', eventType: 'user.created', functionId: 'welcome', path: '/sdk' });
    expect(sub.subscriptionId).toBeDefined();

    const res = await eg.emit(
      { eventType: 'user.created', cloudEventsVersion: '0.1', source: '/sdk-test', eventID: 'e-1', contentType: 'application/json', data: { name: 'Ada' } },
      { path: '/sdk' },
    );
    expect(res.status).toBe(202);
    await target.waitFor(1);
    expect(target.received[0]?.json()).toMatchObject({ eventType: 'user.created', eventID: 'e-1', data: { name: 'Ada' } });

    expect((await eg.listEventTypes({ 'metadata.owner': 'sdk' })).map((e: any) => e.name)).toEqual(['user.created']);
    expect((await eg.listFunctions()).map((f: any) => f.functionId)).toEqual(['welcome']);
    expect(await eg.listSubscriptions()).toEqual([sub]);
    await eg.updateFunction({ functionId: 'welcome', type: 'http', provider: { url: target.url }, metadata: { v: '2' } });

    await eg.unsubscribe({ subscriptionId: sub.subscriptionId });
    await eg.deleteFunction({ functionId: 'welcome' });
    await eg.deleteEventType({ name: 'user.created' });
    expect(await eg.listSubscriptions()).toEqual([]);
  });

  it('surfaces the gateway error messages through its own errors', async () => {
    await expect(eg.createFunction({ functionId: 'broken', type: 'http', provider: {} })).rejects.toThrow(
      "Failed to create the function broken due the error: Function doesn't validate. Validation error: Key: 'HTTP.URL' Error:Field validation for 'URL' failed on the 'required' tag",
    );
    await expect(eg.subscribe({ type: 'async', eventType: 'nothing', functionId: 'nobody' })).rejects.toThrow(
      'Failed to subscribe the event nothing to the function nobody due the error: Event Type "nothing" not found.',
    );
    await expect(eg.emit({ eventType: 'x' })).rejects.toThrow(/Failed to emit the event x due the error: CloudEvent doesn't validate/);
  });

  it('manages CORS configurations', async () => {
    const cors = await eg.createCORS({ method: 'GET', path: '/sdk-cors' });
    expect(cors.corsId).toBe('GET%2Fsdk-cors');
    const updated = await eg.updateCORS({ corsId: cors.corsId, method: 'GET', path: '/sdk-cors', allowedOrigins: ['https://a.example'] });
    expect(updated.allowedOrigins).toEqual(['https://a.example']);
    expect((await eg.listCORS()).map((c: any) => c.corsId)).toEqual(['GET%2Fsdk-cors']);
    await eg.deleteCORS({ corsId: cors.corsId });
    expect(await eg.listCORS()).toEqual([]);
  });
});
