/**
 * Deliveries, newest first, filtered by webhook, status, pratica and time (the filters live in
 * the URL, so a filtered view can be shared). The first page refreshes itself while shown.
 */
import { useState } from 'preact/hooks';
import { qs, type Page } from '../api.js';
import { useApi, usePaged } from '../hooks.js';
import { isoToRomeInput, romeInputToIso, t } from '../i18n/index.js';
import { navigate, useLocation } from '../router.js';
import type { Delivery, Webhook } from '../types.js';
import { DeliveryChip, Empty, Field, fieldAttrs, FormProblem, Loading, LoadMore, ProblemBox, Section, When } from '../ui/common.js';
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
                <th scope="col">{t('field.created_at')}</th><th scope="col">{t('field.webhook')}</th><th scope="col">{t('field.event_type')}</th>
                <th scope="col">{t('field.application')}</th><th scope="col">{t('field.state')}</th><th scope="col">{t('field.attempts')}</th>
                <th scope="col">{t('field.last_result')}</th><th scope="col">{t('field.next_attempt')}</th>
              </tr></thead>
              <tbody>
                {list.items.map((d) => (
                  <tr key={d.id} data-delivery={d.id}>
                    <td data-label={t('field.created_at')}><a href={`/deliveries/${encodeURIComponent(d.id)}`}><When at={d.created_at} /></a></td>
                    <td data-label={t('field.webhook')}>{titles.get(d.webhook_id) ?? <code>{d.webhook_id}</code>}</td>
                    <td data-label={t('field.event_type')}><code>{d.event_type}</code></td>
                    <td data-label={t('field.application')} class="break">{d.application_id ? <a href={`/applications/${encodeURIComponent(d.application_id)}`}><code>{d.application_id.slice(0, 8)}…</code></a> : '—'}</td>
                    <td data-label={t('field.state')}><DeliveryChip status={d.status} /></td>
                    <td data-label={t('field.attempts')} class="num">{d.attempts}</td>
                    <td data-label={t('field.last_result')}>{d.last_status_code !== null ? `HTTP ${d.last_status_code}` : d.last_error ?? '—'}</td>
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
  const [f, setF] = useState({ ...initial, since: initial.since ? isoToRomeInput(Date.parse(initial.since)) : '', until: initial.until ? isoToRomeInput(Date.parse(initial.until)) : '' });
  const set = (k: keyof FilterValues, v: string) => setF({ ...f, [k]: v });
  const apply = (e: Event) => {
    e.preventDefault();
    navigate(`/deliveries${qs({ ...f, since: f.since ? romeInputToIso(f.since) : '', until: f.until ? romeInputToIso(f.until) : '' })}`);
  };
  const clear = () => {
    setF({ webhook_id: '', status: '', application_id: '', since: '', until: '' });
    navigate('/deliveries');
  };
  return (
    <form class="filters card" onSubmit={apply} aria-label={t('filters.label')}>
      <Field id="f-webhook" label={t('field.webhook')} name="webhook_id" problem={problem}>
        <select {...fieldAttrs('f-webhook', problem, 'webhook_id')} value={f.webhook_id} onChange={(e) => set('webhook_id', e.currentTarget.value)}>
          <option value="">{t('filters.any')}</option>
          {webhooks.map((w) => <option key={w.id} value={w.id}>{w.title}</option>)}
        </select>
      </Field>
      <Field id="f-status" label={t('field.state')} name="status" problem={problem}>
        <select {...fieldAttrs('f-status', problem, 'status')} value={f.status} onChange={(e) => set('status', e.currentTarget.value)}>
          <option value="">{t('filters.any')}</option>
          {STATUSES.map((s) => <option key={s} value={s}>{t(`delivery.status.${s}`)}</option>)}
        </select>
      </Field>
      <Field id="f-app" label={t('field.application')} name="application_id" problem={problem}>
        <input {...fieldAttrs('f-app', problem, 'application_id')} spellcheck={false} value={f.application_id} onInput={(e) => set('application_id', e.currentTarget.value)} />
      </Field>
      <Field id="f-since" label={t('filters.since')} name="since" problem={problem}>
        <input {...fieldAttrs('f-since', problem, 'since')} type="datetime-local" value={f.since} onInput={(e) => set('since', e.currentTarget.value)} />
      </Field>
      <Field id="f-until" label={t('filters.until')} name="until" problem={problem}>
        <input {...fieldAttrs('f-until', problem, 'until')} type="datetime-local" value={f.until} onInput={(e) => set('until', e.currentTarget.value)} />
      </Field>
      <div class="filter-actions">
        <button type="submit">{t('filters.apply')}</button>
        <button type="button" class="secondary" onClick={clear}>{t('filters.clear')}</button>
      </div>
    </form>
  );
}
