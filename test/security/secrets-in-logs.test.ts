import { startTestGateway, type TestGateway } from '../support/gateway';
import { capturedLogger, waitForLog } from '../support/logs';
import { TestTarget } from '../support/target';

const ACCESS_KEY = 'access-key-never-logged-0123456789';
const WRONG_KEY = 'guessed-key-never-logged-0123456789';
const SIGNING = 'signing-secret-never-logged-0123';
const AWS_SECRET = 'aws-secret-never-logged-0123456789';
const URL_PASSWORD = 'url-password-never-logged';
const URL_CODE = 'url-code-never-logged';
const SECRETS = [ACCESS_KEY, WRONG_KEY, SIGNING, AWS_SECRET, URL_PASSWORD, URL_CODE];

describe('secrets in logs and responses', () => {
  let gw: TestGateway;
  let target: TestTarget;
  const logs = capturedLogger();
  beforeAll(async () => {
    target = await TestTarget.start();
    target.behaviour = () => ({ status: 500, body: 'boom' });
    gw = await startTestGateway({ logger: logs.logger, configAccess: { keys: [{ key: ACCESS_KEY }], withoutKeys: 'read-only' } });
  });
  afterAll(async () => {
    await target.close();
    await gw.stop();
  });

  const authed = async (method: string, url: string, body?: unknown, key = ACCESS_KEY) => {
    const res = await fetch(url, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, text: await res.text() };
  };

  it('never logs or returns keys, provider secrets or credentials in target URLs, even when calls fail', async () => {
    const failingUrl = `http://user:${URL_PASSWORD}@127.0.0.1:${new URL(target.url).port}/hook?code=${URL_CODE}`;
    const base = gw.space();
    const responses: string[] = [];
    const keep = (r: { status: number; text: string }) => (responses.push(r.text), r);
    expect(keep(await authed('POST', `${base}/eventtypes`, { name: 'secret.event' })).status).toBe(201);
    expect(keep(await authed('POST', `${base}/functions`, { functionId: 'signed', type: 'http', provider: { url: failingUrl, signingSecret: SIGNING } })).status).toBe(201);
    expect(keep(await authed('POST', `${base}/functions`, { functionId: 'lambda', type: 'awslambda', provider: { arn: 'arn:aws:lambda:us-east-1:1:function:f', region: 'us-east-1', awsAccessKeyId: 'AKIA', awsSecretAccessKey: AWS_SECRET } })).status).toBe(201);
    expect(keep(await authed('POST', `${base}/subscriptions`, { type: 'async', eventType: 'secret.event', functionId: 'signed' })).status).toBe(201);
    expect(keep(await authed('POST', `${base}/eventtypes`, { name: 'http.request' })).status).toBe(201);
    expect(keep(await authed('POST', `${base}/subscriptions`, { type: 'sync', eventType: 'http.request', functionId: 'lambda', method: 'GET', path: '/lambda' })).status).toBe(201);
    expect((await fetch(`${gw.eventsUrl}/lambda`, { headers: { authorization: `Bearer ${ACCESS_KEY}` } })).status).toBe(500);
    keep(await authed('GET', `${base}/functions`));
    keep(await authed('GET', `${base}/functions/lambda`));
    expect(keep(await authed('DELETE', `${base}/functions/signed`, undefined, WRONG_KEY)).status).toBe(401);

    const event = { eventType: 'secret.event', cloudEventsVersion: '0.1', source: '/s', eventID: 'x-1' };
    await fetch(gw.eventsUrl, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json', authorization: `Bearer ${ACCESS_KEY}` }, body: JSON.stringify(event) });
    await target.waitFor(1);
    await waitForLog(logs.lines, (l) => l.msg === 'function call failed' && l.functionId === 'lambda');
    const failure = await waitForLog(logs.lines, (l) => l.msg === 'function call failed' && l.functionId === 'signed');
    expect(failure.err).toBe('target http://127.0.0.1:' + new URL(target.url).port + '/hook answered 500');

    const logged = logs.text();
    expect(logged.length).toBeGreaterThan(0);
    for (const secret of SECRETS) {
      expect([secret, logged.includes(secret)]).toEqual([secret, false]);
    }
    const answered = responses.join('\n');
    for (const secret of [ACCESS_KEY, WRONG_KEY, SIGNING, AWS_SECRET]) {
      expect([secret, answered.includes(secret)]).toEqual([secret, false]);
    }
    expect(answered).toContain('"signingSecret":"*****"');
    expect(answered).toContain('"awsSecretAccessKey":"*****"');
  });
});
