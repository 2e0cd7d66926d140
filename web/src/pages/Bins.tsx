/** Inspector bins of the tenant: URLs that record every request sent to them. */
import { useState } from 'preact/hooks';
import { call } from '../api.js';
import { useAction, usePaged } from '../hooks.js';
import { t } from '../i18n/index.js';
import { navigate } from '../router.js';
import type { Bin } from '../types.js';
import { CopyButton, Empty, Field, fieldAttrs, FormProblem, Loading, LoadMore, ProblemBox, Section, When } from '../ui/common.js';

export function Bins() {
  const list = usePaged<Bin>('/api/inspector/bins?limit=50', { refreshMs: 10_000 });
  return (
    <div class="page">
      <h1>{t('inspector.title')}</h1>
      <p class="muted">{t('inspector.intro')}</p>
      <Section id="bin-new" title={t('bins.new')}><NewBin /></Section>
      {list.error ? <ProblemBox problem={list.error} onRetry={list.reload} />
        : !list.items ? <Loading />
        : list.items.length === 0 ? <Empty>{t('bins.empty')}</Empty>
        : (
          <div class="table-wrap">
            <table class="list">
              <thead><tr><th scope="col">{t('field.name')}</th><th scope="col">{t('bins.url')}</th><th scope="col">{t('bins.requests')}</th><th scope="col">{t('bins.signature')}</th><th scope="col">{t('bins.expires')}</th></tr></thead>
              <tbody>
                {list.items.map((b) => (
                  <tr key={b.id}>
                    <td data-label={t('field.name')}><a href={`/inspector/${encodeURIComponent(b.id)}`}>{b.name || b.id}</a></td>
                    <td data-label={t('bins.url')} class="break"><code>{b.url}</code> <CopyButton text={b.url} /></td>
                    <td data-label={t('bins.requests')} class="num">{b.request_count}</td>
                    <td data-label={t('bins.signature')}>{b.has_secret ? t('bins.verifies') : '—'}</td>
                    <td data-label={t('bins.expires')}><When at={b.expires_at} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      <ProblemBox problem={list.moreProblem} />
      <LoadMore cursor={list.next} loading={list.loadingMore} onClick={list.loadMore} />
    </div>
  );
}

function NewBin() {
  const [name, setName] = useState('');
  const [secret, setSecret] = useState('');
  const create = useAction(async () => call<Bin>('/api/inspector/bins', { method: 'POST', body: { name: name.trim() || null, ...(secret.trim() ? { secret: secret.trim() } : {}) } }));
  const submit = async (e: Event) => {
    e.preventDefault();
    const b = await create.run();
    if (b) navigate(`/inspector/${encodeURIComponent(b.id)}`);
  };
  const p = create.problem;
  return (
    <form class="inline-form" onSubmit={submit} noValidate>
      <Field id="bin-name" label={t('field.name')} name="name" problem={p}>
        <input {...fieldAttrs('bin-name', p, 'name')} maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </Field>
      <Field id="bin-secret" label={t('bins.secret')} name="secret" problem={p} hint={t('bins.secretHint')}>
        <input {...fieldAttrs('bin-secret', p, 'secret', true)} type="password" autocomplete="off" spellcheck={false} value={secret} onInput={(e) => setSecret(e.currentTarget.value)} />
      </Field>
      <button type="submit" disabled={create.pending}>{t('bins.create')}</button>
      <FormProblem problem={p} fields={['name', 'secret']} />
    </form>
  );
}
