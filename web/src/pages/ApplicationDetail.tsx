/**
 * One pratica: its status, the history as a timeline, and a form offering only the moves the
 * transition table allows from here (GET /applications/:id/transitions), so an operator can
 * fire the webhooks for real.
 */
import { useEffect, useState } from 'preact/hooks';
import { call } from '../api.js';
import { useAction, useApi } from '../hooks.js';
import { t } from '../i18n/index.js';
import type { Application } from '../types.js';
import { Empty, Facts, Field, fieldAttrs, FormProblem, JsonView, Loading, ProblemBox, Section, statusLabel, StatusChip, Timeline } from '../ui/common.js';

interface HistoryItem {
  event_id: string;
  type: string;
  from: number | null;
  to: number | null;
  status_name: string | null;
  message: string | null;
  at: string;
}

interface Transitions {
  status: number;
  allowed: { status: number; status_name: string }[];
}

export function ApplicationDetail({ id }: { id: string }) {
  const path = `/api/applications/${encodeURIComponent(id)}`;
  const app = useApi<Application>(path);
  const history = useApi<{ items: HistoryItem[] }>(`${path}/history`);
  const transitions = useApi<Transitions>(`${path}/transitions`);
  const reloadAll = () => {
    app.reload();
    history.reload();
    transitions.reload();
  };

  if (app.error) return <div class="page"><h1>{t('application.title')}</h1><ProblemBox problem={app.error} onRetry={app.reload} /></div>;
  if (!app.data) return <div class="page"><Loading /></div>;
  const a = app.data;
  return (
    <div class="page">
      <p class="crumbs"><a href="/applications">{t('nav.applications')}</a> /</p>
      <div class="page-head">
        <h1>{a.subject || t('application.title')} <StatusChip code={a.status} /></h1>
        <div class="actions"><a class="button secondary" href={`/deliveries?application_id=${encodeURIComponent(a.id)}`}>{t('application.deliveries')}</a></div>
      </div>
      <div class="grid-2">
        <Section id="ap-move" title={t('transition.title')}>
          {transitions.error ? <ProblemBox problem={transitions.error} onRetry={transitions.reload} />
            : !transitions.data ? <Loading />
            : transitions.data.allowed.length === 0 ? <Empty>{t('transition.none')}</Empty>
            : <TransitionForm path={path} current={a.status} allowed={transitions.data.allowed.map((x) => x.status)} onDone={reloadAll} />}
        </Section>
        <Section id="ap-history" title={t('application.history')}>
          {history.error ? <ProblemBox problem={history.error} onRetry={history.reload} />
            : !history.data ? <Loading />
            : history.data.items.length === 0 ? <Empty>{t('application.noHistory')}</Empty>
            : <Timeline label={t('application.history')} items={[...history.data.items].reverse().map((h) => ({
              key: h.event_id, tone: 'blue', at: h.at,
              title: <span>{h.from !== null && h.from !== h.to ? <>{h.from} → </> : null}{h.to !== null ? <StatusChip code={h.to} /> : <code>{h.type}</code>}</span>,
              body: h.message ? <p>{h.message}</p> : undefined,
            }))} />}
        </Section>
      </div>
      <Section id="ap-facts" title={t('application.details')}>
        <Facts rows={[
          [t('field.id'), <code class="break">{a.id}</code>],
          [t('field.service'), a.service_name ?? a.service_id],
          [t('field.applicant'), a.user_name ?? '—'],
          [t('field.status'), `${a.status} · ${a.status_name}`],
          [t('field.protocol_number'), (a.protocol_number as string | null) ?? '—'],
        ]} />
        <details><summary>{t('application.json')}</summary><JsonView value={a} openDepth={1} /></details>
      </Section>
    </div>
  );
}

function TransitionForm({ path, current, allowed, onDone }: { path: string; current: number; allowed: number[]; onDone: () => void }) {
  const [to, setTo] = useState(String(allowed[0]));
  const [message, setMessage] = useState('');
  const [protocol, setProtocol] = useState('');
  const [motivation, setMotivation] = useState('');
  const [done, setDone] = useState<number | null>(null);
  useEffect(() => setTo(String(allowed[0])), [allowed.join(',')]);
  const move = useAction(async () => {
    const target = Number(to);
    const body: Record<string, unknown> = { status: target };
    if (message.trim()) body.message = message.trim();
    if (protocol.trim()) body.protocol_number = protocol.trim();
    if (motivation.trim()) body.outcome_motivation = motivation.trim();
    await call(`${path}/transitions`, { method: 'POST', body });
    return target;
  });
  const submit = async (e: Event) => {
    e.preventDefault();
    const target = await move.run();
    if (target !== undefined) {
      setDone(target);
      setMessage('');
      setProtocol('');
      setMotivation('');
      onDone();
    }
  };
  const p = move.problem;
  const final = Number(to) === 7000 || Number(to) === 9000;
  return (
    <form class="form" onSubmit={submit} noValidate>
      <p class="muted small">{t('transition.from', { status: `${current} · ${statusLabel(current)}` })}</p>
      <Field id="tr-status" label={t('transition.to')} name="status" problem={p}>
        <select {...fieldAttrs('tr-status', p, 'status')} value={to} onChange={(e) => setTo(e.currentTarget.value)}>
          {allowed.map((c) => <option key={c} value={String(c)}>{c} · {statusLabel(c)}{c === current ? ` (${t('transition.same')})` : ''}</option>)}
        </select>
      </Field>
      <Field id="tr-message" label={t('transition.message')} name="message" problem={p}>
        <textarea {...fieldAttrs('tr-message', p, 'message')} rows={2} value={message} onInput={(e) => setMessage(e.currentTarget.value)} />
      </Field>
      {Number(to) === 3000 && (
        <Field id="tr-protocol" label={t('field.protocol_number')} name="protocol_number" problem={p}>
          <input {...fieldAttrs('tr-protocol', p, 'protocol_number')} value={protocol} onInput={(e) => setProtocol(e.currentTarget.value)} />
        </Field>
      )}
      {final && (
        <Field id="tr-motivation" label={t('transition.motivation')} name="outcome_motivation" problem={p}>
          <textarea {...fieldAttrs('tr-motivation', p, 'outcome_motivation')} rows={2} value={motivation} onInput={(e) => setMotivation(e.currentTarget.value)} />
        </Field>
      )}
      <button type="submit" disabled={move.pending}>{t('transition.apply')}</button>
      <FormProblem problem={p} fields={['status', 'message', 'protocol_number', 'outcome_motivation']} />
      {done !== null && <p class="notice" role="status">{t('transition.done', { status: `${done} · ${statusLabel(done)}` })}</p>}
    </form>
  );
}
