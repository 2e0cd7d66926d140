/**
 * The dashboard end to end: Debian's Chromium (headless, through playwright-core) against a real
 * messo server with the dispatcher on, a fresh SQLite file, and deliveries to the server's own
 * inspector bin. The steps run in order, each building on the one before (one browser, as the
 * two people of issue 15 would use it):
 * - the integrator: a bin, a webhook made from it, a test whose capture is one click away, then
 *   the bin scripted to answer 500 three times and the retries arriving live; a test that follows
 *   the retry schedule, without a pratica;
 * - the operator: a status change behind a button that names the webhooks it fires, the pratica
 *   found by searching its applicant's name, the failing webhook in "Da sistemare" and in the
 *   webhook list, its retrying deliveries with a bulk action's count, the receiver's answer,
 *   "Riprova ora" and the delivery done at attempt 5 (manual); a disabled webhook's skipped
 *   event brought back by "Riattiva e recupera";
 * - the shell: language, problems, sign-out in every tab, the admin's tenants, an idle session,
 *   focus after navigation, the phone's menu and filters.
 * Every page is checked with axe-core
 * and for overflow in e2e-accessibility.test.ts. Screenshots go to test-artifacts/screenshots/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { browserSkip, launchChromium, shot, watchErrors } from './e2e-helpers.js';
import { ADMIN_TOKEN, createTenant, startTestServer, type TestServer } from './harness.js';

if (browserSkip) console.log(`# e2e-dashboard skipped: ${browserSkip}`);

describe('dashboard in Chromium', { skip: browserSkip, timeout: 420_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let desk: BrowserContext;
  let page: Page;
  let live: Page;
  let tenant: { id: string; key: string };
  let binId = '';
  let binUrl = '';
  let binPath = '';
  let applicationPath = '';
  const pageErrors: string[] = [];

  const text = (p: Page, s: string, timeout = 10_000) => p.getByText(s, { exact: false }).first().waitFor({ timeout });
  const open = async (p: Page, path: string) => {
    await p.goto(server.url + path);
  };
  const signIn = async (p: Page, token: string) => {
    await p.waitForURL('**/login');
    await p.fill('#login-token', token);
    await p.click('button[type=submit]');
  };
  const focusedHeading = (p: Page) => p.evaluate(() => (document.activeElement?.tagName === 'H1' ? document.activeElement.textContent : null));
  /** The bin's scripted answers, set as the receiver's owner would (not through this dashboard). */
  const binAnswers = (responses: unknown[]) => server.api.as(tenant.key).patch(`/api/inspector/bins/${binId}`, { responses });

  before(async () => {
    // Four attempts about a second apart, then a fifth ten minutes later: a delivery still
    // failing after four waits "in attesa", where only "Riprova ora" brings it in at once.
    server = await startTestServer({ MESSO_DISPATCHER: 'true', MESSO_RETRY_SCHEDULE: '0,1,1,1,600' });
    tenant = await createTenant(server, 'Comune di Vattelapesca');
    // Services come from the platform (no page creates them): one, through the API.
    const service = await server.api.as(tenant.key).post('/api/services', { name: 'Iscrizione asilo nido' });
    assert.equal(service.status, 201);
    // Another applicant's pratica, before any webhook exists: the search must leave it out.
    assert.equal((await server.api.as(tenant.key).post('/api/applications', { service_id: service.body.id, status: 1900, user_name: 'Giulia Verdi' })).status, 201);
    browser = await launchChromium();
    desk = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: 'UTC' });
    desk.setDefaultTimeout(15_000);
    page = await desk.newPage();
    watchErrors(page, pageErrors);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('signs in after refusing a wrong key; a new tab of the same browser is signed in too', async () => {
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
    // The key is kept for the browser (localStorage), never in a URL.
    assert.ok(!page.url().includes(tenant.key));
    assert.match(await page.evaluate(() => localStorage.getItem('messo.session') ?? ''), /messo_/);
    live = await desk.newPage();
    watchErrors(live, pageErrors);
    await open(live, '/inspector');
    await live.getByRole('heading', { name: 'Inspector' }).waitFor();
    assert.equal(new URL(live.url()).pathname, '/inspector');
  });

  it('integrator: a bin, a webhook made from it, a test whose capture is one click away', async () => {
    await live.fill('#bin-name', 'Ricevitore di prova');
    await live.getByRole('button', { name: 'Crea bin' }).click();
    await live.waitForURL(/\/inspector\/bin_/);
    binPath = new URL(live.url()).pathname;
    binId = binPath.split('/').pop()!;
    binUrl = (await live.locator('#bin-url').textContent())!.trim();
    assert.equal(binUrl, `${server.url}/in/${binId}`);
    await text(live, 'In diretta');

    await open(page, binPath);
    await page.getByRole('link', { name: 'Crea un webhook verso questo bin' }).click();
    await page.waitForURL(/\/webhooks\/new\?bin=/);
    await page.waitForFunction((url) => document.querySelector<HTMLInputElement>('#wh-endpoint')?.value === url, binUrl);
    assert.equal(await page.inputValue('#wh-title'), 'Prova verso Ricevitore di prova');
    await page.fill('#wh-title', 'Protocollo informatico');
    // The API's refusal, under the field: a lead in Italian, then the API's own words, marked English.
    await page.fill('#wh-endpoint', 'ftp://example.invalid/x');
    await page.getByRole('button', { name: 'Crea', exact: true }).click();
    await page.locator('#wh-endpoint-error').waitFor();
    assert.match((await page.locator('#wh-endpoint-error').textContent())!, /^⚠?\s*Valore non valido: .*http/);
    assert.equal(await page.locator('#wh-endpoint-error [lang="en"]').count(), 1);
    await shot(page, 'webhook-editor-error-desktop');
    await page.fill('#wh-endpoint', binUrl);
    await page.getByRole('button', { name: 'Crea', exact: true }).click();
    await page.waitForURL(/\/webhooks\/wh_/);
    // The secret, shown this once, with a copy button; then handed to the bin.
    assert.match((await page.locator('#secret-value').textContent())!, /^whsec_/);
    await page.getByRole('button', { name: /Dallo al bin/ }).click();
    await text(page, 'Il bin ora verifica le firme');
    await shot(page, 'webhook-detail-secret-desktop');

    await page.getByRole('button', { name: 'Invia prova' }).click();
    await page.locator('.test-result').getByText('HTTP 200').waitFor();
    await page.locator('[data-capture-link]').click();
    await page.waitForURL(/\/inspector\/bin_.*\?request=/);
    const picked = new URL(page.url()).searchParams.get('request');
    assert.equal(await page.locator('.capture-row[aria-current="true"]').getAttribute('data-capture'), picked);
    await page.locator('#signature-verdict [data-signature="valid"]').waitFor();
    await text(page, 'Invio di prova');
    // The test also arrived live in the other tab, where it is the newest request, selected.
    await live.locator(`.capture-row[aria-current="true"][data-capture="${picked}"]`).waitFor();
    await shot(page, 'inspector-test-capture-desktop');
  });

  it('integrator: the bin answers 500 three times, the retries arrive live, the newest selected', async () => {
    await live.getByRole('button', { name: '500 tre volte, poi 200' }).click();
    await live.getByRole('button', { name: 'Salva', exact: true }).click();
    await text(live, 'Salvato.');

    // A pratica created in 1900 fires "every status change" at once.
    await open(page, '/applications');
    await page.fill('#na-subject', 'Domanda asilo nido Rossi');
    await page.fill('#na-user', 'Mario Rossi');
    await page.selectOption('#na-status', '1900');
    await page.getByRole('button', { name: 'Crea', exact: true }).click();
    await page.waitForURL(/\/applications\/[0-9a-f-]{36}$/);
    applicationPath = new URL(page.url()).pathname;

    // Four requests with one webhook-id: three 500s, then the 200. The newest is shown.
    const newest = live.locator('.capture-row[aria-current="true"]');
    await newest.locator('[data-arrival="4"]').waitFor({ timeout: 20_000 });
    assert.match((await newest.getAttribute('class'))!, /is-new/);
    await newest.getByText('→ 200').waitFor();
    await live.locator('[data-event-type]', { hasText: 'application.created' }).waitFor();
    await live.locator('[data-attempt-of-capture="4"]').waitFor();
    assert.equal(await live.locator('.capture-row >> text=→ 500').count(), 3);
    await shot(live, 'inspector-retries-desktop');
    // "Invia prova" through the schedule: the retry path without a pratica.
    assert.equal((await binAnswers([{ status: 500, times: 2 }])).status, 200);
    await open(page, '/webhooks');
    await page.getByRole('link', { name: 'Protocollo informatico' }).click();
    await page.locator('#test-schedule').check();
    await page.getByRole('button', { name: 'Invia prova' }).click();
    await page.locator('[data-test-delivery]').getByRole('link', { name: 'Apri la consegna' }).click();
    await page.waitForURL(/\/deliveries\/msg_/);
    await page.locator('h1 [data-status="succeeded"]').waitFor({ timeout: 15_000 });
    await page.locator('[data-attempt="3"]').waitFor();
    assert.equal(await page.locator('.attempt-title').count(), 3, 'two 500s, then the 200');
    await live.locator('.capture-row[aria-current="true"]').getByText('→ 200').waitFor();
  });

  it('operator: the status change is behind a button, offers the legal moves and names the webhooks it fires', async () => {
    // The receiver breaks: every request gets a 500 with a message.
    assert.equal((await binAnswers([{ status: 500, body: 'Protocollo non disponibile: riprovare più tardi' }])).status, 200);
    await open(page, applicationPath);
    await text(page, 'Consegne per webhook');
    assert.equal(await page.locator('#tr-status').count(), 0, 'no status form until asked');
    await page.getByRole('button', { name: 'Cambia stato…' }).click();
    await page.waitForFunction(() => document.activeElement?.id === 'tr-status');
    const options = await page.locator('#tr-status option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    assert.deepEqual(options, ['', '2000'], 'nothing preselected; from 1900 the only legal move is 2000');
    await page.getByRole('button', { name: 'Continua' }).click();
    await text(page, 'Scegli il nuovo stato.');
    await page.selectOption('#tr-status', '2000');
    await page.fill('#tr-message', 'Domanda acquisita');
    await page.getByRole('button', { name: 'Continua' }).click();
    await page.locator('[data-confirm] [data-firing]').getByRole('link', { name: 'Protocollo informatico' }).waitFor();
    await shot(page, 'application-confirm-desktop');
    await page.getByRole('button', { name: 'Cambia lo stato' }).click();
    await text(page, 'Stato cambiato in 2000');
    await page.locator('.timeline').getByText('Acquisita').first().waitFor();
    await page.locator('.timeline').getByText('Domanda acquisita').waitFor();
    // Times are Rome's, to the second, whatever the browser's zone (this one runs in UTC).
    const doc = await server.api.as(tenant.key).get(`/api${applicationPath}`);
    const rome = new Intl.DateTimeFormat('it-IT', { timeZone: 'Europe/Rome', day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .format(new Date(doc.body.latest_status_change_at));
    await page.locator('.timeline time', { hasText: rome }).first().waitFor();
  });

  it("operator: finds the pratica by its applicant, sees what to fix, the receiver's answer, retries now", async () => {
    const api = server.api.as(tenant.key);
    await open(page, '/applications');
    await page.fill('#ap-q', 'mario rossi');
    await page.getByRole('button', { name: 'Cerca', exact: true }).click();
    await page.waitForURL(/\/applications\?q=mario/);
    // The URL changes before the list re-renders: wait for the search's rows, not the list's.
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('tr[data-application]')];
      return rows.length > 0 && rows.every((r) => r.textContent?.includes('Mario Rossi'));
    }, null, { timeout: 10_000 });
    assert.equal(await page.locator('tr[data-application]').count(), 1, 'the search finds Mario Rossi\'s pratica only');
    await shot(page, 'applications-search-desktop');
    await page.locator('tr[data-application]', { hasText: 'Mario Rossi' }).getByRole('link').click();
    await page.waitForURL(`**${applicationPath}`);
    // The status change's delivery fails four times (about 3 s), then waits ten minutes.
    const appId = applicationPath.split('/').pop()!;
    let retrying: any = null;
    for (let i = 0; i < 100 && !retrying; i++) {
      const l = await api.get(`/api/deliveries?application_id=${appId}&status=pending`);
      retrying = l.body.items.find((d: any) => d.attempts >= 4) ?? null;
      if (!retrying) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(retrying, 'a delivery retrying after four failed attempts');
    const mine = page.locator('.per-webhook li', { hasText: 'Protocollo informatico' });
    await mine.locator('[data-status="pending"]').waitFor({ timeout: 20_000 });
    await shot(page, 'application-detail-desktop');

    // The overview opens with what to fix, linked to the webhook's retrying deliveries.
    await open(page, '/');
    const fix = page.locator('section[aria-labelledby="to-fix"] li', { hasText: 'Protocollo informatico' });
    await fix.getByText('in errore dal').waitFor();
    await shot(page, 'overview-to-fix-desktop');
    await open(page, '/webhooks');
    await page.locator('[data-health="failing"]', { hasText: 'In errore dal' }).waitFor();
    await open(page, '/');
    await fix.getByRole('link', { name: 'Consegne in attesa' }).click();
    await page.waitForURL(/\/deliveries\?webhook_id=.*status=pending/);
    const row = page.locator(`tr[data-delivery="${retrying.id}"]`);
    await row.getByText('Domanda asilo nido Rossi').waitFor();
    await row.getByText('Mario Rossi').waitFor();
    // A bulk action counts first and asks; cancelled here.
    await page.locator('[data-bulk-action="retry_now-filter"]').click();
    await page.locator('[data-bulk] [data-confirm]', { hasText: 'Consegne in attesa da riprovare ora: 1' }).waitFor();
    await shot(page, 'deliveries-bulk-confirm-desktop');
    await page.locator('[data-bulk] [data-confirm]').getByRole('button', { name: 'Annulla' }).click();
    await row.getByRole('link').first().click();
    await page.waitForURL(/\/deliveries\/msg_/);
    // The last error in words, with the start of the answer; the last attempt open.
    const last = page.locator('.last-error');
    await last.getByText('HTTP 500').waitFor();
    await last.getByText('Protocollo non disponibile').waitFor();
    await page.locator('[data-attempt="4"]').waitFor();
    await page.locator('.timeline li').first().locator('pre', { hasText: 'riprovare più tardi' }).waitFor({ state: 'visible' });
    assert.equal(await page.locator('.timeline li').nth(1).locator('details[open]').count(), 0, 'older attempts stay folded');
    await text(page, 'Il prossimo tentativo è previsto per');
    await shot(page, 'delivery-detail-desktop');
    // The receiver is fixed; the operator does not wait ten minutes.
    assert.equal((await binAnswers([])).status, 200);
    await page.getByRole('button', { name: 'Riprova ora' }).click();
    await page.locator('h1 [data-status="succeeded"]').waitFor({ timeout: 15_000 });
    await page.locator('[data-attempt="5"][data-manual="true"]', { hasText: 'Tentativo 5 · reinvio manuale' }).waitFor();
  });

  it('shows the charts, the events log and the webhook health', async () => {
    await open(page, '/');
    await page.locator('section[aria-labelledby="chart-outcomes"] svg').first().waitFor();
    await page.locator('section[aria-labelledby="chart-latency"] svg').waitFor();
    await shot(page, 'overview-desktop');
    // A click on a menu item: the new page's heading has the focus.
    await page.getByRole('navigation').getByRole('link', { name: 'Webhook' }).click();
    await page.waitForFunction(() => document.activeElement?.tagName === 'H1');
    assert.equal(await focusedHeading(page), 'Webhook');
    await shot(page, 'webhooks-desktop');
    await page.getByRole('link', { name: 'Protocollo informatico' }).click();
    // The page shows a loading heading first; the focus moves on to the loaded one.
    await page.waitForFunction(() => document.activeElement?.tagName === 'H1' && document.activeElement.textContent!.includes('Protocollo informatico'));
    await text(page, 'Stato di salute (ultime 24 ore)');
    await page.locator('section[aria-labelledby="wh-health"] .big').first().waitFor();
    await shot(page, 'webhook-detail-desktop');
    // Rotation: confirmed, then the new secret shown once.
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Ruota il segreto' }).click();
    assert.match((await page.locator('#secret-value').textContent())!, /^whsec_/);
    await text(page, 'Segreto precedente valido fino al');
    // Disabled, it says since when and why; a pratica created meanwhile is skipped, counted,
    // and delivered by "Riattiva e recupera".
    await page.getByRole('button', { name: 'Disattiva' }).click();
    await page.locator('h1').getByText('Disattivato').waitFor();
    await text(page, 'Disattivato dal');
    const services = await server.api.as(tenant.key).get('/api/services');
    const skipped = await server.api.as(tenant.key).post('/api/applications', { service_id: services.body.items[0].id, status: 1900, user_name: 'Anna Bianchi' });
    assert.equal(skipped.status, 201);
    await page.reload();
    await page.locator('[data-disabled-banner]').getByText('disattivato da un utente').waitFor();
    await page.locator('[data-disabled-banner] [data-skipped="1"]').waitFor();
    await shot(page, 'webhook-disabled-desktop');
    await page.getByRole('button', { name: 'Riattiva e recupera' }).click();
    await page.locator('[data-recovered]', { hasText: 'Consegne create per gli eventi saltati: 1' }).waitFor();
    await page.locator('h1').getByText('Attivo').waitFor();
    const recovered = await server.api.as(tenant.key).get(`/api/deliveries?application_id=${skipped.body.id}`);
    assert.equal(recovered.body.items.length, 1, 'the skipped event got its delivery');
    await page.getByRole('button', { name: 'Disattiva' }).click();
    await page.locator('h1').getByText('Disattivato').waitFor();
    await page.getByRole('button', { name: 'Attiva', exact: true }).click();
    await page.locator('h1').getByText('Attivo').waitFor();

    // The inspector's own tools on a capture: curl, a HAR export, the hex view.
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
  });

  it('takes dates as the interface language writes them, Rome time; refuses an impossible one by the field', async () => {
    await open(page, '/deliveries');
    await page.fill('#f-since', '31/02/2025 10:00');
    await page.getByRole('button', { name: 'Filtra' }).click();
    await page.locator('#f-since-error', { hasText: 'gg/mm/aaaa hh:mm:ss' }).waitFor();
    await page.fill('#f-since', '01/03/2025 10:00:30');
    await page.getByRole('button', { name: 'Filtra' }).click();
    await page.waitForURL(/since=/);
    // 10:00:30 in Rome on 1 March (winter time, UTC+1) is 09:00:30 UTC.
    assert.equal(new URL(page.url()).searchParams.get('since'), '2025-03-01T09:00:30.000Z');
    assert.equal(await page.inputValue('#f-since'), '01/03/2025 10:00:30');
  });

  it('switches to English and back; the choice survives a reload; problems are in the chosen language', async () => {
    await open(page, '/deliveries');
    await text(page, 'Consegne');
    await page.selectOption('#lang-select', 'en');
    await page.getByRole('link', { name: 'Deliveries' }).waitFor();
    await text(page, 'Refresh automatically');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    await page.reload();
    await page.getByRole('heading', { name: 'Deliveries', exact: true }).waitFor();
    await shot(page, 'deliveries-english-desktop');
    await open(page, '/webhooks/wh_does_not_exist');
    await page.locator('.problem strong', { hasText: 'Not found' }).waitFor();
    await page.selectOption('#lang-select', 'it');
    await page.locator('.problem strong', { hasText: 'Non trovato' }).waitFor();
  });

  it('signing out signs out every tab of the browser; signing in brings them back', async () => {
    await open(live, binPath);
    await text(live, 'In diretta');
    await page.getByRole('button', { name: 'Esci da tutte le schede' }).click();
    await page.waitForURL('**/login');
    await text(page, 'Sei uscito da tutte le schede');
    await live.waitForURL('**/login');
    await text(live, 'Sei uscito da un’altra scheda');
    assert.equal(await live.evaluate(() => localStorage.getItem('messo.session')), null);
    await signIn(page, tenant.key);
    // The other tab follows, back where it was.
    await live.waitForURL(`**${binPath}`);
  });

  it('shows a missing page, and a 401 sends the user back to sign-in', async () => {
    await open(page, '/no/such/page');
    await text(page, 'Pagina non trovata');
    // A key revoked (or a session gone stale) meanwhile: the next call answers 401.
    await page.evaluate(() => {
      const s = JSON.parse(localStorage.getItem('messo.session')!);
      localStorage.setItem('messo.session', JSON.stringify({ ...s, token: 'messo_revoked' }));
    });
    await open(page, '/deliveries');
    await page.waitForURL('**/login');
    await text(page, 'La sessione non è più valida');
  });

  it("lets the admin switch tenants, one tab's choice not changing another's", async () => {
    await signIn(page, ADMIN_TOKEN);
    await page.locator('#tenant-select').waitFor();
    await open(page, '/tenants');
    await page.fill('#tn-name', 'Comune di Altrove');
    await page.getByRole('button', { name: 'Crea', exact: true }).click();
    await page.locator('#tenant-select option', { hasText: 'Comune di Altrove' }).waitFor({ state: 'attached' });
    await open(live, '/webhooks');
    await live.getByRole('link', { name: 'Protocollo informatico' }).waitFor();
    await page.selectOption('#tenant-select', { label: 'Comune di Altrove' });
    await open(page, '/webhooks');
    await text(page, 'Nessun webhook ancora');
    await live.reload();
    await live.getByRole('link', { name: 'Protocollo informatico' }).waitFor();
    await page.selectOption('#tenant-select', { label: 'Comune di Vattelapesca' });
    await page.getByRole('link', { name: 'Protocollo informatico' }).waitFor();
  });

  it('forgets a session left unused for 12 hours', async () => {
    await live.close();
    await page.evaluate(() => {
      const s = JSON.parse(localStorage.getItem('messo.session')!);
      localStorage.setItem('messo.session', JSON.stringify({ ...s, usedAt: Date.now() - 13 * 3600_000 }));
    });
    await page.reload();
    await page.waitForURL('**/login');
    await text(page, 'Sessione chiusa dopo 12 ore');
  });

  it('on a phone: the menu shows it scrolls, filters fold, focus follows navigation', async () => {
    const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    phone.setDefaultTimeout(15_000);
    const p = await phone.newPage();
    watchErrors(p, pageErrors);
    await open(p, '/');
    await p.waitForURL('**/login');
    await shot(p, 'login-360');
    // Keyboard only: the token field has the focus, Enter submits.
    await p.keyboard.type(tenant.key);
    await p.keyboard.press('Enter');
    await p.locator('section[aria-labelledby="chart-outcomes"] svg').first().waitFor();
    await shot(p, 'overview-360');
    // The menu is wider than the screen, and its right edge carries a shadow saying so.
    const menu = await p.locator('.mainnav ul').evaluate((ul) => ({ scrolls: ul.scrollWidth > ul.clientWidth, bg: getComputedStyle(ul).backgroundImage }));
    assert.ok(menu.scrolls, 'at 360 px the menu scrolls');
    assert.match(menu.bg, /radial-gradient/);
    await p.goto(`${server.url}/deliveries?status=succeeded`);
    await p.locator('tr[data-delivery]').first().waitFor();
    // The active item is scrolled into the visible part of the menu; the filters are folded.
    const seen = await p.locator('.mainnav [aria-current="page"]').evaluate((a) => {
      const r = a.getBoundingClientRect();
      const box = a.closest('ul')!.getBoundingClientRect();
      return r.left >= box.left - 1 && r.right <= box.right + 1;
    });
    assert.ok(seen, 'the current menu item is in view');
    assert.equal(await p.locator('details.filters-box').getAttribute('open'), null);
    await p.locator('details.filters-box summary').getByText('1 in uso').waitFor();
    await shot(p, 'deliveries-360');
    await p.locator('details.filters-box summary').click();
    await p.locator('#f-status').waitFor();
    await p.locator('.mainnav').getByRole('link', { name: 'Inspector' }).click();
    await p.waitForFunction(() => document.activeElement?.tagName === 'H1');
    assert.equal(await focusedHeading(p), 'Inspector');
    await phone.close();
    assert.deepEqual(pageErrors, [], 'no script error on any page');
  });
});
