/**
 * The tenant's event log with filters and a JSON viewer. Oldest first, as the API lists it: it
 * has no order parameter yet (newest first needs `order=desc` on GET /api/events).
 */
import { useState } from 'preact/hooks';
import { ApiProblem, qs } from '../api.js';
import { usePaged } from '../hooks.js';
import { dateInputPattern, formatDateInput, parseDateInput, t } from '../i18n/index.js';
import { navigate, useLocation } from '../router.js';
import type { EventRecord } from '../types.js';
import { DateField, Empty, Field, fieldAttrs, FilterPanel, FormProblem, JsonView, Loading, LoadMore, ProblemBox, When } from '../ui/common.js';

export function Events() {
  const { query } = useLocation();
  const filters = { type: query.get('type') ?? '', subject: query.get('subject') ?? '', since: query.get('since') ?? '' };
  const list = usePaged<EventRecord>(`/api/events${qs({ limit: 50, ...filters })}`);
  const [f, setF] = useState({ type: filters.type, subject: filters.subject, since: filters.since ? formatDateInput(filters.since) : '' });
  const [open, setOpen] = useState<string | null>(null);
  const [local, setLocal] = useState<unknown>(null);

  const apply = (e: Event) => {
    e.preventDefault();
    const since = f.since.trim() ? parseDateInput(f.since) : '';
    if (since === null) {
      setLocal(new ApiProblem(400, '', t('date.invalid', { pattern: dateInputPattern() }), 'since'));
      return;
    }
    setLocal(null);
    navigate(`/events${qs({ type: f.type.trim(), subject: f.subject.trim(), since })}`);
  };
  const p = local ?? list.error;
  return (
    <div class="page">
      <h1>{t('events.title')}</h1>
      <p class="muted small">{t('events.order')}</p>
      <FilterPanel active={Object.values(filters).filter(Boolean).length} onSubmit={apply}>
        <Field id="ev-type" label={t('field.event_type')} name="type" problem={p} hint={t('events.typeHint')}>
          <input {...fieldAttrs('ev-type', p, 'type', true)} spellcheck={false} list="ev-types" value={f.type} onInput={(e) => setF({ ...f, type: e.currentTarget.value })} />
          <datalist id="ev-types">
            {['application.*', 'application.status_changed', 'application.created', 'message.created', 'service.*', 'webhook.*', 'ingest.rejected', 'ingest.*'].map((x) => <option key={x} value={x} />)}
          </datalist>
        </Field>
        <Field id="ev-subject" label={t('field.subject')} name="subject" problem={p}>
          <input {...fieldAttrs('ev-subject', p, 'subject')} spellcheck={false} value={f.subject} onInput={(e) => setF({ ...f, subject: e.currentTarget.value })} />
        </Field>
        <DateField id="ev-since" label={t('filters.since')} name="since" problem={p} value={f.since} onInput={(v) => setF({ ...f, since: v })} />
        <div class="filter-actions">
          <button type="submit">{t('filters.apply')}</button>
          <button type="button" class="secondary" onClick={() => { setF({ type: '', subject: '', since: '' }); setLocal(null); navigate('/events'); }}>{t('filters.clear')}</button>
        </div>
      </FilterPanel>
      {list.error ? <FormProblem problem={list.error} fields={['type', 'subject', 'since']} />
        : !list.items ? <Loading />
        : list.items.length === 0 ? <Empty>{t('events.empty')}</Empty>
        : (
          <ul class="event-list">
            {list.items.map((e) => (
              <li key={e.event_id} class="card event">
                <button type="button" class="event-head" aria-expanded={open === e.event_id} aria-controls={`ev-${e.seq}`} onClick={() => setOpen(open === e.event_id ? null : e.event_id)}>
                  <span class="muted">#{e.seq}</span> <code>{e.type}</code>
                  <span class="grow" />
                  <When at={e.event_created_at} />
                </button>
                <div class="event-meta small muted">
                  {e.subject && <span>{t('field.subject')}: <a href={e.type.startsWith('application.') || e.type.startsWith('message.') ? `/applications/${encodeURIComponent(e.subject)}` : `/events?subject=${encodeURIComponent(e.subject)}`}><code>{e.subject}</code></a></span>}
                  <span>{t('field.app_id')}: <code>{e.app_id}</code></span>
                  <span>v{e.event_version}</span>
                </div>
                {e.type === 'ingest.rejected' && typeof e.data.reason === 'string' && (
                  <p class="small rejected-reason"><strong>{t('events.rejectedReason')}:</strong> <span lang="en">{e.data.reason}</span></p>
                )}
                {open === e.event_id && (
                  <div id={`ev-${e.seq}`} class="event-body">
                    <p class="small muted">{t('field.event_id')}: <code class="break">{e.event_id}</code></p>
                    <JsonView value={e.data} openDepth={2} />
                  </div>
                )}
              </li>
            ))}
          </ul>
        )}
      <ProblemBox problem={list.moreProblem} />
      <LoadMore cursor={list.next} loading={list.loadingMore} onClick={list.loadMore} />
    </div>
  );
}
