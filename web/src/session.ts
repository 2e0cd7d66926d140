/**
 * The signed-in key, and where it is kept.
 *
 * It is kept in localStorage, so a new tab or a link opened from another tab of the same
 * browser works without asking for the key again. What was weighed:
 * - sessionStorage (the dashboard's first choice) dies with its tab: every link opened in a new
 *   tab asked for the key again, which operators answered by pasting it into notes and chats.
 * - an HttpOnly cookie would hide the key from page scripts, but the API takes bearer tokens only;
 *   a cookie session needs a server-side session store and CSRF checks it does not have.
 * - localStorage is as readable by this origin's scripts as sessionStorage; what guards both is
 *   the CSP the server sends (default-src 'self': no inline or foreign script).
 * What bounds it:
 * - "sign out" signs out of every tab of this browser at once: the key is removed, and every other
 *   tab hears it through the `storage` event (which fires in the other tabs of the origin on any
 *   change of localStorage) and goes back to sign-in, so no tab goes on working with it;
 * - a key left unused for 12 hours is forgotten (a shared computer at a front office);
 * - it never goes in a URL (URLs end up in history, logs and Referer headers).
 *
 * The tenant an admin works for is chosen per tab (sessionStorage): two tabs may serve two
 * tenants, and a switch in one must not send the other tab's next write to another tenant.
 * A new tab starts from the last choice made in any tab.
 */
export interface Session {
  token: string;
  kind: 'admin' | 'tenant';
  /** The tenant the dashboard acts for: the key's own, or the admin's choice (X-Tenant-Id). */
  tenantId: string | null;
  tenantName: string | null;
}

interface Stored extends Session {
  /** Last use (ms): an idle session ends after MAX_IDLE_MS. */
  usedAt: number;
}

const KEY = 'messo.session';
const TAB_TENANT_KEY = 'messo.tenant';
export const MAX_IDLE_MS = 12 * 3600_000;
/** Writing usedAt on every API call would be a storage write per request; once a minute is enough. */
const TOUCH_EVERY_MS = 60_000;

function readStored(): Stored | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Stored;
    if (typeof s.token !== 'string' || (s.kind !== 'admin' && s.kind !== 'tenant')) return null;
    return s;
  } catch {
    return null;
  }
}

function writeStored(s: Stored): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(s));
  } catch {
    /* storage refused (private mode, quota): the session lasts as long as this page */
  }
}

function tabTenant(): { tenantId: string | null; tenantName: string | null } | null {
  try {
    const raw = sessionStorage.getItem(TAB_TENANT_KEY);
    return raw ? (JSON.parse(raw) as { tenantId: string | null; tenantName: string | null }) : null;
  } catch {
    return null;
  }
}

/** Why loadSession found none: so sign-in can say "your session was idle too long". */
export type NoSession = 'none' | 'idle';
let lastMiss: NoSession = 'none';

export function noSessionReason(): NoSession {
  return lastMiss;
}

export function loadSession(now = Date.now()): Session | null {
  const s = readStored();
  if (!s) {
    lastMiss = 'none';
    return null;
  }
  if (typeof s.usedAt !== 'number' || now - s.usedAt > MAX_IDLE_MS) {
    lastMiss = 'idle';
    clearSession();
    return null;
  }
  const { usedAt: _, ...session } = s;
  if (session.kind === 'admin') {
    const mine = tabTenant();
    if (mine) return { ...session, ...mine };
    // A tab's first look: it takes the last choice and keeps it, so a later switch in another tab
    // does not change the tenant under this one.
    pinTabTenant(session.tenantId, session.tenantName);
  }
  return session;
}

export function saveSession(s: Session): void {
  writeStored({ ...s, usedAt: Date.now() });
  if (s.kind === 'admin') pinTabTenant(s.tenantId, s.tenantName);
}

function pinTabTenant(tenantId: string | null, tenantName: string | null): void {
  try {
    sessionStorage.setItem(TAB_TENANT_KEY, JSON.stringify({ tenantId, tenantName }));
  } catch {
    /* storage refused: the tab follows the last choice */
  }
}

let touchedAt = 0;

/** The session was used now (an API call succeeded): it is not idle. */
export function touchSession(now = Date.now()): void {
  if (now - touchedAt < TOUCH_EVERY_MS) return;
  const s = readStored();
  if (!s) return;
  touchedAt = now;
  writeStored({ ...s, usedAt: now });
}

/** Signs out of every tab of this browser: they hear it through the storage event. */
export function clearSession(): void {
  try {
    localStorage.removeItem(KEY);
    sessionStorage.removeItem(TAB_TENANT_KEY);
  } catch {
    /* nothing was kept */
  }
}

/**
 * Tells `fn` when another tab of this browser signed in (or in as someone else) or out. A tab
 * does not hear its own writes, and a mere touch (same token) is not news.
 */
export function onSessionChange(fn: (change: 'signed-in' | 'signed-out') => void): () => void {
  const listener = (e: StorageEvent) => {
    if (e.key !== KEY && e.key !== null) return;
    const before = parseToken(e.oldValue);
    const after = e.key === null ? null : parseToken(e.newValue);
    if (before === after) return;
    fn(after === null ? 'signed-out' : 'signed-in');
  };
  window.addEventListener('storage', listener);
  return () => window.removeEventListener('storage', listener);
}

function parseToken(raw: string | null): string | null {
  if (!raw) return null;
  try {
    const s = JSON.parse(raw) as { token?: unknown };
    return typeof s.token === 'string' ? s.token : null;
  } catch {
    return null;
  }
}
