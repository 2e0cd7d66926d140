/**
 * One pratica: whether each webhook got its events, its status history and messages, and its
 * details. Changing the status is behind a button: it fires webhooks at real receivers, so the
 * form offers only the legal moves (GET /applications/:id/transitions), preselects none, and
 * asks for a confirmation that names the webhooks the change will fire.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { call, type Page } from '../api.js';
import { matches, type MatchableEvent } from '../domain.js';
import { useAction, useApi, usePaged } from '../hooks.js';
import { plural, t, tMaybe } from '../i18n/index.js';
import type { Application, Delivery, HistoryItem, Message, Transitions, Webhook } from '../types.js';
import { Chip, DeliveryChip, Empty, Facts, Field, fieldAttrs, FormProblem, JsonView, Loading, LoadMore, ProblemBox, Section, statusLabel, StatusChip, Timeline, When } from '../ui/common.js';

/** Deliveries read for the per-webhook summary: a pratica rarely has more; beyond, the summary says so. */
const DELIVERIES_READ = 100;

export function ApplicationDetail({ id }: { id: string }) {
  const path = `/api/applications/${encodeURIComponent(id)}`;
  const app = useApi<Application>(path);
  const history = useApi<{ items: HistoryItem[] }>(`${path}/history`);
  const transitions = useApi<Transitions>(`${path}/transitions`);
  const hooks = useApi<Page<Webhook>>('/api/webhooks?limit=500');
  const deliveries = useApi<Page<Delivery>>(`/api/deliveries?application_id=${encodeURIComponent(id)}&limit=${DELIVERIES_READ}`, { refreshMs: 5_000 });
  const [moving, setMoving] = useState(false);
  const [done, setDone] = useState<number | null>(null);
  const opener = useRef<HTMLButtonElement>(null);
  const reloadAll = () => {
    app.reload();
    history.reload();
    transitions.reload();
    deliveries.reload();
  };

  if (app.error) return <div class="page"><h1>{t('application.title')}</h1><ProblemBox problem={app.error} onRetry={app.reload} /></div>;
  if (!app.data) return <div class="page"><h1>{t('application.title')}</h1><Loading /></div>;
  const a = app.data;
  const close = () => {
    setMoving(false);
    requestAnimationFrame(() => opener.current?.focus());
  };
  return (
    <div class="page">
      <p class="crumbs"><a href="/applications">{t('nav.applications')}</a> /</p>
      <div class="page-head">
        <h1>{a.subject || t('application.title')} <StatusChip code={Number(a.status)} /></h1>
        <div class="actions wrap">
          <button type="button" ref={opener} class="secondary" aria-expanded={moving} aria-controls="ap-move-panel" onClick={() => { setDone(null); setMoving(!moving); }}>{t('transition.open')}</button>
          <a class="button secondary" href={`/deliveries?application_id=${encodeURIComponent(a.id)}`}>{t('application.deliveries')}</a>
        </div>
      </div>
      {done !== null && <p class="notice" role="status">{t('transition.done', { status: `${done} · ${statusLabel(done)}` })}</p>}
      {moving && (
        <div id="ap-move-panel">
        <Section id="ap-move" title={t('transition.title')}>
          {transitions.error ? <ProblemBox problem={transitions.error} onRetry={transitions.reload} />
            : !transitions.data || !hooks.data ? <Loading />
            : transitions.data.allowed.length === 0 ? <Empty>{t('transition.none')}</Empty>
            : <TransitionForm path={path} app={a} allowed={transitions.data.allowed.map((x) => x.status)} webhooks={hooks.data.items}
                onCancel={close} onDone={(to) => { setDone(to); close(); reloadAll(); }} />}
          <ProblemBox problem={hooks.error} />
        </Section>
        </div>
      )}
      <div class="grid-2">
        <Section id="ap-delivered" title={t('application.perWebhook')}>
          <PerWebhook deliveries={deliveries} webhooks={hooks.data?.items ?? []} applicationId={a.id} />
        </Section>
        <Section id="ap-history" title={t('application.history')}>
          {history.error ? <ProblemBox problem={history.error} onRetry={history.reload} />
            : !history.data ? <Loading />
            : history.data.items.length === 0 ? <Empty>{t('application.noHistory')}</Empty>
            : <Timeline label={t('application.history')} items={[...history.data.items].reverse().map((h) => ({
              key: h.event_id, tone: 'blue', at: h.at,
              title: <span>{h.from !== null && h.from !== h.to ? <>{h.from} → </> : null}{h.to !== null ? <StatusChip code={h.to} /> : <code>{h.type}</code>}</span>,
              body: h.message ? <p><span class="muted">{t('transition.note')}:</span> {h.message}</p> : undefined,
            }))} />}
        </Section>
      </div>
      <Section id="ap-messages" title={t('application.messages')}>
        <Messages path={`${path}/messages`} />
      </Section>
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

/** For each webhook that has deliveries of this pratica: the newest one's status and the counts. */
function PerWebhook({ deliveries, webhooks, applicationId }: { deliveries: ReturnType<typeof useApi<Page<Delivery>>>; webhooks: Webhook[]; applicationId: string }) {
  if (deliveries.error) return <ProblemBox problem={deliveries.error} onRetry={deliveries.reload} />;
  if (!deliveries.data) return <Loading />;
  const items = deliveries.data.items;
  if (items.length === 0) return <Empty>{t('application.noDeliveries')}</Empty>;
  // The list is newest first, so the first delivery seen per webhook is its newest.
  const byWebhook = new Map<string, { newest: Delivery; counts: Record<string, number> }>();
  for (const d of items) {
    const g = byWebhook.get(d.webhook_id) ?? { newest: d, counts: {} };
    g.counts[d.status] = (g.counts[d.status] ?? 0) + 1;
    byWebhook.set(d.webhook_id, g);
  }
  const titles = new Map(webhooks.map((w) => [w.id, w.title]));
  return (
    <>
      <ul class="per-webhook">
        {[...byWebhook].map(([webhookId, g]) => (
          <li key={webhookId} data-webhook={webhookId}>
            <a href={`/deliveries?webhook_id=${encodeURIComponent(webhookId)}&application_id=${encodeURIComponent(applicationId)}`}>{titles.get(webhookId) ?? webhookId}</a>
            <span class="per-webhook-state">
              <DeliveryChip status={g.newest.status} /> <When at={g.newest.updated_at} />
            </span>
            <span class="muted small">
              {Object.entries(g.counts).map(([s, n]) => tMaybe(`delivery.count.${s}.${plural(n)}`, `${n} ${s}`).replace('{n}', String(n))).join(' · ')}
            </span>
          </li>
        ))}
      </ul>
      {deliveries.data.next_cursor && <p class="muted small">{t('application.newestDeliveries', { n: DELIVERIES_READ })}</p>}
    </>
  );
}

function Messages({ path }: { path: string }) {
  const list = usePaged<Message>(`${path}?limit=50`);
  if (list.error) return <ProblemBox problem={list.error} onRetry={list.reload} />;
  if (!list.items) return <Loading />;
  if (list.items.length === 0) return <Empty>{t('application.noMessages')}</Empty>;
  return (
    <>
      <ol class="messages">
        {list.items.map((m) => (
          <li key={m.id} class="message">
            <div class="message-head">
              <strong>{m.author ?? t('application.unknownAuthor')}</strong>
              <Chip tone={m.visibility === 'internal' ? 'grey' : 'blue'}>{t(m.visibility === 'internal' ? 'message.internal' : 'message.applicant')}</Chip>
              <When at={m.created_at} />
            </div>
            <p class="message-text">{m.message}</p>
          </li>
        ))}
      </ol>
      <ProblemBox problem={list.moreProblem} />
      <LoadMore cursor={list.next} loading={list.loadingMore} onClick={list.loadMore} />
    </>
  );
}

/** What the status change will be, as the matching rule sees it (the same module the server uses). */
function changeEvent(a: Application, to: number): MatchableEvent {
  return { type: 'application.status_changed', data: { application: { service_id: a.service_id, status: to }, from: Number(a.status), to } };
}

function TransitionForm({ path, app, allowed, webhooks, onDone, onCancel }: {
  path: string; app: Application; allowed: number[]; webhooks: Webhook[]; onDone: (to: number) => void; onCancel: () => void;
}) {
  // The API says the status as a string ("2000"); the transition table speaks numbers.
  const current = Number(app.status);
  const [to, setTo] = useState('');
  const [note, setNote] = useState('');
  const [protocol, setProtocol] = useState('');
  const [motivation, setMotivation] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [choiceProblem, setChoiceProblem] = useState(false);
  const confirmRef = useRef<HTMLHeadingElement>(null);
  // Focus follows the step: the choice first (and again after "Back"), then the confirmation.
  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
    else document.getElementById('tr-status')?.focus();
  }, [confirming]);
  const move = useAction(async () => {
    const target = Number(to);
    const body: Record<string, unknown> = { status: target };
    if (note.trim()) body.message = note.trim();
    if (protocol.trim()) body.protocol_number = protocol.trim();
    if (motivation.trim()) body.outcome_motivation = motivation.trim();
    await call(`${path}/transitions`, { method: 'POST', body });
    return target;
  });
  const next = (e: Event) => {
    e.preventDefault();
    if (!to) {
      setChoiceProblem(true);
      document.getElementById('tr-status')?.focus();
      return;
    }
    setChoiceProblem(false);
    move.setProblem(null);
    setConfirming(true);
  };
  const apply = async () => {
    const target = await move.run();
    if (target !== undefined) onDone(target);
    else setConfirming(false);
  };
  const p = move.problem;
  const target = Number(to);
  const final = target === 7000 || target === 9000;

  if (confirming) {
    const event = changeEvent(app, target);
    const firing = webhooks.filter((w) => matches(w, event));
    const off = webhooks.filter((w) => !w.active && matches({ ...w, active: true }, event));
    return (
      <div class="confirm" data-confirm>
        <h3 ref={confirmRef} tabIndex={-1}>{t('transition.confirmTitle')}</h3>
        <p>{t('transition.confirmMove', { from: `${current} · ${statusLabel(current)}`, to: `${target} · ${statusLabel(target)}` })}</p>
        {firing.length === 0 ? <p data-firing="none">{t('transition.firesNone')}</p> : (
          <>
            <p>{t('transition.fires', { n: firing.length })}</p>
            <ul data-firing>{firing.map((w) => <li key={w.id}><a href={`/webhooks/${encodeURIComponent(w.id)}`}>{w.title}</a> <span class="muted small break">{w.endpoint}</span></li>)}</ul>
          </>
        )}
        {off.length > 0 && <p class="muted small">{t('transition.offNotFiring', { names: off.map((w) => w.title).join(', ') })}</p>}
        <div class="form-actions">
          <button type="button" disabled={move.pending} onClick={apply}>{t('transition.confirm')}</button>
          <button type="button" class="secondary" disabled={move.pending} onClick={() => setConfirming(false)}>{t('action.back')}</button>
        </div>
      </div>
    );
  }

  return (
    <form class="form" onSubmit={next} noValidate>
      <p class="muted small">{t('transition.from', { status: `${current} · ${statusLabel(current)}` })}</p>
      <div class={`field ${choiceProblem ? 'has-error' : ''}`}>
        <label for="tr-status">{t('transition.to')}</label>
        <select id="tr-status" name="status" aria-invalid={choiceProblem ? 'true' : undefined} aria-describedby={choiceProblem ? 'tr-status-error' : undefined}
          value={to} onChange={(e) => setTo(e.currentTarget.value)}>
          <option value="">{t('transition.choose')}</option>
          {allowed.map((c) => <option key={c} value={String(c)}>{c} · {statusLabel(c)}{c === current ? ` (${t('transition.same')})` : ''}</option>)}
        </select>
        {choiceProblem ? <p class="field-error" id="tr-status-error">{t('transition.chooseFirst')}</p> : null}
      </div>
      <Field id="tr-message" label={t('transition.noteOptional')} name="message" problem={p}>
        <textarea {...fieldAttrs('tr-message', p, 'message')} rows={2} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
      </Field>
      {target === 3000 && (
        <Field id="tr-protocol" label={t('field.protocol_number')} name="protocol_number" problem={p}>
          <input {...fieldAttrs('tr-protocol', p, 'protocol_number')} value={protocol} onInput={(e) => setProtocol(e.currentTarget.value)} />
        </Field>
      )}
      {final && (
        <Field id="tr-motivation" label={t('transition.motivation')} name="outcome_motivation" problem={p}>
          <textarea {...fieldAttrs('tr-motivation', p, 'outcome_motivation')} rows={2} value={motivation} onInput={(e) => setMotivation(e.currentTarget.value)} />
        </Field>
      )}
      <div class="form-actions">
        <button type="submit">{t('transition.next')}</button>
        <button type="button" class="secondary" onClick={onCancel}>{t('action.cancel')}</button>
      </div>
      {/* A refusal of the move itself (illegal_transition names `status`) or of nothing in particular: below the form. */}
      <FormProblem problem={p} fields={['message', 'protocol_number', 'outcome_motivation']} />
    </form>
  );
}
