/** Admin only: the tenants (enti), a new one, and an API key for one (shown once). */
import { useState } from 'preact/hooks';
import { call } from '../api.js';
import { useAction, usePaged } from '../hooks.js';
import { t } from '../i18n/index.js';
import { CopyButton, Empty, Field, fieldAttrs, FormProblem, Loading, LoadMore, ProblemBox, Section, When } from '../ui/common.js';
import type { Tenant } from '../types.js';

export function Tenants() {
  const list = usePaged<Tenant>('/api/tenants?limit=100');
  const [name, setName] = useState('');
  const [key, setKey] = useState<{ tenant: string; key: string } | null>(null);
  const create = useAction(async () => call<Tenant>('/api/tenants', { method: 'POST', body: { name: name.trim() }, tenant: false }));
  const issue = useAction(async (tenant: Tenant) => {
    const k = await call<{ key: string }>(`/api/tenants/${encodeURIComponent(tenant.id)}/keys`, { method: 'POST', body: { name: 'dashboard' }, tenant: false });
    setKey({ tenant: tenant.name, key: k.key });
  });
  const submit = async (e: Event) => {
    e.preventDefault();
    if (await create.run()) {
      setName('');
      list.reload();
      window.dispatchEvent(new Event('messo:tenants'));
    }
  };
  return (
    <div class="page">
      <h1>{t('tenants.title')}</h1>
      <p class="muted">{t('tenants.switchHint')}</p>
      <Section id="tn-new" title={t('tenants.new')}>
        <form class="inline-form" onSubmit={submit} noValidate>
          <Field id="tn-name" label={t('field.name')} name="name" problem={create.problem}>
            <input {...fieldAttrs('tn-name', create.problem, 'name')} maxLength={300} value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </Field>
          <button type="submit" disabled={create.pending}>{t('action.create')}</button>
          <FormProblem problem={create.problem} fields={['name']} />
        </form>
      </Section>
      {key && (
        <section class="card secret" aria-labelledby="key-title">
          <h2 id="key-title">{t('tenants.keyFor', { name: key.tenant })}</h2>
          <p>{t('secret.once')}</p>
          <div class="secret-row"><code class="break">{key.key}</code><CopyButton text={key.key} /></div>
          <button type="button" class="secondary small" onClick={() => setKey(null)}>{t('secret.dismiss')}</button>
        </section>
      )}
      <ProblemBox problem={issue.problem} />
      {list.error ? <ProblemBox problem={list.error} onRetry={list.reload} />
        : !list.items ? <Loading />
        : list.items.length === 0 ? <Empty>{t('tenants.empty')}</Empty>
        : (
          <div class="table-wrap">
            <table class="list">
              <thead><tr><th scope="col">{t('field.name')}</th><th scope="col">{t('field.id')}</th><th scope="col">{t('field.created_at')}</th><th scope="col"><span class="visually-hidden">{t('webhook.actions')}</span></th></tr></thead>
              <tbody>
                {list.items.map((x) => (
                  <tr key={x.id}>
                    <td data-label={t('field.name')}>{x.name}</td>
                    <td data-label={t('field.id')} class="break"><code>{x.id}</code></td>
                    <td data-label={t('field.created_at')}><When at={x.created_at} /></td>
                    <td><button type="button" class="secondary small" disabled={issue.pending} onClick={() => issue.run(x)}>{t('tenants.issueKey')}</button></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      <LoadMore cursor={list.next} loading={list.loadingMore} onClick={list.loadMore} />
    </div>
  );
}
