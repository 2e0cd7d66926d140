/**
 * Pratiche: searched by what the operator knows (applicant, codice fiscale, subject, protocol
 * number, short id), filtered, newest change first (a toggle turns it), with status chips; and a
 * form to open a new one. Search, filters and order live in the URL.
 */
import { useState } from 'preact/hooks';
import { call, qs, type Page } from '../api.js';
import { useAction, useApi, usePaged } from '../hooks.js';
import { t } from '../i18n/index.js';
import { navigate, useLocation } from '../router.js';
import { go, orderOf, OrderToggle, PagedTable, SearchBox } from '../ui/list.js';
import { STATUS_CODES, type Application, type Service } from '../types.js';
import { Empty, Field, fieldAttrs, FilterPanel, FormProblem, Loading, ProblemBox, Section, statusLabel, StatusChip, When } from '../ui/common.js';

export function Applications() {
  const { query } = useLocation();
  const filters = { status: query.get('status') ?? '', service_id: query.get('service_id') ?? '' };
  const q = query.get('q') ?? '';
  const order = orderOf(query.get('order'));
  const here = { ...filters, q, order: order === 'desc' ? '' : order };
  const list = usePaged<Application>(`/api/applications${qs({ limit: 50, ...filters, q, order })}`, { refreshMs: 10_000 });
  const services = useApi<Page<Service>>('/api/services?limit=500');
  const names = new Map((services.data?.items ?? []).map((s) => [s.id, s.name]));
  const setFilter = (k: 'status' | 'service_id', v: string) => go('/applications', here, { [k]: v });

  return (
    <div class="page">
      <h1>{t('applications.title')}</h1>
      <SearchBox id="ap-q" value={q} hint={t('search.hintApplications')} problem={list.error} onSearch={(v) => go('/applications', here, { q: v })} />
      <FilterPanel active={Object.values(filters).filter(Boolean).length} onSubmit={(e) => e.preventDefault()}>
        <Field id="ap-status" label={t('field.status')} name="status" problem={list.error}>
          <select {...fieldAttrs('ap-status', list.error, 'status')} value={filters.status} onChange={(e) => setFilter('status', e.currentTarget.value)}>
            <option value="">{t('filters.any')}</option>
            {STATUS_CODES.map((c) => <option key={c} value={String(c)}>{c} · {statusLabel(c)}</option>)}
          </select>
        </Field>
        <Field id="ap-service" label={t('field.service')} name="service_id" problem={list.error}>
          <select {...fieldAttrs('ap-service', list.error, 'service_id')} value={filters.service_id} onChange={(e) => setFilter('service_id', e.currentTarget.value)}>
            <option value="">{t('filters.any')}</option>
            {(services.data?.items ?? []).map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
          </select>
        </Field>
      </FilterPanel>
      <div class="list-tools">
        <OrderToggle order={order} onChange={(o) => go('/applications', here, { order: o === 'desc' ? '' : o })} />
      </div>
      <PagedTable list={list} empty={t('applications.empty')} fields={['q', 'status', 'service_id', 'order']}
        head={<><th scope="col">{t('field.subject')}</th><th scope="col">{t('field.service')}</th><th scope="col">{t('field.status')}</th><th scope="col">{t('field.applicant')}</th><th scope="col">{t('applications.changed')}</th></>}
        row={(a) => (
          <tr key={a.id} data-application={a.id}>
            <td data-label={t('field.subject')}><a href={`/applications/${encodeURIComponent(a.id)}`}>{a.subject || t('application.title')} <code class="muted">{a.id.slice(0, 8)}</code></a></td>
            <td data-label={t('field.service')}>{a.service_name ?? names.get(a.service_id) ?? a.service_id}</td>
            <td data-label={t('field.status')}><StatusChip code={Number(a.status)} /></td>
            <td data-label={t('field.applicant')}>{a.user_name ?? '—'}</td>
            <td data-label={t('applications.changed')}><When at={a.latest_status_change_at ?? a.created_at} /></td>
          </tr>
        )} />
      <Section id="ap-new" title={t('applications.new')}>
        {services.error ? <ProblemBox problem={services.error} />
          : !services.data ? <Loading />
          : services.data.items.length === 0 ? <Empty>{t('services.empty')}</Empty>
          : <NewApplication services={services.data.items} />}
      </Section>
    </div>
  );
}

function NewApplication({ services }: { services: Service[] }) {
  const [f, setF] = useState({ service_id: services[0].id, subject: '', user_name: '', status: '1900' });
  const create = useAction(async () => call<Application>('/api/applications', {
    method: 'POST',
    body: { service_id: f.service_id, subject: f.subject.trim() || null, user_name: f.user_name.trim() || null, status: Number(f.status) },
  }));
  const submit = async (e: Event) => {
    e.preventDefault();
    const a = await create.run();
    if (a) navigate(`/applications/${encodeURIComponent(a.id)}`);
  };
  const p = create.problem;
  return (
    <form class="inline-form" onSubmit={submit} noValidate>
      <p class="muted small full">{t('applications.newHint')}</p>
      <Field id="na-service" label={t('field.service')} name="service_id" problem={p}>
        <select {...fieldAttrs('na-service', p, 'service_id')} value={f.service_id} onChange={(e) => setF({ ...f, service_id: e.currentTarget.value })}>
          {services.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
        </select>
      </Field>
      <Field id="na-subject" label={t('field.subject')} name="subject" problem={p}>
        <input {...fieldAttrs('na-subject', p, 'subject')} maxLength={1000} value={f.subject} onInput={(e) => setF({ ...f, subject: e.currentTarget.value })} />
      </Field>
      <Field id="na-user" label={t('field.applicant')} name="user_name" problem={p}>
        <input {...fieldAttrs('na-user', p, 'user_name')} maxLength={300} value={f.user_name} onInput={(e) => setF({ ...f, user_name: e.currentTarget.value })} />
      </Field>
      <Field id="na-status" label={t('field.status')} name="status" problem={p}>
        <select {...fieldAttrs('na-status', p, 'status')} value={f.status} onChange={(e) => setF({ ...f, status: e.currentTarget.value })}>
          {[1000, 1900, 2000].map((c) => <option key={c} value={String(c)}>{c} · {statusLabel(c)}</option>)}
        </select>
      </Field>
      <button type="submit" disabled={create.pending}>{t('action.create')}</button>
      <FormProblem problem={p} fields={['service_id', 'subject', 'user_name', 'status']} />
    </form>
  );
}
