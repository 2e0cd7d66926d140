/**
 * Deliveries, newest first (a toggle turns it), searched by what the operator knows (applicant,
 * codice fiscale, subject, protocol number, delivery id) and filtered by webhook, status,
 * pratica and time; all of it lives in the URL, so a view can be shared. Rows show the pratica's
 * subject and applicant, and can be selected for bulk actions. The first page refreshes itself.
 */
import { useState } from 'preact/hooks';
import { ApiProblem, qs, type Page } from '../api.js';
import { useApi, usePaged } from '../hooks.js';
import { dateInputPattern, formatDateInput, parseDateInput, t } from '../i18n/index.js';
import { navigate, useLocation } from '../router.js';
import type { Delivery, Webhook } from '../types.js';
import { DateField, DeliveryChip, Empty, ErrorText, Field, fieldAttrs, FilterPanel, Section, When } from '../ui/common.js';
import { RecoverForm } from './RecoverForm.js';
import { BulkActions } from './BulkActions.js';
import { go, orderOf, OrderToggle, PagedTable, SearchBox } from '../ui/list.js';

const STATUSES = ['pending', 'sending', 'succeeded', 'failed', 'cancelled'] as const;
const REFRESH_MS = 2_000;

export function Deliveries() {
  const { query } = useLocation();
  const filters = {
    webhook_id: query.get('webhook_id') ?? '', status: query.get('status') ?? '', application_id: query.get('application_id') ?? '',
    since: query.get('since') ?? '', until: query.get('until') ?? '',
  };
  const q = query.get('q') ?? '';
  const order = orderOf(query.get('order'));
  const here = { ...filters, q, order: order === 'desc' ? '' : order };
  const [live, setLive] = useState(true);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const list = usePaged<Delivery>(`/api/deliveries${qs({ limit: 50, ...filters, q, order })}`, { refreshMs: live ? REFRESH_MS : null });
  const toggle = (id: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(id); else next.delete(id);
    setSelected(next);
  };
  const pageIds = (list.items ?? []).map((d) => d.id);
  const allOn = pageIds.length > 0 && pageIds.every((id) => selected.has(id));
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
      <SearchBox id="dl-q" value={q} hint={t('search.hintDeliveries')} problem={list.error} onSearch={(v) => go('/deliveries', here, { q: v })} />
      <Filters initial={filters} extra={{ q, order: here.order }} webhooks={hooks.data?.items ?? []} problem={list.error} />
      <div class="list-tools">
        <OrderToggle order={order} onChange={(o) => go('/deliveries', here, { order: o === 'desc' ? '' : o })} />
      </div>
      <BulkActions selected={[...selected]} filter={{ ...filters, q }} onDone={() => { setSelected(new Set()); list.reload(); }} />
      <PagedTable list={list} empty={t('deliveries.empty')} live fields={['q', 'webhook_id', 'status', 'application_id', 'since', 'until']}
        head={<>
                <th scope="col"><input type="checkbox" aria-label={t('bulk.selectAll')} checked={allOn}
                  onChange={(e) => setSelected(e.currentTarget.checked ? new Set([...selected, ...pageIds]) : new Set([...selected].filter((id) => !pageIds.includes(id))))} /></th>
                <th scope="col">{t('delivery.created')}</th><th scope="col">{t('field.webhook')}</th><th scope="col">{t('field.event_type')}</th>
                <th scope="col">{t('field.application')}</th><th scope="col">{t('field.status')}</th><th scope="col">{t('field.attempts')}</th>
                <th scope="col">{t('field.last_result')}</th><th scope="col">{t('field.next_attempt')}</th>
        </>}
        row={(d) => (
                  <tr key={d.id} data-delivery={d.id}>
                    <td><input type="checkbox" aria-label={`${t('bulk.select')} ${d.id}`} checked={selected.has(d.id)} onChange={(e) => toggle(d.id, e.currentTarget.checked)} /></td>
                    <td data-label={t('delivery.created')}><a href={`/deliveries/${encodeURIComponent(d.id)}`}><When at={d.created_at} /></a></td>
                    <td data-label={t('field.webhook')}>{titles.get(d.webhook_id) ?? <code>{d.webhook_id}</code>}</td>
                    <td data-label={t('field.event_type')}><code>{d.event_type}</code></td>
                    <td data-label={t('field.application')} class="break">{d.application_id ? (
                      <a href={`/applications/${encodeURIComponent(d.application_id)}`}>
                        {d.application?.subject || <code>{d.application_id.slice(0, 8)}…</code>}
                        {d.application?.applicant && <span class="row-sub muted">{d.application.applicant}</span>}
                      </a>
                    ) : '—'}</td>
                    <td data-label={t('field.status')}><DeliveryChip status={d.status} /></td>
                    <td data-label={t('field.attempts')} class="num">{d.attempt_offset + d.attempts}</td>
                    <td data-label={t('field.last_result')}>{d.last_status_code !== null ? `HTTP ${d.last_status_code}` : d.last_error ? <ErrorText text={d.last_error} /> : '—'}</td>
                    <td data-label={t('field.next_attempt')}>{d.next_attempt_at && (d.status === 'pending' || d.status === 'sending') ? <When at={d.next_attempt_at} /> : '—'}</td>
                  </tr>
        )} />
      <Section id="recover" title={t('recover.title')}>
        {hooks.data && hooks.data.items.length > 0
          ? <RecoverForm webhooks={hooks.data.items} webhookId={filters.webhook_id || undefined} onDone={list.reload} />
          : <Empty>{t('webhooks.empty')}</Empty>}
      </Section>
    </div>
  );
}

type FilterValues = Record<'webhook_id' | 'status' | 'application_id' | 'since' | 'until', string>;

function Filters({ initial, extra, webhooks, problem }: { initial: FilterValues; extra: Record<string, string>; webhooks: Webhook[]; problem: unknown }) {
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
    navigate(`/deliveries${qs({ ...extra, ...f, application_id: f.application_id.trim(), since, until })}`);
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
