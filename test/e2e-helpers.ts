/**
 * What the dashboard's browser tests share: Debian's Chromium through playwright-core, the
 * screenshots folder, axe-core injected from node_modules (no download at run time), the
 * sideways-overflow measure, and sign-in by storage for tests that are not about sign-in.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const DASHBOARD = resolve(import.meta.dirname, '../web/index.html');
export const SHOTS = resolve(process.cwd(), 'test-artifacts/screenshots');

export const browserSkip: string | false = !existsSync(CHROMIUM)
  ? `no browser: ${CHROMIUM} is missing (apt-get install chromium; .ci/run does it)`
  : !existsSync(DASHBOARD) ? 'the dashboard is not built (npm run build)' : false;

export async function launchChromium(): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

export async function shot(p: Page, name: string, fullPage = true): Promise<void> {
  await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

/** Script errors of every page watched, to assert none at the end. */
export function watchErrors(p: Page, into: string[]): void {
  p.on('pageerror', (err) => into.push(`${p.url()}: ${err.message}`));
}

/** How many pixels the page is wider than its viewport (0 = no sideways scrolling). */
export function overflowPx(p: Page): Promise<number> {
  return p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeFinding {
  id: string;
  impact: string;
  help: string;
  nodes: string[];
}

/**
 * axe-core's violations on the page as it is now (`rules`: only these): `serious` (serious and
 * critical, which fail the tests) and the `lesser` rule ids (moderate, minor: reported).
 * The page's CSP allows no inline script, so the browser context must be made with
 * `bypassCSP: true` for the injection. Injecting the 560 KB script took 1.3-3.6 s a page on the
 * shared 2-core CI machine (a run, 0.2-0.7 s), so it is injected once per document: move between
 * pages with clientNavigate, which keeps the document.
 */
export async function axeCheck(p: Page, rules?: string[]): Promise<{ serious: AxeFinding[]; lesser: string[] }> {
  if (!(await p.evaluate(() => 'axe' in window))) await p.addScriptTag({ content: AXE_SOURCE });
  const all = await p.evaluate(async (only) => {
    const axe = (window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[]; failureSummary?: string }[] }[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'], ...(only ? { runOnly: only } : {}) });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact ?? 'minor', help: v.help, nodes: v.nodes.slice(0, 5).map((n) => `${JSON.stringify(n.target)} ${n.failureSummary ?? ''}`.slice(0, 300)) }));
  }, rules ?? null);
  const bad = (f: AxeFinding) => f.impact === 'serious' || f.impact === 'critical';
  return { serious: all.filter(bad), lesser: all.filter((f) => !bad(f)).map((f) => `${f.impact}:${f.id}`) };
}

/** Goes to a path as a click on a link would: the dashboard's router, no new document. */
export async function clientNavigate(p: Page, path: string): Promise<void> {
  await p.evaluate((to) => {
    history.pushState(null, '', to);
    dispatchEvent(new PopStateEvent('popstate'));
  }, path);
}

/**
 * Signs a browser context in without the sign-in page, as a tab that signed in earlier would be:
 * the session record the dashboard keeps in localStorage (see web/src/session.ts).
 */
export async function seedSession(p: Page, base: string, s: { token: string; kind: 'admin' | 'tenant'; tenantId: string | null; tenantName: string | null }, lang: 'it' | 'en' = 'it'): Promise<void> {
  await p.goto(`${base}/login`);
  await p.evaluate(([session, l]) => {
    localStorage.setItem('messo.session', JSON.stringify({ ...(session as object), usedAt: Date.now() }));
    localStorage.setItem('messo.lang', l as string);
  }, [s, lang] as const);
}
