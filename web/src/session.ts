/**
 * The signed-in token, kept in sessionStorage only: it dies with the tab, and it never goes in
 * a URL (URLs end up in history, logs and Referer headers).
 */
export interface Session {
  token: string;
  kind: 'admin' | 'tenant';
  /** The tenant the dashboard acts for: the key's own, or the admin's choice (X-Tenant-Id). */
  tenantId: string | null;
  tenantName: string | null;
}

const KEY = 'messo.session';

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    return typeof s.token === 'string' && (s.kind === 'admin' || s.kind === 'tenant') ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(s));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}
