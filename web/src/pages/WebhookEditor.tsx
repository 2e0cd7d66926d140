/**
 * Create or edit a webhook: the OpenCity fields (title, endpoint, method, trigger, service
 * filter, headers, version, active) and messo's own (event types, format, ordering, limits).
 * A problem the API reports for a field is shown under that field. `/webhooks/new?bin=<id>`
 * starts from one of the tenant's inspector bins: its URL as the endpoint.
 */
import { useEffect, useState } from 'preact/hooks';
import { call, type Page } from '../api.js';
import { useApi } from '../hooks.js';
import { t, tMaybe } from '../i18n/index.js';
import { keepSecretFor } from '../oneshot.js';
import { navigate, useLocation } from '../router.js';
import { EVENT_TYPES, STATUS_CODES, type Bin, type Service, type Webhook } from '../types.js';
import { Field, fieldAttrs, FormProblem, GroupError, Loading, ProblemBox, statusLabel } from '../ui/common.js';

interface HeaderRow {
  name: string;
  value: string;
}

interface Form {
  title: string;
  description: string;
  endpoint: string;
  method: 'POST' | 'PUT';
  mode: 'trigger' | 'events';
  trigger: string;
  events: string[];
  customEvents: string;
  filtersAll: boolean;
  filters: string[];
  headers: HeaderRow[];
  version: Webhook['version'];
  active: boolean;
  followRedirects: boolean;
  format: Webhook['format'];
  ordering: Webhook['ordering'];
  maxConcurrency: string;
  rateLimit: string;
}

const EMPTY: Form = {
  title: '', description: '', endpoint: '', method: 'POST', mode: 'trigger', trigger: 'all', events: [], customEvents: '',
  filtersAll: true, filters: [], headers: [], version: '2.0', active: true, followRedirects: false, format: 'opencity', ordering: 'none', maxConcurrency: '', rateLimit: '',
};

function formOf(w: Webhook): Form {
  return {
    title: w.title, description: w.description ?? '', endpoint: w.endpoint, method: w.method,
    mode: w.events.length > 0 ? 'events' : 'trigger', trigger: w.trigger ?? 'all',
    events: w.events.filter((e) => EVENT_TYPES.includes(e)), customEvents: w.events.filter((e) => !EVENT_TYPES.includes(e)).join(', '),
    filtersAll: w.filters === 'all', filters: w.filters === 'all' ? [] : w.filters,
    headers: Object.entries(w.headers).map(([name, value]) => ({ name, value })),
    version: w.version, active: w.active, followRedirects: w.follow_redirects, format: w.format, ordering: w.ordering,
    maxConcurrency: w.max_concurrency === null ? '' : String(w.max_concurrency), rateLimit: w.rate_limit === null ? '' : String(w.rate_limit),
  };
}

function bodyOf(f: Form) {
  const custom = f.customEvents.split(',').map((s) => s.trim()).filter(Boolean);
  return {
    title: f.title.trim(), description: f.description.trim() || null, endpoint: f.endpoint.trim(), method: f.method,
    trigger: f.mode === 'trigger' ? (/^\d+$/.test(f.trigger) ? Number(f.trigger) : f.trigger) : null,
    events: f.mode === 'events' ? [...f.events, ...custom] : [],
    filters: f.filtersAll ? 'all' : f.filters,
    headers: Object.fromEntries(f.headers.filter((h) => h.name.trim() !== '').map((h) => [h.name.trim(), h.value])),
    version: f.version, active: f.active, follow_redirects: f.followRedirects, format: f.format, ordering: f.ordering,
    max_concurrency: f.maxConcurrency === '' ? null : Number(f.maxConcurrency),
    rate_limit: f.rateLimit === '' ? null : Number(f.rateLimit),
  };
}

const FIELDS = ['title', 'description', 'endpoint', 'method', 'trigger', 'events', 'filters', 'headers', 'version', 'active', 'format', 'ordering', 'max_concurrency', 'rate_limit', 'follow_redirects'];

export function WebhookEditor({ id }: { id: string | null }) {
  const { query } = useLocation();
  const fromBin = id ? null : query.get('bin');
  const existing = useApi<Webhook>(id ? `/api/webhooks/${encodeURIComponent(id)}` : null);
  const bin = useApi<Bin>(fromBin ? `/api/inspector/bins/${encodeURIComponent(fromBin)}` : null);
  const services = useApi<Page<Service>>('/api/services?limit=500');
  const [form, setForm] = useState<Form | null>(id || fromBin ? null : EMPTY);
  const [problem, setProblem] = useState<unknown>(null);
  const [pending, setPending] = useState(false);

  useEffect(() => {
    if (existing.data && !form) setForm(formOf(existing.data));
  }, [existing.data]);
  // Filled in once per bin (the editor may already be open when the link is followed).
  const [filledFor, setFilledFor] = useState<string | null>(null);
  useEffect(() => {
    if (bin.data && filledFor !== bin.data.id) {
      setForm({ ...EMPTY, title: t('webhook.fromBinTitle', { name: bin.data.name || t('bin.untitled') }), endpoint: bin.data.url });
      setFilledFor(bin.data.id);
    }
    // A bin that is gone (expired, deleted) leaves an empty form and says why.
    if (bin.error && !form) setForm(EMPTY);
  }, [bin.data, bin.error]);

  const heading = id ? t('webhook.edit') : t('webhooks.new');
  if (id && existing.error) return <div class="page"><h1>{heading}</h1><ProblemBox problem={existing.error} onRetry={existing.reload} /></div>;
  if (!form) return <div class="page"><h1>{heading}</h1><Loading /></div>;

  const set = <K extends keyof Form>(k: K, v: Form[K]) => setForm({ ...form, [k]: v });
  const toggle = (list: string[], v: string) => (list.includes(v) ? list.filter((x) => x !== v) : [...list, v]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setPending(true);
    setProblem(null);
    try {
      const body = bodyOf(form);
      if (id) {
        await call<Webhook>(`/api/webhooks/${encodeURIComponent(id)}`, { method: 'PATCH', body });
        navigate(`/webhooks/${encodeURIComponent(id)}`);
      } else {
        const w = await call<Webhook>('/api/webhooks', { method: 'POST', body });
        if (w.secret) keepSecretFor(w.id, w.secret);
        navigate(`/webhooks/${encodeURIComponent(w.id)}`);
      }
    } catch (err) {
      setProblem(err);
      // Bring the first message into view: at 360 px the field may be far above the button.
      requestAnimationFrame(() => document.querySelector<HTMLElement>('.field-error, .problem')?.scrollIntoView({ block: 'center' }));
    } finally {
      setPending(false);
    }
  };

  const a = (fid: string, name: string, hint = false) => fieldAttrs(fid, problem, name, hint);
  return (
    <div class="page">
      <h1>{heading}</h1>
      {bin.data && <p class="notice" role="status">{t('webhook.fromBin', { name: bin.data.name || t('bin.untitled') })}</p>}
      <ProblemBox problem={bin.error} />
      <form class="card form" onSubmit={submit} noValidate>
        <FormProblem problem={problem} fields={FIELDS} />
        <fieldset>
          <legend>{t('webhook.section.basics')}</legend>
          <Field id="wh-title" label={t('field.title')} name="title" problem={problem}>
            <input {...a('wh-title', 'title')} required maxLength={200} value={form.title} onInput={(e) => set('title', e.currentTarget.value)} />
          </Field>
          <Field id="wh-description" label={t('field.description')} name="description" problem={problem}>
            <textarea {...a('wh-description', 'description')} rows={2} maxLength={2000} value={form.description} onInput={(e) => set('description', e.currentTarget.value)} />
          </Field>
          <div class="row">
            <Field id="wh-method" label={t('field.method')} name="method" problem={problem} class="narrow">
              <select {...a('wh-method', 'method')} value={form.method} onChange={(e) => set('method', e.currentTarget.value as Form['method'])}>
                <option value="POST">POST</option><option value="PUT">PUT</option>
              </select>
            </Field>
            <Field id="wh-endpoint" label={t('field.endpoint')} name="endpoint" problem={problem} hint={t('webhook.endpointHint')} class="grow">
              <input {...a('wh-endpoint', 'endpoint', true)} type="url" inputMode="url" required spellcheck={false} value={form.endpoint} onInput={(e) => set('endpoint', e.currentTarget.value)} />
            </Field>
          </div>
          <div class="check">
            <input id="wh-active" type="checkbox" checked={form.active} onChange={(e) => set('active', e.currentTarget.checked)} />
            <label for="wh-active">{t('field.active')}</label>
          </div>
          <div class="check">
            <input id="wh-follow" type="checkbox" aria-describedby="wh-follow-hint" checked={form.followRedirects} onChange={(e) => set('followRedirects', e.currentTarget.checked)} />
            <label for="wh-follow">{t('field.follow_redirects')}</label>
            <small id="wh-follow-hint" class="hint">{t('webhook.followHint')}</small>
          </div>
        </fieldset>

        <fieldset>
          <legend>{t('webhook.section.when')}</legend>
          <div class="radios" role="radiogroup" aria-label={t('webhook.mode')}>
            <label><input type="radio" name="wh-mode" checked={form.mode === 'trigger'} onChange={() => set('mode', 'trigger')} /> {t('webhook.mode.trigger')}</label>
            <label><input type="radio" name="wh-mode" checked={form.mode === 'events'} onChange={() => set('mode', 'events')} /> {t('webhook.mode.events')}</label>
          </div>
          {form.mode === 'trigger' ? (
            <Field id="wh-trigger" label={t('field.trigger')} name="trigger" problem={problem} hint={t('webhook.triggerHint')}>
              <select {...a('wh-trigger', 'trigger', true)} value={form.trigger} onChange={(e) => set('trigger', e.currentTarget.value)}>
                <option value="all">{t('trigger.all')}</option>
                <option value="message_created">{t('trigger.message_created')}</option>
                {STATUS_CODES.map((c) => <option key={c} value={String(c)}>{c} · {statusLabel(c)}</option>)}
              </select>
            </Field>
          ) : (
            <div class="field">
              <fieldset class="checks" aria-describedby="wh-events-hint">
                <legend>{t('field.events')}</legend>
                {EVENT_TYPES.map((ev) => (
                  <label key={ev}><input type="checkbox" checked={form.events.includes(ev)} onChange={() => set('events', toggle(form.events, ev))} /> <code>{ev}</code></label>
                ))}
              </fieldset>
              <label for="wh-custom-events">{t('webhook.customEvents')}</label>
              <input id="wh-custom-events" spellcheck={false} placeholder="application.*, meeting.*" value={form.customEvents} onInput={(e) => set('customEvents', e.currentTarget.value)} />
              <small id="wh-events-hint" class="hint">{t('webhook.eventsHint')}</small>
              <GroupError problem={problem} name="events" />
              <GroupError problem={problem} name="trigger" />
            </div>
          )}
          <div class="field">
            <fieldset class="checks">
              <legend>{t('field.filters')}</legend>
              <label><input type="checkbox" checked={form.filtersAll} onChange={(e) => set('filtersAll', e.currentTarget.checked)} /> {t('webhook.allServices')}</label>
              {!form.filtersAll && (services.error ? <ProblemBox problem={services.error} />
                : !services.data ? <Loading />
                : services.data.items.length === 0 ? <p class="muted">{t('services.empty')}</p>
                : services.data.items.map((s) => (
                  <label key={s.id}><input type="checkbox" checked={form.filters.includes(s.id)} onChange={() => set('filters', toggle(form.filters, s.id))} /> {s.name} <span class="muted small">({s.slug})</span></label>
                )))}
            </fieldset>
            <GroupError problem={problem} name="filters" />
          </div>
        </fieldset>

        <fieldset>
          <legend>{t('webhook.section.payload')}</legend>
          <div class="row">
            <Field id="wh-format" label={t('field.format')} name="format" problem={problem} hint={t(`format.${form.format}.hint`)}>
              <select {...a('wh-format', 'format', true)} value={form.format} onChange={(e) => set('format', e.currentTarget.value as Form['format'])}>
                {(['opencity', 'standard', 'cloudevents', 'cloudevents-binary'] as const).map((f) => <option key={f} value={f}>{tMaybe(`format.${f}`, f)}</option>)}
              </select>
            </Field>
            <Field id="wh-version" label={t('field.version')} name="version" problem={problem} hint={t('webhook.versionHint')}>
              <select {...a('wh-version', 'version', true)} value={form.version} onChange={(e) => set('version', e.currentTarget.value as Form['version'])}>
                <option value="1.0">1.0</option><option value="2.0">2.0</option>
              </select>
            </Field>
          </div>
          <div class="field">
            <fieldset class="headers-edit">
              <legend>{t('field.headers')}</legend>
              <p class="hint">{t('webhook.headersHint')}</p>
              {form.headers.map((h, i) => (
                <div class="header-row" key={i}>
                  <label class="visually-hidden" for={`wh-h-name-${i}`}>{t('header.name')} {i + 1}</label>
                  <input id={`wh-h-name-${i}`} placeholder={t('header.name')} spellcheck={false} value={h.name}
                    aria-invalid={problem && GroupErrorHit(problem, `headers.${h.name.trim()}`) ? 'true' : undefined}
                    onInput={(e) => set('headers', form.headers.map((x, j) => (j === i ? { ...x, name: e.currentTarget.value } : x)))} />
                  <label class="visually-hidden" for={`wh-h-value-${i}`}>{t('header.value')} {i + 1}</label>
                  <input id={`wh-h-value-${i}`} placeholder={t('header.value')} spellcheck={false} value={h.value}
                    onInput={(e) => set('headers', form.headers.map((x, j) => (j === i ? { ...x, value: e.currentTarget.value } : x)))} />
                  <button type="button" class="secondary small" aria-label={t('header.remove', { n: i + 1 })} onClick={() => set('headers', form.headers.filter((_, j) => j !== i))}>✕</button>
                </div>
              ))}
              <button type="button" class="secondary small" onClick={() => set('headers', [...form.headers, { name: '', value: '' }])}>{t('header.add')}</button>
            </fieldset>
            <GroupError problem={problem} name="headers" />
          </div>
        </fieldset>

        <fieldset>
          <legend>{t('webhook.section.delivery')}</legend>
          <Field id="wh-ordering" label={t('field.ordering')} name="ordering" problem={problem} hint={t('webhook.orderingHint')}>
            <select {...a('wh-ordering', 'ordering', true)} value={form.ordering} onChange={(e) => set('ordering', e.currentTarget.value as Form['ordering'])}>
              <option value="none">{t('ordering.none')}</option>
              <option value="per_application">{t('ordering.per_application')}</option>
            </select>
          </Field>
          <div class="row">
            <Field id="wh-concurrency" label={t('field.max_concurrency')} name="max_concurrency" problem={problem} hint={t('webhook.concurrencyHint')}>
              <input {...a('wh-concurrency', 'max_concurrency', true)} type="number" min={1} max={1000} step={1} inputMode="numeric" value={form.maxConcurrency} onInput={(e) => set('maxConcurrency', e.currentTarget.value)} />
            </Field>
            <Field id="wh-rate" label={t('field.rate_limit')} name="rate_limit" problem={problem} hint={t('webhook.rateHint')}>
              <input {...a('wh-rate', 'rate_limit', true)} type="number" min={0} step="any" inputMode="decimal" value={form.rateLimit} onInput={(e) => set('rateLimit', e.currentTarget.value)} />
            </Field>
          </div>
        </fieldset>

        <div class="form-actions">
          <button type="submit" disabled={pending}>{pending ? t('state.saving') : id ? t('action.save') : t('action.create')}</button>
          <a class="button secondary" href={id ? `/webhooks/${encodeURIComponent(id)}` : '/webhooks'}>{t('action.cancel')}</a>
        </div>
      </form>
    </div>
  );
}

function GroupErrorHit(problem: unknown, field: string): boolean {
  const p = problem as { field?: string | null; errors?: { field: string }[] };
  return p.field === field || (p.errors ?? []).some((e) => e.field === field);
}
