/**
 * The dashboard end to end: Debian's Chromium (headless, through playwright-core) against a real
 * messo server with the dispatcher on, a fresh SQLite file, and deliveries to the server's own
 * inspector bin. The steps follow issue 7 item 6 and run in order, each building on the one
 * before (one browser session, as an operator would): sign in, bin, webhook, pratica to 2000,
 * delivery succeeded and request live with a valid signature, bin answering 500 and the retry,
 * then the language. Screenshots of the main pages (1280 px and 360 px) go to
 * test-artifacts/screenshots/ for a reviewer.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { dashboardPlugin, NOT_BUILT_TEXT } from '../src/http/dashboard.js';
import { createTenant, startTestServer, tempDir, type TestServer } from './harness.js';

const CHROMIUM = '/usr/bin/chromium';
const DASHBOARD = resolve(import.meta.dirname, '../web/index.html');
const SHOTS = resolve(process.cwd(), 'test-artifacts/screenshots');

describe('dashboard serving', () => {
  it('answers / and client routes with the app, never a server path', { skip: !existsSync(DASHBOARD) && 'the dashboard is not built' }, async () => {
    const server = await startTestServer();
    try {
      for (const path of ['/', '/webhooks/wh_1', '/inspector/bin_x?request=req_1', '/index.html']) {
        const r = await server.api.get(path);
        assert.equal(r.status, 200, path);
        assert.match(r.headers.get('content-type')!, /text\/html/);
        assert.match(r.text, /<div id="app">/);
        assert.match(r.headers.get('content-security-policy')!, /default-src 'self'/);
      }
      // Unknown server paths stay problem+json 404s; a missing asset is not the app either.
      for (const path of ['/api/nope', '/api', '/in', '/public/inspector', '/assets/gone-1234.js', '/metrics/x']) {
        const r = await server.api.get(path);
        assert.equal(r.status, 404, path);
        assert.match(r.headers.get('content-type')!, /application\/problem\+json/, path);
      }
      assert.equal((await server.api.get('/healthz')).body.status, 'ok');
      assert.equal((await server.api.post('/api/nope', {})).status, 404);
      const asset = /src="(\/assets\/[^"]+\.js)"/.exec((await server.api.get('/')).text)![1];
      const js = await server.api.get(asset);
      assert.equal(js.status, 200);
      assert.match(js.headers.get('cache-control')!, /immutable/);
      assert.equal((await server.api.get('/')).headers.get('cache-control'), 'no-cache');
      // The catch-all is not part of the API description.
      const doc = await server.api.get('/openapi.json');
      assert.ok(!Object.keys(doc.body.paths).some((p) => p === '/' || p.includes('*')));
    } finally {
      await server.close();
    }
  });

  it('says how to build it when dist/web is missing', async () => {
    const app = Fastify();
    await app.register(dashboardPlugin({ dir: tempDir('messo-noweb-') }));
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      for (const path of ['/', '/webhooks']) {
        const r = await fetch(url + path);
        assert.equal(r.status, 200);
        assert.equal(await r.text(), NOT_BUILT_TEXT);
      }
      assert.equal((await fetch(`${url}/api/webhooks`)).status, 404);
    } finally {
      await app.close();
    }
  });
});

const skip = !existsSync(CHROMIUM)
  ? `no browser: ${CHROMIUM} is missing (apt-get install chromium; .ci/run does it)`
  : !existsSync(DASHBOARD) ? 'the dashboard is not built (npm run build)' : false;
if (skip) console.log(`# e2e-dashboard skipped: ${skip}`);

describe('dashboard in Chromium', { skip, timeout: 120_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let desk: BrowserContext;
  let page: Page;
  let live: Page;
  let tenant: { id: string; key: string };
  let binUrl = '';
  let binPath = '';
  let webhookPath = '';
  let applicationPath = '';
  const pageErrors: string[] = [];

  const shot = async (p: Page, name: string) => {
    await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };
  const text = (p: Page, s: string, timeout = 10_000) => p.getByText(s, { exact: false }).first().waitFor({ timeout });
  const open = async (p: Page, path: string) => {
    await p.goto(server.url + path);
  };
  const signIn = async (p: Page, token: string) => {
    await p.waitForURL('**/login');
    await p.fill('#login-token', token);
    await p.click('button[type=submit]');
  };
  const watch = (p: Page) => p.on('pageerror', (err) => pageErrors.push(`${p.url()}: ${err.message}`));

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // A short schedule so a retry shows within a second (1 s, 1 s, then a minute).
    server = await startTestServer({ MESSO_DISPATCHER: 'true', MESSO_RETRY_SCHEDULE: '0,1,1,60' });
    tenant = await createTenant(server, 'Comune di Vattelapesca');
    // Services come from the platform (no page creates them): one, through the API.
    const svc = await server.api.as(tenant.key).post('/api/services', { name: 'Iscrizione asilo nido' });
    assert.equal(svc.status, 201);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    });
    desk = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: 'UTC' });
    page = await desk.newPage();
    watch(page);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('signs in with a tenant key after refusing a wrong one, next to the field', async () => {
    await open(page, '/webhooks');
    await page.waitForURL('**/login');
    await shot(page, 'login-desktop');
    await page.fill('#login-token', 'messo_not-a-key');
    await page.click('button[type=submit]');
    await page.locator('#login-token-error').waitFor();
    assert.equal(await page.getAttribute('#login-token', 'aria-invalid'), 'true');
    await page.fill('#login-token', tenant.key);
    await page.click('button[type=submit]');
    // Back where sign-in interrupted: the webhooks page, in Italian.
    await page.waitForURL('**/webhooks');
    await text(page, 'Nessun webhook ancora');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'it');
    // The token is in sessionStorage, and in no URL.
    assert.ok(!page.url().includes(tenant.key));
    assert.match(await page.evaluate(() => sessionStorage.getItem('messo.session') ?? ''), /messo_/);
  });

  it('creates an inspector bin', async () => {
    await open(page, '/inspector');
    await text(page, 'Nessun bin ancora');
    await page.fill('#bin-name', 'Ricevitore di prova');
    await page.getByRole('button', { name: 'Crea bin' }).click();
    await page.waitForURL(/\/inspector\/bin_/);
    binPath = new URL(page.url()).pathname;
    binUrl = (await page.locator('#bin-url').textContent())!.trim();
    assert.equal(binUrl, `${server.url}/in/${binPath.split('/').pop()}`);
    await text(page, 'In diretta');
  });

  it('opens a pratica in 1900 (sent)', async () => {
    await open(page, '/applications');
    await text(page, 'Nessuna pratica');
    await page.fill('#na-subject', 'Domanda asilo nido Rossi');
    await page.fill('#na-user', 'Mario Rossi');
    await page.selectOption('#na-status', '1900');
    await page.getByRole('button', { name: 'Crea', exact: true }).click();
    await page.waitForURL(/\/applications\/[0-9a-f-]{36}$/);
    applicationPath = new URL(page.url()).pathname;
    await text(page, 'Inviata');
  });

  it('creates a webhook pointing at the bin; the API refusal shows under the endpoint field', async () => {
    await open(page, '/webhooks/new');
    await page.fill('#wh-title', 'Protocollo informatico');
    await page.fill('#wh-endpoint', 'ftp://example.invalid/x');
    await page.getByRole('button', { name: 'Crea', exact: true }).click();
    await page.locator('#wh-endpoint-error').waitFor();
    assert.match((await page.locator('#wh-endpoint-error').textContent())!, /http/);
    await shot(page, 'webhook-editor-error-desktop');
    await page.fill('#wh-endpoint', binUrl);
    await page.selectOption('#wh-trigger', 'all');
    await page.getByRole('button', { name: 'Crea', exact: true }).click();
    await page.waitForURL(/\/webhooks\/wh_/);
    webhookPath = new URL(page.url()).pathname;
    // The secret, shown this once, with a copy button; then handed to the bin.
    assert.match((await page.locator('#secret-value').textContent())!, /^whsec_/);
    await page.getByRole('button', { name: 'Copia il segreto' }).waitFor();
    await page.getByRole('button', { name: /Usalo nel bin/ }).click();
    await text(page, 'Il bin ora verifica le firme');
    await shot(page, 'webhook-detail-secret-desktop');
  });

  it('moves the pratica to 2000: the delivery succeeds and the request appears live with a valid signature', async () => {
    // The bin page stays open in a second tab: the capture must arrive over SSE, not a reload.
    live = await desk.newPage();
    watch(live);
    await open(live, binPath);
    // sessionStorage belongs to one tab: a new tab signs in again, then lands where it was going.
    await signIn(live, tenant.key);
    await live.waitForURL(`**${binPath}`);
    await text(live, 'In diretta');
    await text(live, 'In attesa di richieste');

    await open(page, applicationPath);
    await page.locator('#tr-status option').first().waitFor({ state: 'attached' });
    const options = await page.locator('#tr-status option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    assert.deepEqual(options, ['2000'], 'from 1900 the only legal move is 2000');
    await page.fill('#tr-message', 'Domanda acquisita');
    await page.getByRole('button', { name: 'Applica' }).click();
    await text(page, 'Stato cambiato in 2000');
    await page.locator('.timeline').getByText('Acquisita').first().waitFor();
    // Times are Rome's, whatever the browser's zone (this one runs in UTC).
    const doc = await server.api.as(tenant.key).get(`/api${applicationPath}`);
    const rome = new Intl.DateTimeFormat('it-IT', { timeZone: 'Europe/Rome', day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .format(new Date(doc.body.latest_status_change_at));
    await page.locator('.timeline time', { hasText: rome }).first().waitFor();
    await shot(page, 'application-detail-desktop');

    await live.locator('.capture-row').first().waitFor({ timeout: 15_000 });
    await live.locator('.capture-row').first().click();
    await live.locator('#signature-verdict [data-signature="valid"]').waitFor();
    await text(live, 'webhook-signature');
    await shot(live, 'inspector-request-desktop');

    await open(page, '/deliveries');
    await page.locator('tr[data-delivery] [data-status="succeeded"]').first().waitFor({ timeout: 15_000 });
    await shot(page, 'deliveries-desktop');
    await page.locator('tr[data-delivery] a').first().click();
    await page.waitForURL(/\/deliveries\/msg_/);
    await page.locator('[data-attempt="1"]').getByText('HTTP 200').waitFor();
    await shot(page, 'delivery-detail-desktop');
  });

  it('sets the bin to answer 500, fires again, and the retry appears', async () => {
    await live.getByRole('button', { name: 'Sempre 500' }).click();
    await live.getByRole('button', { name: 'Salva', exact: true }).click();
    await text(live, 'Salvato.');

    await open(page, applicationPath);
    await page.selectOption('#tr-status', '3000');
    await page.fill('#tr-protocol', 'PG/2024/0001234');
    await page.getByRole('button', { name: 'Applica' }).click();
    await text(page, 'Stato cambiato in 3000');

    // Two 500 answers reach the bin, live.
    await live.waitForFunction(() => document.querySelectorAll('.capture-row').length >= 3, undefined, { timeout: 15_000 });
    await open(page, '/deliveries?status=pending');
    const row = page.locator('tr[data-delivery]').first();
    await row.waitFor({ timeout: 15_000 });
    await row.locator('a').first().click();
    await page.locator('[data-attempt="2"]').getByText('HTTP 500').waitFor({ timeout: 15_000 });
    await page.locator('[data-attempt="1"]').getByText('HTTP 500').waitFor();
    await text(page, 'Prossimo tentativo');
    await shot(page, 'delivery-retry-desktop');
  });

  it('shows the charts, the events log and the webhook health', async () => {
    await open(page, '/');
    await page.locator('#chart-outcomes ~ * svg, section[aria-labelledby="chart-outcomes"] svg').first().waitFor();
    await page.locator('section[aria-labelledby="chart-latency"] svg').waitFor();
    await shot(page, 'overview-desktop');
    await open(page, webhookPath);
    await text(page, 'Salute (ultime 24 ore)');
    await page.locator('section[aria-labelledby="wh-health"] .big').first().waitFor();
    await shot(page, 'webhook-detail-desktop');
    // "Test" shows the receiver's answer at once: the bin still answers 500.
    await page.getByRole('button', { name: 'Invia prova' }).click();
    await page.locator('.test-result').getByText('HTTP 500').waitFor();
    // Rotation: confirmed, then the new secret shown once.
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Ruota il segreto' }).click();
    assert.match((await page.locator('#secret-value').textContent())!, /^whsec_/);
    await text(page, 'Segreto precedente valido fino al');
    // Disable and enable again.
    await page.getByRole('button', { name: 'Disattiva' }).click();
    await page.locator('h1').getByText('Disattivato').waitFor();
    await page.getByRole('button', { name: 'Attiva', exact: true }).click();
    await page.locator('h1').getByText('Attivo').waitFor();

    // The inspector's own tools on the first capture: curl, and a HAR export.
    await open(page, binPath);
    await page.locator('.capture-row').last().click();
    await page.getByRole('button', { name: 'Mostra come curl' }).click();
    await page.locator('pre[aria-label="curl"]').getByText('curl').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Esporta HAR' }).click()]);
    assert.match(download.suggestedFilename(), /^bin_.*\.har$/);
    await page.getByRole('button', { name: 'Esadecimale' }).click();
    await page.locator('pre.hex').getByText('00000000').waitFor();
    await open(page, '/events?type=application.*');
    await page.locator('.event-head').first().click();
    await page.locator('.json-tree').first().waitFor();
    await shot(page, 'events-desktop');
    await open(page, '/webhooks');
    await shot(page, 'webhooks-desktop');
    await open(page, '/applications');
    await page.locator('tr[data-application]').first().waitFor();
    await shot(page, 'applications-desktop');
  });

  it('switches to English and back; the choice survives a reload', async () => {
    await open(page, '/deliveries');
    await text(page, 'Consegne');
    await page.selectOption('#lang-select', 'en');
    await page.getByRole('link', { name: 'Deliveries' }).waitFor();
    await text(page, 'Refresh automatically');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    await page.reload();
    await page.getByRole('heading', { name: 'Deliveries', exact: true }).waitFor();
    await shot(page, 'deliveries-english-desktop');
    await page.selectOption('#lang-select', 'it');
    await page.getByRole('link', { name: 'Consegne' }).waitFor();
  });

  it('shows a 404 as a problem, and a 401 sends the user back to sign-in', async () => {
    await open(page, '/webhooks/wh_does_not_exist');
    await text(page, 'Non trovato');
    await open(page, '/no/such/page');
    await text(page, 'Pagina non trovata');
    // A key revoked (or a session gone stale) meanwhile: the next call answers 401.
    await page.evaluate(() => {
      const s = JSON.parse(sessionStorage.getItem('messo.session')!);
      sessionStorage.setItem('messo.session', JSON.stringify({ ...s, token: 'messo_revoked' }));
    });
    await open(page, '/deliveries');
    await page.waitForURL('**/login');
    await text(page, 'La sessione non è più valida');
  });

  it('lets the admin switch tenants', async () => {
    await signIn(page, 'test-admin-token-0123456789');
    await page.locator('#tenant-select').waitFor();
    await open(page, '/tenants');
    await page.fill('#tn-name', 'Comune di Altrove');
    await page.getByRole('button', { name: 'Crea', exact: true }).click();
    await page.locator('#tenant-select option', { hasText: 'Comune di Altrove' }).waitFor({ state: 'attached' });
    await page.selectOption('#tenant-select', { label: 'Comune di Altrove' });
    await open(page, '/webhooks');
    await text(page, 'Nessun webhook ancora');
    await page.selectOption('#tenant-select', { label: 'Comune di Vattelapesca' });
    await page.getByRole('link', { name: 'Protocollo informatico' }).waitFor();
  });

  it('is readable at 360 px (screenshots)', async () => {
    const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    watch(p);
    await open(p, '/');
    await p.waitForURL('**/login');
    await shot(p, 'login-360');
    // Keyboard only: the token field has the focus, Enter submits.
    await p.keyboard.type(tenant.key);
    await p.keyboard.press('Enter');
    await p.locator('section[aria-labelledby="chart-outcomes"] svg').first().waitFor();
    await shot(p, 'overview-360');
    for (const [path, name, ready] of [
      ['/webhooks', 'webhooks-360', 'tr'],
      [webhookPath, 'webhook-detail-360', '.big'],
      [`${webhookPath}/edit`, 'webhook-editor-360', '#wh-title'],
      ['/deliveries', 'deliveries-360', 'tr[data-delivery]'],
      [applicationPath, 'application-detail-360', '.timeline'],
      ['/events', 'events-360', '.event-head'],
      [binPath, 'inspector-360', '.capture-row'],
    ] as const) {
      await open(p, path);
      await p.locator(ready).first().waitFor();
      // Nothing wider than the screen: no sideways scrolling of the page.
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 1, `${path} is ${overflow}px wider than 360`);
      // Every form field has a label a screen reader announces.
      const unlabelled = await p.evaluate(() => [...document.querySelectorAll<HTMLInputElement>('input, select, textarea')]
        .filter((el) => el.type !== 'hidden' && (el.labels?.length ?? 0) === 0 && !el.getAttribute('aria-label'))
        .map((el) => el.outerHTML.slice(0, 80)));
      assert.deepEqual(unlabelled, [], `${path}: fields without a label`);
      await shot(p, name);
    }
    await phone.close();
    assert.deepEqual(pageErrors, [], 'no script error on any page');
  });
});
