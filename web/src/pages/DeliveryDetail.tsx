/** One delivery: its frozen body and the timeline of every attempt; resend when finished. */
import { useEffect, useState } from 'preact/hooks';
import { call } from '../api.js';
import { useAction, useApi } from '../hooks.js';
import { fmtNumber, t, tMaybe } from '../i18n/index.js';
import type { Attempt, DeliveryDetail as Detail, Webhook } from '../types.js';
import { Chip, DeliveryChip, Empty, Facts, JsonView, Loading, ProblemBox, Section, Timeline, When } from '../ui/common.js';
import { HeaderTable } from './WebhookDetail.js';

export function DeliveryDetail({ id }: { id: string }) {
  const path = `/api/deliveries/${encodeURIComponent(id)}`;
  // Polled while it may still change: pending or sending, or just resent.
  const [settled, setSettled] = useState(false);
  const d = useApi<Detail>(path, { refreshMs: settled ? null : 2_000 });
  const hook = useApi<Webhook>(d.data ? `/api/webhooks/${encodeURIComponent(d.data.webhook_id)}` : null);
  const resend = useAction(async () => {
    await call(`${path}/resend`, { method: 'POST' });
    setSettled(false);
    d.reload();
  });
  const isFinished = (s: string | undefined) => s === 'succeeded' || s === 'failed' || s === 'cancelled';
  useEffect(() => {
    if (isFinished(d.data?.status) !== settled) setSettled(isFinished(d.data?.status));
  }, [d.data?.status]);

  if (d.error && !d.data) return <div class="page"><h1>{t('delivery.title')}</h1><ProblemBox problem={d.error} onRetry={d.reload} /></div>;
  if (!d.data) return <div class="page"><Loading /></div>;
  const x = d.data;
  const finished = isFinished(x.status);
  return (
    <div class="page">
      <p class="crumbs"><a href="/deliveries">{t('nav.deliveries')}</a> /</p>
      <div class="page-head">
        <h1>{t('delivery.title')} <DeliveryChip status={x.status} /></h1>
        <div class="actions">
          <button type="button" disabled={!finished || resend.pending} onClick={() => resend.run()} title={finished ? undefined : t('delivery.resendPending')}>{t('action.resend')}</button>
        </div>
      </div>
      <ProblemBox problem={resend.problem} />
      <Section id="dl-facts" title={t('delivery.summary')}>
        <Facts rows={[
          [t('field.id'), <code>{x.id}</code>],
          [t('field.webhook'), <a href={`/webhooks/${encodeURIComponent(x.webhook_id)}`}>{hook.data?.title ?? x.webhook_id}</a>],
          [t('field.event_type'), <code>{x.event_type}</code>],
          [t('field.event_id'), <code class="break">{x.event_id}</code>],
          [t('field.application'), x.application_id ? <a href={`/applications/${encodeURIComponent(x.application_id)}`}><code class="break">{x.application_id}</code></a> : '—'],
          [t('field.attempts'), x.attempts],
          [t('field.created_at'), <When at={x.created_at} />],
          [t('field.completed_at'), <When at={x.completed_at} />],
          [t('field.next_attempt'), finished ? '—' : <When at={x.next_attempt_at} />],
        ]} />
      </Section>
      <Section id="dl-attempts" title={t('delivery.attempts')}>
        {x.attempt_log.length === 0 ? <Empty>{t('delivery.noAttempts')}</Empty>
          : <Timeline label={t('delivery.attempts')} items={x.attempt_log.map((a) => ({ key: String(a.attempt), tone: a.outcome === 'success' ? 'green' : 'red', at: a.started_at, title: <AttemptTitle a={a} />, body: <AttemptBody a={a} /> }))} />}
      </Section>
      <Section id="dl-body" title={t('delivery.body')}>
        <p class="muted small"><code>{x.content_type}</code></p>
        {x.payload !== null ? <JsonView value={x.payload} openDepth={1} /> : <pre class="code">{x.body}</pre>}
      </Section>
    </div>
  );
}

function AttemptTitle({ a }: { a: Attempt }) {
  return (
    <span class="attempt-title" data-attempt={a.attempt}>
      {t('attempt.n', { n: a.attempt })}{' '}
      {a.outcome === 'success' ? <Chip tone="green">{t('attempt.success')}</Chip> : <Chip tone="red">{t('attempt.failure')}</Chip>}{' '}
      {a.status_code !== null && <strong>HTTP {a.status_code}</strong>}{' '}
      {a.error_class && <strong>{tMaybe(`error.class.${a.error_class}`, a.error_class)}</strong>}{' '}
      <span class="muted">{fmtNumber(a.duration_ms)} ms</span>
    </span>
  );
}

function AttemptBody({ a }: { a: Attempt }) {
  return (
    <>
      {a.error_message && <p class="muted">{a.error_message}</p>}
      {a.next_attempt_at && <p>{t('attempt.next')}: <When at={a.next_attempt_at} /></p>}
      <p class="muted small break">{a.url}</p>
      {a.response_headers && <details><summary>{t('test.responseHeaders')}</summary><HeaderTable headers={a.response_headers} /></details>}
      {a.response_body !== null && <details><summary>{t('test.responseBody')}{a.response_truncated ? ` (${t('state.truncated')})` : ''}</summary><pre class="code">{a.response_body || t('state.emptyBody')}</pre></details>}
    </>
  );
}
