import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestGateway, type TestGateway } from '../support/gateway';
import { TestTarget } from '../support/target';
import { eventually } from '../support/waiting';

const SHOTS = join(__dirname, '..', '..', 'test-results');
const KEY = 'console-test-key-0123456789';

/** The web console in a real browser (Debian's chromium, headless), against a gateway that needs a key. */
describe('web console', () => {
  let gw: TestGateway;
  let target: TestTarget;
  let browser: Browser;
  let page: Page;

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${gw.configUrl}/v1/spaces/default${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  const emit = (type: string, id: string, data: unknown = { amount: 12 }) =>
    fetch(`${gw.eventsUrl}/orders`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify({ specversion: '1.0', type, source: '/shop', id, data }) });
  const open = async (pageId: string) => {
    await page.goto(`${gw.configUrl}/console/#/default/${pageId}`);
    await page.locator(`nav a.active[data-page="${pageId}"]`).waitFor();
  };
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `console-${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    target = await TestTarget.start();
    gw = await startTestGateway({ configAccess: { keys: [{ key: KEY }], withoutKeys: 'read-only' } });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
    await target?.close();
  });

  it('asks for the access key, then shows what was registered through the API on every page', async () => {
    await page.goto(`${gw.configUrl}/console/`);
    const dialog = page.locator('#key-dialog');
    await dialog.waitFor();
    await page.fill('#key-input', KEY);
    await page.click('#key-submit');
    await api('POST', '/eventtypes', { name: 'order.placed', schema: { type: 'object', properties: { amount: { type: 'number' } }, required: ['amount'] } });
    await api('POST', '/eventtypes', { name: 'price.asked' });
    await api('POST', '/functions', { functionId: 'shipping', type: 'http', provider: { url: target.url } });
    await api('POST', '/functions', { functionId: 'pricing', type: 'http', provider: { url: target.url } });
    await api('POST', '/functions', { functionId: 'audit', type: 'awslambda', provider: { arn: 'arn:aws:lambda:us-east-1:123456789012:function:audit', region: 'us-east-1', awsAccessKeyId: 'AKIAEXAMPLE', awsSecretAccessKey: 'very-secret-value' } });
    await api('POST', '/subscriptions', { type: 'async', eventType: 'order.placed', functionId: 'shipping', path: '/orders', filters: [{ prefix: { source: '/shop' } }] });
    await api('POST', '/subscriptions', { type: 'async', eventType: 'order.placed', functionId: 'audit', path: '/audit', transform: { jsonata: '{"total": data.amount}', replace: 'data' } });
    await api('POST', '/subscriptions', { type: 'sync', eventType: 'price.asked', functionId: 'pricing', path: '/prices/:sku', method: 'GET' });

    await open('overview');
    await page.locator('[data-count="functions"] .n', { hasText: '3' }).waitFor();
    expect(await page.locator('[data-count="subscriptions"] .n').textContent()).toBe('3');
    await page.locator('[data-chart="events"]').waitFor();
    await shot('overview');

    await open('eventtypes');
    await page.locator('[data-event-type="order.placed"]').waitFor();
    await page.locator('details.schema summary').first().click();
    expect(await page.locator('details.schema pre').first().textContent()).toContain('"amount"');
    await shot('eventtypes');

    await open('functions');
    await page.locator('[data-function="audit"]').waitFor();
    await page.locator('details summary', { hasText: 'provider' }).last().click();
    const functionsText = (await page.locator('main').textContent()) ?? '';
    expect(functionsText).toContain('arn:aws:lambda:us-east-1:123456789012:function:audit');
    expect(functionsText).not.toContain('very-secret-value');
    await shot('functions');

    await open('subscriptions');
    const filtered = page.locator('.edge', { hasText: 'shipping' }).or(page.locator('.edge .chip.filter'));
    await filtered.first().waitFor();
    expect(await page.locator('.edge .chip.filter').first().textContent()).toBe('filter: source starts with "/shop"');
    expect(await page.locator('.edge.sync code').textContent()).toBe('GET /prices/:sku');
    expect(await page.locator('.edge .chip.transform').textContent()).toBe('transform → data: {"total": data.amount}');
    expect(await page.locator('.node.fn').allTextContents()).toEqual(expect.arrayContaining(['shippinghttp', 'auditawslambda', 'pricinghttp']));
    await shot('subscriptions');
  }, 60_000);

  it('shows an emitted event and its delivery in the live tail', async () => {
    await open('tail');
    await page.locator('#tail-state', { hasText: 'live' }).waitFor();
    expect((await emit('order.placed', 'tail-1')).status).toBe(202);
    await page.locator('.tail-row[data-kind="event.received"][data-event-id="tail-1"]').waitFor();
    await page.locator('.tail-row[data-kind="delivery.succeeded"][data-event-id="tail-1"]').first().waitFor();
    expect(await page.locator('.tail-row[data-kind="event.received"][data-event-id="tail-1"]').textContent()).toContain('source=/shop');
    expect((await emit('order.placed', 'tail-bad', { amount: 'twelve' })).status).toBe(400);
    await page.locator('.tail-row[data-kind="event.invalid"][data-event-id="tail-bad"]').waitFor();
    await shot('tail');
  }, 60_000);

  it('draws events per second from the metrics on the overview', async () => {
    await page.evaluate("sessionStorage.setItem('eventgateway.pollMs', '400')");
    await open('overview');
    let n = 0;
    await eventually(async () => {
      expect((await emit('order.placed', `rate-${++n}`)).status).toBe(202);
      const drawn = await page.locator('[data-chart="events"] path.line').count();
      const now = await page.locator('[data-chart="events"] .now').textContent();
      return drawn > 0 && now !== '0.0/s' ? true : undefined;
    }, 'a drawn events/s chart');
    await page.locator('[data-chart="deliveries"] path.line').waitFor();
    await shot('overview');
  }, 60_000);

  it('replays a dead letter from its page, and the target receives it', async () => {
    await api('POST', '/eventtypes', { name: 'invoice.due' });
    await api('POST', '/functions', { functionId: 'billing', type: 'http', provider: { url: `${target.url}billing` } });
    await api('POST', '/subscriptions', { type: 'async', eventType: 'invoice.due', functionId: 'billing', path: '/orders', retry: { maxAttempts: 1 } });
    target.behaviour = (req) => (req.url === '/billing' ? { status: 503, body: 'down' } : { status: 200, body: '{}' });
    expect((await emit('invoice.due', 'inv-1')).status).toBe(202);
    await eventually(async () => ((await api('GET', '/deadletters')).deadLetters.length === 1 ? true : undefined), 'the dead letter');
    target.behaviour = () => ({ status: 200, body: '{}' });
    const before = target.received.filter((r) => r.url === '/billing').length;

    await open('deadletters');
    await page.locator('button[data-action="replay"]').waitFor();
    expect(await page.locator('tbody tr').first().textContent()).toContain('/billing answered 503');
    await shot('deadletters');
    await page.click('button[data-action="replay"]');
    await eventually(async () => (target.received.filter((r) => r.url === '/billing').length > before ? true : undefined), 'the replayed delivery');
    const replayed = target.received.filter((r) => r.url === '/billing').pop();
    expect((replayed?.json() as { id: string }).id).toBe('inv-1');
    await page.locator('#dead-letter-status', { hasText: 'Replayed' }).waitFor();
    await eventually(async () => ((await api('GET', '/deadletters')).deadLetters.length === 0 ? true : undefined), 'no dead letters left');
  }, 60_000);
});
