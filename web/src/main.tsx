/** The dashboard's shell: session, language, layout and routes. */
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { call, onUnauthorized, type Page } from './api.js';
import { lang, onLang, t, TIME_ZONE, type Key, type Lang } from './i18n/index.js';
import { handleLinkClick, match, navigate, useLocation } from './router.js';
import { clearSession, loadSession, noSessionReason, onSessionChange, saveSession, type Session } from './session.js';
import { Login } from './pages/Login.js';
import { Overview } from './pages/Overview.js';
import { WebhookList } from './pages/WebhookList.js';
import { WebhookEditor } from './pages/WebhookEditor.js';
import { WebhookDetail } from './pages/WebhookDetail.js';
import { Deliveries } from './pages/Deliveries.js';
import { DeliveryDetail } from './pages/DeliveryDetail.js';
import { Events } from './pages/Events.js';
import { Applications } from './pages/Applications.js';
import { ApplicationDetail } from './pages/ApplicationDetail.js';
import { Bins } from './pages/Bins.js';
import { BinPage } from './pages/BinPage.js';
import { Tenants } from './pages/Tenants.js';
import { Empty } from './ui/common.js';
import { LangSwitch } from './ui/LangSwitch.js';
import './styles.css';
import type { Tenant as TenantSchema } from './types.js';

type Tenant = Pick<TenantSchema, 'id' | 'name'>;

type Route = { pattern: string; nav?: Key; tenantScoped: boolean; view: (p: Record<string, string>) => preact.JSX.Element };

const ROUTES: Route[] = [
  { pattern: '/', nav: 'nav.overview', tenantScoped: true, view: () => <Overview /> },
  { pattern: '/webhooks', nav: 'nav.webhooks', tenantScoped: true, view: () => <WebhookList /> },
  { pattern: '/webhooks/new', tenantScoped: true, view: () => <WebhookEditor id={null} /> },
  { pattern: '/webhooks/:id', tenantScoped: true, view: (p) => <WebhookDetail id={p.id} /> },
  { pattern: '/webhooks/:id/edit', tenantScoped: true, view: (p) => <WebhookEditor id={p.id} /> },
  { pattern: '/deliveries', nav: 'nav.deliveries', tenantScoped: true, view: () => <Deliveries /> },
  { pattern: '/deliveries/:id', tenantScoped: true, view: (p) => <DeliveryDetail id={p.id} /> },
  { pattern: '/events', nav: 'nav.events', tenantScoped: true, view: () => <Events /> },
  { pattern: '/applications', nav: 'nav.applications', tenantScoped: true, view: () => <Applications /> },
  { pattern: '/applications/:id', tenantScoped: true, view: (p) => <ApplicationDetail id={p.id} /> },
  { pattern: '/inspector', nav: 'nav.inspector', tenantScoped: true, view: () => <Bins /> },
  { pattern: '/inspector/:id', tenantScoped: true, view: (p) => <BinPage id={p.id} /> },
  { pattern: '/tenants', tenantScoped: false, view: () => <Tenants /> },
];

/** Where the user was going when sign-in interrupted them. */
let afterLogin = '/';
let loginNotice: Key | null = null;

function App() {
  const [session, setSession] = useState<Session | null>(() => {
    const s = loadSession();
    if (!s && noSessionReason() === 'idle') loginNotice = 'login.idle';
    return s;
  });
  const [, setLangState] = useState<Lang>(lang());
  const loc = useLocation();
  const firstPath = useRef(true);

  useEffect(() => onLang(setLangState), []);
  useEffect(() => {
    document.documentElement.lang = lang();
    onUnauthorized(() => {
      loginNotice = 'login.expired';
      if (location.pathname !== '/login') afterLogin = location.pathname + location.search;
      setSession(null);
      navigate('/login', { replace: true });
    });
    // Another tab of this browser signed out (every tab follows) or signed in (this one too).
    return onSessionChange((change) => {
      if (change === 'signed-out') {
        clearSession(); // this tab's own tenant choice too
        loginNotice = 'login.signedOutElsewhere';
        if (location.pathname !== '/login') afterLogin = location.pathname + location.search;
        setSession(null);
        navigate('/login', { replace: true });
        return;
      }
      const s = loadSession();
      setSession(s);
      if (s && location.pathname === '/login') {
        loginNotice = null;
        const to = afterLogin;
        afterLogin = '/';
        navigate(to === '/login' ? '/' : to, { replace: true });
      }
    });
  }, []);

  // After a navigation (not the first load), focus goes to the new page's heading, so a screen
  // reader announces where the user is and Tab continues from there; the active menu item is
  // scrolled into the visible part of the menu (on a phone the menu scrolls sideways).
  useEffect(() => {
    revealActiveNavItem();
    if (firstPath.current) {
      firstPath.current = false;
      return;
    }
    if (loc.path === '/login') return;
    return focusHeadingWhenShown();
  }, [loc.path]);

  useEffect(() => {
    if (!session && loc.path !== '/login') {
      afterLogin = loc.path + (loc.query.toString() ? `?${loc.query}` : '');
      navigate('/login', { replace: true });
    }
    if (session && loc.path === '/login') navigate('/', { replace: true });
  }, [session, loc.path]);

  useEffect(() => {
    const route = ROUTES.find((r) => match(r.pattern, loc.path));
    document.title = route?.nav ? `${t(route.nav)} · messo` : 'messo';
  });

  if (!session || loc.path === '/login') {
    return (
      <Login
        notice={loginNotice}
        onSignedIn={(s) => {
          loginNotice = null;
          saveSession(s);
          setSession(s);
          const to = afterLogin;
          afterLogin = '/';
          navigate(to === '/login' ? '/' : to, { replace: true });
        }}
      />
    );
  }

  const signOut = () => {
    clearSession();
    loginNotice = 'login.signedOut';
    setSession(null);
    navigate('/login');
  };
  const chooseTenant = (tenant: Tenant | null) => {
    const s = { ...session, tenantId: tenant?.id ?? null, tenantName: tenant?.name ?? null };
    saveSession(s);
    setSession(s);
  };

  let content: preact.JSX.Element = <NotFound />;
  let scoped = false;
  for (const r of ROUTES) {
    const params = match(r.pattern, loc.path);
    if (params) {
      content = r.view(params);
      scoped = r.tenantScoped;
      break;
    }
  }
  if (scoped && !session.tenantId) content = <ChooseTenant />;
  if (loc.path === '/tenants' && session.kind !== 'admin') content = <NotFound />;

  return (
    <div class="shell" onClick={handleLinkClick}>
      <a class="skip" href="#main">{t('nav.skip')}</a>
      <header class="top">
        <a href="/" class="brand" aria-label={t('app.home')}>messo</a>
        <div class="top-controls">
          {session.kind === 'admin'
            ? <TenantSwitcher session={session} onChoose={chooseTenant} />
            : <span class="tenant-name" title={t('tenant.current')}>{session.tenantName}</span>}
          <LangSwitch />
          <button type="button" class="secondary small" onClick={signOut}>{t('action.signOutEverywhere')}</button>
        </div>
      </header>
      <nav class="mainnav" aria-label={t('nav.label')}>
        <ul>
          {ROUTES.filter((r) => r.nav).map((r) => {
            const active = r.pattern === '/' ? loc.path === '/' : loc.path === r.pattern || loc.path.startsWith(`${r.pattern}/`);
            return <li key={r.pattern}><a href={r.pattern} aria-current={active ? 'page' : undefined}>{t(r.nav!)}</a></li>;
          })}
          {session.kind === 'admin' && <li><a href="/tenants" aria-current={loc.path === '/tenants' ? 'page' : undefined}>{t('nav.tenants')}</a></li>}
        </ul>
      </nav>
      <main id="main" tabIndex={-1} key={session.tenantId ?? 'none'}>{content}</main>
      <footer class="foot">
        <span>{t('footer.zone', { zone: TIME_ZONE })}</span>
        <a href="/docs" data-external>{t('footer.api')}</a>
      </footer>
    </div>
  );
}

/**
 * Focuses the page's h1 once it is rendered, and the new one when a page swaps its loading
 * heading for the loaded one (the old element goes, and the focus would fall back to <body>).
 * Only while the focus is still free: on <body>, on the link that was followed, or on our h1;
 * once the user has moved it elsewhere, it is left alone. Stops watching after 5 s.
 */
function focusHeadingWhenShown(): () => void {
  const start = document.activeElement;
  let focused: HTMLElement | null = null;
  const free = () => {
    const now = document.activeElement;
    return now === null || now === document.body || now === start || (focused !== null && now === focused);
  };
  const attempt = () => {
    const h = document.querySelector<HTMLElement>('main h1');
    if (!h || h === focused || !free()) return;
    h.tabIndex = -1;
    h.focus({ preventScroll: true });
    focused = h;
  };
  attempt();
  const observer = new MutationObserver(attempt);
  observer.observe(document.getElementById('main') ?? document.body, { childList: true, subtree: true });
  const timer = setTimeout(() => observer.disconnect(), 5000);
  return () => {
    observer.disconnect();
    clearTimeout(timer);
  };
}

function revealActiveNavItem(): void {
  const list = document.querySelector<HTMLElement>('.mainnav ul');
  const item = list?.querySelector<HTMLElement>('[aria-current="page"]');
  if (!list || !item) return;
  const left = item.offsetLeft;
  const right = left + item.offsetWidth;
  if (left < list.scrollLeft || right > list.scrollLeft + list.clientWidth) list.scrollLeft = Math.max(0, left - 24);
}

function TenantSwitcher({ session, onChoose }: { session: Session; onChoose: (t: Tenant | null) => void }) {
  const [tenants, setTenants] = useState<Tenant[] | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const load = () => call<Page<Tenant>>('/api/tenants?limit=200', { tenant: false }).then((p) => {
      setTenants(p.items);
      // A tenant that no longer exists is dropped; the first one is taken when none is chosen.
      if (!p.items.some((x) => x.id === session.tenantId)) onChoose(p.items[0] ?? null);
    }, () => setFailed(true));
    void load();
    // The tenants page announces a new tenant, so it can be chosen at once.
    window.addEventListener('messo:tenants', load);
    return () => window.removeEventListener('messo:tenants', load);
  }, [session.tenantId]);
  if (failed) return <span class="tenant-name">{t('tenant.loadFailed')}</span>;
  if (!tenants) return <span class="tenant-name muted">{t('state.loading')}</span>;
  return (
    <div class="tenant-switch">
      <label for="tenant-select">{t('tenant.label')}</label>
      <select id="tenant-select" value={session.tenantId ?? ''} onChange={(e) => onChoose(tenants.find((x) => x.id === e.currentTarget.value) ?? null)}>
        {tenants.length === 0 && <option value="">{t('tenant.none')}</option>}
        {tenants.map((x) => <option key={x.id} value={x.id}>{x.name}</option>)}
      </select>
    </div>
  );
}

function ChooseTenant() {
  return (
    <div class="page">
      <h1>{t('tenant.chooseTitle')}</h1>
      <Empty>{t('tenant.chooseText')} <a href="/tenants">{t('nav.tenants')}</a></Empty>
    </div>
  );
}

function NotFound() {
  return (
    <div class="page">
      <h1>{t('error.pageNotFound')}</h1>
      <p><a href="/">{t('app.home')}</a></p>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
