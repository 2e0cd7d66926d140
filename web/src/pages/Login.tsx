/** Sign-in with a tenant API key or the admin token; the token is checked with GET /api/me. */
import { useState } from 'preact/hooks';
import { ApiProblem, call, type Page } from '../api.js';
import { t, type Key } from '../i18n/index.js';
import { LangSwitch } from '../ui/LangSwitch.js';
import type { Session } from '../session.js';
import type { Me } from '../types.js';
import { Field, fieldAttrs, FormProblem } from '../ui/common.js';


export function Login({ onSignedIn, notice }: { onSignedIn: (s: Session) => void; notice: Key | null }) {
  const [token, setToken] = useState('');
  const [problem, setProblem] = useState<unknown>(null);
  const [pending, setPending] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const value = token.trim();
    if (!value) {
      setProblem(new ApiProblem(400, '', t('login.required'), 'token'));
      return;
    }
    setPending(true);
    setProblem(null);
    try {
      const me = await call<Me>('/api/me', { token: value });
      if (me.kind === 'admin') {
        const tenants = await call<Page<{ id: string; name: string }>>('/api/tenants?limit=200', { token: value });
        const first = tenants.items[0] ?? null;
        onSignedIn({ token: value, kind: 'admin', tenantId: first?.id ?? null, tenantName: first?.name ?? null });
      } else {
        onSignedIn({ token: value, kind: 'tenant', tenantId: me.tenant.id, tenantName: me.tenant.name });
      }
    } catch (err) {
      setProblem(err instanceof ApiProblem && err.status === 401 ? new ApiProblem(401, '', t('login.invalid'), 'token') : err);
    } finally {
      setPending(false);
    }
  };

  return (
    // The sign-in page is a page of its own (no shell), so it carries its own <main> landmark.
    <main class="login" id="main">
      <div class="login-lang"><LangSwitch /></div>
      <form class="card login-card" onSubmit={submit} noValidate>
        <h1><span class="brand">messo</span> {t('login.title')}</h1>
        <p class="muted">{t('login.intro')}</p>
        {notice && <p class="notice" role="status">{t(notice)}</p>}
        <FormProblem problem={problem} fields={['token']} />
        <Field id="login-token" label={t('login.token')} name="token" problem={problem} hint={t('login.tokenHint')}>
          <input {...fieldAttrs('login-token', problem, 'token', true)} type="password" autocomplete="off" spellcheck={false}
            value={token} onInput={(e) => setToken(e.currentTarget.value)} autoFocus />
        </Field>
        <button type="submit" disabled={pending}>{pending ? t('state.loading') : t('login.submit')}</button>
      </form>
    </main>
  );
}
