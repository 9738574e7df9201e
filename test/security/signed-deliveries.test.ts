import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { signingKey, webhookHeaders } from '../../lib/providers/http';
import { call, startTestGateway, type TestGateway } from '../support/gateway';
import { TestTarget } from '../support/target';

const WHSEC = `whsec_${randomBytes(24).toString('base64')}`;
const RAW = 'a-plain-signing-secret-of-some-length';

function webhookHeadersOf(headers: IncomingHttpHeaders): Record<string, string> {
  return {
    'webhook-id': String(headers['webhook-id']),
    'webhook-timestamp': String(headers['webhook-timestamp']),
    'webhook-signature': String(headers['webhook-signature']),
  };
}

describe('signed deliveries (Standard Webhooks)', () => {
  it('signs "id.timestamp.body" with the decoded whsec_ key, as the spec computes it', () => {
    const headers = webhookHeaders(signingKey(WHSEC), '{"a":1}', { deliveryId: 'd-1' }, 1_700_000_000_123);
    const expected = createHmac('sha256', Buffer.from(WHSEC.slice(6), 'base64')).update('d-1.1700000000.{"a":1}').digest('base64');
    expect(headers).toEqual({ 'webhook-id': 'd-1', 'webhook-timestamp': '1700000000', 'webhook-signature': `v1,${expected}` });
  });

  describe('through a gateway', () => {
    let gw: TestGateway;
    let target: TestTarget;
    beforeAll(async () => {
      gw = await startTestGateway();
      target = await TestTarget.start();
      await call('POST', `${gw.space()}/eventtypes`, { name: 'signed.event' });
    });
    afterAll(async () => {
      await target.close();
      await gw.stop();
    });

    const emit = (id: string) =>
      fetch(`${gw.eventsUrl}/signed`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify({ eventType: 'signed.event', cloudEventsVersion: '0.1', source: '/signed', eventID: id, data: { n: id } }),
      });

    it('delivers async events that the standardwebhooks library verifies, for both secret forms', async () => {
      for (const [functionId, secret] of [
        ['whsec', WHSEC],
        ['raw', RAW],
      ] as const) {
        const created = await call('POST', `${gw.space()}/functions`, { functionId, type: 'http', provider: { url: target.url, signingSecret: secret } });
        expect(created.status).toBe(201);
        expect(created.body.provider).toEqual({ url: target.url, signingSecret: '*****' });
        await call('POST', `${gw.space()}/subscriptions`, { type: 'async', eventType: 'signed.event', functionId, path: '/signed' });
      }
      expect((await emit('s-1')).status).toBe(202);
      await target.waitFor(2);
      const byVerifier = [new Webhook(WHSEC), new Webhook(RAW, { format: 'raw' })];
      for (const received of target.received) {
        const headers = webhookHeadersOf(received.headers);
        expect(headers['webhook-id']).toBe(received.headers['event-gateway-delivery-id']);
        const verified = byVerifier.filter((wh) => {
          try {
            wh.verify(received.body, headers);
            return true;
          } catch {
            return false;
          }
        });
        // Each delivery verifies with its own function's secret and with no other.
        expect(verified).toHaveLength(1);
        expect(JSON.parse(received.body)).toMatchObject({ eventID: 's-1' });
        // The verifier that accepts the delivery refuses the same headers with another body: the signature covers the body.
        const [own] = verified as [Webhook];
        const tampered = received.body.replace('s-1', 's-2');
        expect(tampered).not.toBe(received.body);
        expect(() => own.verify(tampered, headers)).toThrow(new WebhookVerificationError('No matching signature found'));
      }
    });

    it('keeps the secret when a client sends back the masked value, and never returns it', async () => {
      target.received.splice(0);
      const updated = await call('PUT', `${gw.space()}/functions/whsec`, { type: 'http', provider: { url: target.url, signingSecret: '*****' }, metadata: { v: '2' } });
      expect(updated.status).toBe(200);
      expect(JSON.stringify((await call('GET', `${gw.space()}/functions`)).body)).not.toContain(WHSEC.slice(6, 20));
      expect((await emit('s-2')).status).toBe(202);
      await target.waitFor(2);
      const whsec = target.received.find((r) => {
        try {
          new Webhook(WHSEC).verify(r.body, webhookHeadersOf(r.headers));
          return true;
        } catch {
          return false;
        }
      });
      expect(whsec).toBeDefined();
    });

    it('rejects a weak or malformed signing secret at registration', async () => {
      for (const signingSecret of ['short', 'whsec_not*base64', 'whsec_AAAA']) {
        const res = await call('POST', `${gw.space()}/functions`, { functionId: 'weak', type: 'http', provider: { url: target.url, signingSecret } });
        expect([signingSecret, res.status]).toEqual([signingSecret, 400]);
        expect(res.body.errors[0].message).toContain("Key: 'HTTP.SigningSecret' Error:Field validation for 'SigningSecret' failed on the 'signingSecret' tag");
      }
    });
  });
});
