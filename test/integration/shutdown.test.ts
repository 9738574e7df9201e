import { Agent, get } from 'node:http';
import { startTestGateway, subscribe } from '../support/gateway';
import { TestTarget } from '../support/target';

describe('stopping the gateway', () => {
  it('finishes a request in flight on a keep-alive connection, then closes that connection instead of waiting for it', async () => {
    const gw = await startTestGateway();
    const target = await TestTarget.start();
    const agent = new Agent({ keepAlive: true });
    try {
      await subscribe(gw, { type: 'sync', eventType: 'http.request', functionId: 'slow', url: target.url, path: '/slow', method: 'GET' });
      target.behaviour = () => 'hang';
      // The call is held at the target until the gateway has begun to stop.
      const arrived = target.waitFor(1);
      const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
        get(`${gw.eventsUrl}/slow`, { agent }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        }).on('error', reject);
      });
      await arrived;
      const closing = gw.stop();
      await target.close();
      const result = await response;
      // The target went away mid-call: the gateway still answers that request before stopping.
      expect(result.status).toBe(500);
      // Without closing idle keep-alive connections again, this waits out the 65 s keep-alive timeout and the test times out.
      await closing;
    } finally {
      agent.destroy();
    }
  }, 20_000);
});
