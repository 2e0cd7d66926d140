/**
 * Deliveries, newest first, filtered by webhook, status, pratica and time (the filters live in
 * the URL, so a filtered view can be shared). The first page refreshes itself while shown.
 */
import { useState } from 'preact/hooks';
import { ApiProblem, qs, type Page } from '../api.js';
import { useApi, usePaged } from '../hooks.js';
import { dateInputPattern, formatDateInput, parseDateInput, t } from '../i18n/index.js';
import { navigate, useLocation } from '../router.js';
import type { Delivery, Webhook } from '../types.js';
import { DateField, DeliveryChip, Empty, ErrorText, Field, fieldAttrs, FilterPanel, FormProblem, Loading, LoadMore, ProblemBox, Section, When } from '../ui/common.js';
import { RecoverForm } from './RecoverForm.js';

const STATUSES = ['pending', 'sending', 'succeeded', 'failed', 'cancelled'] as const;
const REFRESH_MS = 2_000;

export function Deliveries() {
  const { query } = useLocation();
  const filters = {
    webhook_id: query.get('webhook_id') ?? '', status: query.get('status') ?? '', application_id: query.get('application_id') ?? '',
    since: query.get('since') ?? '', until: query.get('until') ?? '',
  };
  const [live, setLive] = useState(true);
  const list = usePaged<Delivery>(`/api/deliveries${qs({ limit: 50, ...filters })}`, { refreshMs: live ? REFRESH_MS : null });
  const hooks = useApi<Page<Webhook>>('/api/webhooks?limit=500');
  const titles = new Map((hooks.data?.items ?? []).map((w) => [w.id, w.title]));

  return (
    <div class="page">
      <div class="page-head">
        <h1>{t('deliveries.title')}</h1>
        <div class="check">
          <input id="live-toggle" type="checkbox" checked={live} onChange={(e) => setLive(e.currentTarget.checked)} />
          <label for="live-toggle">{t('deliveries.live')}</label>
        </div>
      </div>
      <Filters initial={filters} webhooks={hooks.data?.items ?? []} problem={list.error} />
      {list.error ? <FormProblem problem={list.error} fields={['webhook_id', 'status', 'application_id', 'since', 'until']} />
        : !list.items ? <Loading />
        : list.items.length === 0 ? <Empty>{t('deliveries.empty')}</Empty>
        : (
          <div class="table-wrap">
            <table class="list" aria-live="polite">
              <thead><tr>
                <th scope="col">{t('delivery.created')}</th><th scope="col">{t('field.webhook')}</th><th scope="col">{t('field.event_type')}</th>
                <th scope="col">{t('field.application')}</th><th scope="col">{t('field.status')}</th><th scope="col">{t('field.attempts')}</th>
                <th scope="col">{t('field.last_result')}</th><th scope="col">{t('field.next_attempt')}</th>
              </tr></thead>
              <tbody>
                {list.items.map((d) => (
                  <tr key={d.id} data-delivery={d.id}>
                    <td data-label={t('delivery.created')}><a href={`/deliveries/${encodeURIComponent(d.id)}`}><When at={d.created_at} /></a></td>
                    <td data-label={t('field.webhook')}>{titles.get(d.webhook_id) ?? <code>{d.webhook_id}</code>}</td>
                    <td data-label={t('field.event_type')}><code>{d.event_type}</code></td>
                    <td data-label={t('field.application')} class="break">{d.application_id ? <a href={`/applications/${encodeURIComponent(d.application_id)}`}><code>{d.application_id.slice(0, 8)}…</code></a> : '—'}</td>
                    <td data-label={t('field.status')}><DeliveryChip status={d.status} /></td>
                    <td data-label={t('field.attempts')} class="num">{d.attempts}</td>
                    <td data-label={t('field.last_result')}>{d.last_status_code !== null ? `HTTP ${d.last_status_code}` : d.last_error ? <ErrorText text={d.last_error} /> : '—'}</td>
                    <td data-label={t('field.next_attempt')}>{d.next_attempt_at && (d.status === 'pending' || d.status === 'sending') ? <When at={d.next_attempt_at} /> : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      <ProblemBox problem={list.moreProblem} />
      <LoadMore cursor={list.next} loading={list.loadingMore} onClick={list.loadMore} />
      <Section id="recover" title={t('recover.title')}>
        {hooks.data && hooks.data.items.length > 0
          ? <RecoverForm webhooks={hooks.data.items} webhookId={filters.webhook_id || undefined} onDone={list.reload} />
          : <Empty>{t('webhooks.empty')}</Empty>}
      </Section>
    </div>
  );
}

type FilterValues = Record<'webhook_id' | 'status' | 'application_id' | 'since' | 'until', string>;

function Filters({ initial, webhooks, problem }: { initial: FilterValues; webhooks: Webhook[]; problem: unknown }) {
  const shown = (iso: string) => (iso ? formatDateInput(iso) : '');
  const [f, setF] = useState({ ...initial, since: shown(initial.since), until: shown(initial.until) });
  const [local, setLocal] = useState<unknown>(null);
  const set = (k: keyof FilterValues, v: string) => setF({ ...f, [k]: v });
  const apply = (e: Event) => {
    e.preventDefault();
    const since = f.since.trim() ? parseDateInput(f.since) : '';
    const until = f.until.trim() ? parseDateInput(f.until) : '';
    if (since === null || until === null) {
      setLocal(new ApiProblem(400, '', t('date.invalid', { pattern: dateInputPattern() }), since === null ? 'since' : 'until'));
      return;
    }
    setLocal(null);
    navigate(`/deliveries${qs({ ...f, application_id: f.application_id.trim(), since, until })}`);
  };
  const clear = () => {
    setF({ webhook_id: '', status: '', application_id: '', since: '', until: '' });
    setLocal(null);
    navigate('/deliveries');
  };
  const p = local ?? problem;
  const active = Object.values(initial).filter(Boolean).length;
  return (
    <FilterPanel active={active} onSubmit={apply}>
      <Field id="f-webhook" label={t('field.webhook')} name="webhook_id" problem={p}>
        <select {...fieldAttrs('f-webhook', p, 'webhook_id')} value={f.webhook_id} onChange={(e) => set('webhook_id', e.currentTarget.value)}>
          <option value="">{t('filters.any')}</option>
          {webhooks.map((w) => <option key={w.id} value={w.id}>{w.title}</option>)}
        </select>
      </Field>
      <Field id="f-status" label={t('deliveries.statusFilter')} name="status" problem={p}>
        <select {...fieldAttrs('f-status', p, 'status')} value={f.status} onChange={(e) => set('status', e.currentTarget.value)}>
          <option value="">{t('filters.any')}</option>
          {STATUSES.map((s) => <option key={s} value={s}>{t(`delivery.status.${s}`)}</option>)}
        </select>
      </Field>
      <Field id="f-app" label={t('deliveries.applicationFilter')} name="application_id" problem={p} hint={t('deliveries.applicationHint')}>
        <input {...fieldAttrs('f-app', p, 'application_id', true)} spellcheck={false} value={f.application_id} onInput={(e) => set('application_id', e.currentTarget.value)} />
      </Field>
      <DateField id="f-since" label={t('filters.since')} name="since" problem={p} value={f.since} onInput={(v) => set('since', v)} />
      <DateField id="f-until" label={t('filters.until')} name="until" problem={p} value={f.until} onInput={(v) => set('until', v)} />
      <div class="filter-actions">
        <button type="submit">{t('filters.apply')}</button>
        <button type="button" class="secondary" onClick={clear}>{t('filters.clear')}</button>
      </div>
    </FilterPanel>
  );
}
