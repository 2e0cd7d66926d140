/**
 * Every page of the dashboard, in Italian and English, at 1440 and 360 px, light and dark:
 * axe-core finds no serious or critical violation, and at 360 px nothing is wider than the
 * screen. Screenshots of every page go to test-artifacts/screenshots/ (a11y-<page>-<variant>).
 *
 * The data is made through the API first, so each page has something to show: a bin that
 * answers 500 once (a retried delivery, two captures with one webhook-id), a webhook to it,
 * a disabled webhook (so the overview has something to fix), a pratica moved once with a
 * message, a second tenant for the admin. States: the bulk action's count and confirmation, a search.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ADMIN_TOKEN, createTenant, startTestServer, waitUntil, type TestServer } from './harness.js';
import { axeCheck, browserSkip, clientNavigate, launchChromium, overflowPx, seedSession, shot, watchErrors, type AxeFinding } from './e2e-helpers.js';

interface Variant {
  name: string;
  lang: 'it' | 'en';
  width: number;
  dark: boolean;
  /**
   * Screenshots of every page for these (the others are checked, not photographed): whole pages
   * in the light scheme, the first screen in the dark one. A whole-page shot took up to 8 s on the
   * shared CI machine, a third of a variant's time.
   */
  shots: boolean;
}

// Every rule in both languages at both widths, in the light scheme. The dark scheme changes
// colours only, so there axe checks colour contrast only, at both widths, one language each.
const VARIANTS: Variant[] = [
  { name: 'it-1440', lang: 'it', width: 1440, dark: false, shots: true },
  { name: 'en-1440', lang: 'en', width: 1440, dark: false, shots: false },
  { name: 'it-360', lang: 'it', width: 360, dark: false, shots: true },
  { name: 'en-360', lang: 'en', width: 360, dark: false, shots: false },
  { name: 'it-1440-dark', lang: 'it', width: 1440, dark: true, shots: true },
  { name: 'en-360-dark', lang: 'en', width: 360, dark: true, shots: false },
];

interface PageCase {
  name: string;
  path: string;
  /** Waits until the page shows its data (or does what puts it in the state to check). */
  ready: (p: Page) => Promise<unknown>;
  admin?: boolean;
  /**
   * A second state of a page already checked (a form filled in from a bin, a confirmation, a
   * pinned request): checked in the Italian variants only. Every page itself is checked in every
   * variant; doing the states there too took a run past five minutes on the shared CI machine.
   */
  state?: boolean;
}

describe('dashboard accessibility and phone layout', { skip: browserSkip, timeout: 600_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let tenant: { id: string; key: string };
  const pageErrors: string[] = [];
  const cases: PageCase[] = [];

  before(async () => {
    server = await startTestServer({ MESSO_DISPATCHER: 'true', MESSO_RETRY_SCHEDULE: '0,1,1,1' });
    tenant = await createTenant(server, 'Comune di Vattelapesca');
    await createTenant(server, 'Comune di Altrove');
    const api = server.api.as(tenant.key);
    const svc = (await api.post('/api/services', { name: 'Iscrizione asilo nido' })).body;
    const bin = (await api.post('/api/inspector/bins', { name: 'Protocollo di prova', responses: [{ status: 500, times: 1, body: 'Protocollo non disponibile' }, { status: 200 }] })).body;
    const hook = (await api.post('/api/webhooks', { title: 'Protocollo informatico', endpoint: bin.url, trigger: 'all' })).body;
    const off = (await api.post('/api/webhooks', { title: 'Gestionale ERP', endpoint: 'https://erp.example.it/hook', trigger: '7000', active: false })).body;
    const app = (await api.post('/api/applications', { service_id: svc.id, subject: 'Domanda asilo nido Rossi', user_name: 'Mario Rossi', status: 1900 })).body;
    assert.equal((await api.post(`/api/applications/${app.id}/transitions`, { status: 2000, message: 'Domanda acquisita' })).status, 200);
    assert.equal((await api.post(`/api/applications/${app.id}/messages`, { message: 'Serve la copia del documento.', author: 'Ufficio scuole' })).status, 201);
    let delivery = '';
    // The pratica's creation is its first delivery: the one the bin answers 500 first.
    await waitUntil(async () => {
      const list = (await api.get(`/api/deliveries?webhook_id=${hook.id}&status=succeeded`)).body;
      delivery = list.items.find((d: { attempts: number }) => d.attempts >= 2)?.id ?? '';
      return delivery !== '';
    }, 15_000, 'a delivery to succeed after one retry');
    const capture = (await api.get(`/api/inspector/bins/${bin.id}/requests`)).body.items[0].id;

    const row = (p: Page, sel: string) => p.locator(sel).first().waitFor();
    cases.push(
      { name: 'overview', path: '/', ready: (p) => Promise.all([row(p, 'section[aria-labelledby="chart-latency"] svg'), row(p, '[data-fix-webhook]')]) },
      { name: 'webhooks', path: '/webhooks', ready: (p) => row(p, 'tbody tr') },
      { name: 'webhook', path: `/webhooks/${hook.id}`, ready: (p) => row(p, '.big') },
      { name: 'webhook-disabled', path: `/webhooks/${off.id}`, state: true, ready: (p) => row(p, '.problem') },
      { name: 'webhook-edit', path: `/webhooks/${hook.id}/edit`, ready: (p) => row(p, '#wh-title') },
      { name: 'webhook-from-bin', path: `/webhooks/new?bin=${bin.id}`, state: true, ready: (p) => p.waitForFunction(() => (document.querySelector<HTMLInputElement>('#wh-endpoint')?.value ?? '') !== '') },
      { name: 'deliveries', path: '/deliveries', ready: (p) => row(p, 'tr[data-delivery]') },
      {
        name: 'deliveries-bulk-confirm', path: '/deliveries', state: true,
        ready: async (p) => {
          await row(p, 'tr[data-delivery] input[type="checkbox"]');
          await p.locator('tr[data-delivery] input[type="checkbox"]').first().check();
          await p.locator('[data-bulk-action="retry_now-filter"]').click();
          await row(p, '[data-bulk] [data-confirm]');
        },
      },
      { name: 'delivery', path: `/deliveries/${delivery}`, ready: (p) => row(p, '[data-attempt="2"]') },
      { name: 'events', path: '/events', ready: (p) => row(p, '.event-head') },
      { name: 'applications', path: '/applications', ready: (p) => row(p, 'tr[data-application]') },
      { name: 'applications-search', path: '/applications?q=mario+rossi&order=asc', state: true, ready: (p) => row(p, 'tr[data-application]') },
      { name: 'application', path: `/applications/${app.id}`, ready: (p) => Promise.all([row(p, '.timeline'), row(p, '.message'), row(p, '.per-webhook li')]) },
      {
        name: 'application-confirm', path: `/applications/${app.id}`, state: true,
        ready: async (p) => {
          await p.locator('button[aria-controls="ap-move-panel"]').click();
          await p.selectOption('#tr-status', '3000');
          await p.locator('#ap-move-panel button[type="submit"]').click();
          await row(p, '[data-confirm] [data-firing]');
        },
      },
      { name: 'inspector', path: '/inspector', ready: (p) => row(p, 'tbody tr') },
      { name: 'bin', path: `/inspector/${bin.id}`, ready: (p) => Promise.all([row(p, '.capture-row[aria-current="true"]'), row(p, '#signature-verdict')]) },
      { name: 'capture', path: `/inspector/${bin.id}?request=${capture}`, state: true, ready: (p) => row(p, '[data-event-type]') },
      { name: 'not-found', path: '/no/such/page', ready: (p) => row(p, 'h1') },
      { name: 'tenants', path: '/tenants', admin: true, ready: (p) => row(p, 'tbody tr') },
    );
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const v of VARIANTS) {
    it(`${v.name}: no serious or critical axe violation${v.width === 360 ? ', no sideways overflow' : ''}`, async () => {
      const context = await browser.newContext({
        viewport: { width: v.width, height: v.width === 360 ? 740 : 900 },
        colorScheme: v.dark ? 'dark' : 'light',
        bypassCSP: true,
        ...(v.width === 360 ? { isMobile: true, hasTouch: true } : {}),
      });
      context.setDefaultTimeout(10_000);
      const p = await context.newPage();
      watchErrors(p, pageErrors);
      const findings: Record<string, AxeFinding[]> = {};
      const lesser: Record<string, string[]> = {};
      const overflow: Record<string, number> = {};
      const mains: Record<string, number> = {};
      const check = async (name: string) => {
        const axe = await axeCheck(p, v.dark ? ['color-contrast'] : undefined);
        if (axe.serious.length > 0) findings[name] = axe.serious;
        if (axe.lesser.length > 0) lesser[name] = axe.lesser;
        const main = await p.locator('main').count();
        if (main !== 1) mains[name] = main;
        if (v.width === 360) {
          const px = await overflowPx(p);
          if (px > 1) overflow[name] = px;
        }
        if (v.shots) await shot(p, `a11y-${name}-${v.name}`, !v.dark);
      };
      try {
        // Sign-in first, signed out, in the variant's language.
        await p.goto(`${server.url}/login`);
        await p.evaluate((l) => localStorage.setItem('messo.lang', l), v.lang);
        await p.reload();
        await p.locator('#login-token').waitFor();
        await check('login');
        await seedSession(p, server.url, { token: tenant.key, kind: 'tenant', tenantId: tenant.id, tenantName: 'Comune di Vattelapesca' }, v.lang);
        let fresh = true;
        for (const c of cases) {
          if (c.state && v.lang !== 'it') continue;
          if (c.admin) {
            await seedSession(p, server.url, { token: ADMIN_TOKEN, kind: 'admin', tenantId: tenant.id, tenantName: 'Comune di Vattelapesca' }, v.lang);
            fresh = true;
          }
          // A new document only after a sign-in; otherwise as a link would, keeping axe loaded.
          if (fresh) await p.goto(server.url + c.path);
          else await clientNavigate(p, c.path);
          fresh = false;
          await c.ready(p);
          await check(c.name);
        }
      } finally {
        await context.close();
      }
      // Moderate and minor findings do not fail the run; they are listed for the reader of the log.
      if (Object.keys(lesser).length > 0) console.log(`# ${v.name} moderate/minor axe findings: ${JSON.stringify(lesser)}`);
      assert.deepEqual(mains, {}, `${v.name}: pages without exactly one <main>`);
      assert.deepEqual(overflow, {}, `${v.name}: pages wider than 360 px`);
      assert.deepEqual(findings, {}, `${v.name}: serious or critical axe violations:\n${JSON.stringify(findings, null, 2)}`);
      assert.deepEqual(pageErrors, [], 'no script error on any page');
    });
  }
});
