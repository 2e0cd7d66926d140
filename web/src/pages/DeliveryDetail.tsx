/**
 * One delivery: what went wrong last (the receiver's answer), every attempt newest first with
 * the last one open (status, headers, body), the frozen body sent, and resend once finished.
 */
import { useEffect, useState } from 'preact/hooks';
import { call } from '../api.js';
import { useAction, useApi } from '../hooks.js';
import { fmtNumber, t } from '../i18n/index.js';
import type { Attempt, DeliveryDetail as Detail, Webhook } from '../types.js';
import { Chip, DeliveryChip, Empty, errorClassLabel, Facts, JsonView, Loading, ProblemBox, Section, Timeline, When } from '../ui/common.js';
import { HeaderTable } from './WebhookDetail.js';

/** Enough of the receiver's answer to recognise it (an error page's title, a JSON message). */
const SNIPPET_CHARS = 280;

export function snippet(body: string, max = SNIPPET_CHARS): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

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
  const retryNow = useAction(async () => {
    await call(`${path}/retry-now`, { method: 'POST' });
    d.reload();
  });
  const isFinished = (s: string | undefined) => s === 'succeeded' || s === 'failed' || s === 'cancelled';
  useEffect(() => {
    if (isFinished(d.data?.status) !== settled) setSettled(isFinished(d.data?.status));
  }, [d.data?.status]);

  if (d.error && !d.data) return <div class="page"><h1>{t('delivery.title')}</h1><ProblemBox problem={d.error} onRetry={d.reload} /></div>;
  if (!d.data) return <div class="page"><h1>{t('delivery.title')}</h1><Loading /></div>;
  const x = d.data;
  const finished = isFinished(x.status);
  // Newest first: the operator's question is "what did the receiver say last".
  const attempts = [...x.attempt_log].sort((a, b) => Date.parse(b.started_at) - Date.parse(a.started_at) || b.attempt - a.attempt);
  const last = attempts[0] ?? null;
  return (
    <div class="page">
      <p class="crumbs"><a href="/deliveries">{t('nav.deliveries')}</a> /</p>
      <div class="page-head">
        <h1>{t('delivery.title')} <DeliveryChip status={x.status} /></h1>
        <div class="actions">
          {x.status === 'pending'
            ? <button type="button" data-retry-now disabled={retryNow.pending} aria-describedby="retry-when" onClick={() => retryNow.run()}>{t('action.retryNow')}</button>
            : <button type="button" disabled={!finished || resend.pending} onClick={() => resend.run()}>{t('action.resend')}</button>}
        </div>
      </div>
      {x.status === 'pending' && x.next_attempt_at && (
        <p class="muted small" id="retry-when">{t('delivery.retryNowHint')} <When at={x.next_attempt_at} />.</p>
      )}
      {x.status === 'sending' && <p class="muted small">{t('delivery.resendPending')}</p>}
      <ProblemBox problem={resend.problem ?? retryNow.problem} />
      {last && last.outcome === 'failure' && <LastError a={last} />}
      <Section id="dl-facts" title={t('delivery.summary')}>
        <Facts rows={[
          [t('field.id'), <code>{x.id}</code>],
          [t('field.webhook'), <a href={`/webhooks/${encodeURIComponent(x.webhook_id)}`}>{hook.data?.title ?? x.webhook_id}</a>],
          [t('field.event_type'), <code>{x.event_type}</code>],
          [t('field.event_id'), <code class="break">{x.event_id}</code>],
          [t('field.application'), x.application_id ? <a href={`/applications/${encodeURIComponent(x.application_id)}`}><code class="break">{x.application_id}</code></a> : '—'],
          [t('field.attempts'), x.attempt_offset + x.attempts],
          [t('delivery.created'), <When at={x.created_at} />],
          [t('delivery.completed'), <When at={x.completed_at} />],
          [t('field.next_attempt'), finished ? '—' : <When at={x.next_attempt_at} />],
        ]} />
      </Section>
      <Section id="dl-attempts" title={t('delivery.attempts')}>
        {attempts.length === 0 ? <Empty>{t('delivery.noAttempts')}</Empty>
          : (
            <>
              <p class="muted small">{t('delivery.attemptsOrder')}</p>
              <Timeline label={t('delivery.attempts')} items={attempts.map((a, i) => ({
                key: `${a.started_at}-${a.attempt}`, tone: a.outcome === 'success' ? 'green' : 'red', at: a.started_at,
                title: <AttemptTitle a={a} />, body: <AttemptBody a={a} open={i === 0} />,
              }))} />
            </>
          )}
      </Section>
      <Section id="dl-body" title={t('delivery.body')}>
        <p class="muted small"><code>{x.content_type}</code></p>
        {x.payload !== null ? <JsonView value={x.payload} openDepth={1} /> : <pre class="code">{x.body}</pre>}
      </Section>
    </div>
  );
}

/** The newest failed attempt in words: what the receiver answered (or why nothing came back), when, and the start of its answer. */
function LastError({ a }: { a: Attempt }) {
  return (
    <section class="problem last-error" aria-labelledby="last-error-title">
      <h2 id="last-error-title">{t('health.lastError')}</h2>
      <p>
        <strong>{a.status_code !== null ? `HTTP ${a.status_code}` : errorClassLabel(a.error_class ?? 'other')}</strong>
        {' · '}{attemptName(a)}{' · '}<When at={a.started_at} />
      </p>
      {a.error_message && <p class="small" lang="en">{a.error_message}</p>}
      {a.response_body ? <blockquote class="snippet" aria-label={t('delivery.answerSnippet')}><code>{snippet(a.response_body)}</code></blockquote>
        : a.status_code !== null && <p class="small">{t('state.emptyBody')}</p>}
    </section>
  );
}

/** "Tentativo 5 · reinvio manuale": numbering goes on across resends, and says which were asked for. */
function attemptName(a: Attempt): string {
  return a.manual ? `${t('attempt.n', { n: a.attempt })} · ${t('attempt.manual')}` : t('attempt.n', { n: a.attempt });
}

function AttemptTitle({ a }: { a: Attempt }) {
  return (
    <span class="attempt-title" data-attempt={a.attempt} data-manual={a.manual ? 'true' : undefined}>
      {attemptName(a)}{' '}
      {a.outcome === 'success' ? <Chip tone="green">{t('attempt.success')}</Chip> : <Chip tone="red">{t('attempt.failure')}</Chip>}{' '}
      {a.status_code !== null && <strong>HTTP {a.status_code}</strong>}{' '}
      {a.error_class && <strong>{errorClassLabel(a.error_class)}</strong>}{' '}
      <span class="muted">{fmtNumber(a.duration_ms)} ms</span>
    </span>
  );
}

function AttemptBody({ a, open }: { a: Attempt; open: boolean }) {
  return (
    <>
      {a.error_message && <p class="muted" lang="en">{a.error_message}</p>}
      {a.next_attempt_at && <p>{t('attempt.next')}: <When at={a.next_attempt_at} /></p>}
      <p class="muted small break">{a.url}</p>
      {a.response_headers && <details open={open}><summary>{t('test.responseHeaders')}</summary><HeaderTable headers={a.response_headers} /></details>}
      {a.response_body !== null && <details open={open}><summary>{t('test.responseBody')}{a.response_truncated ? ` (${t('state.truncated')})` : ''}</summary><pre class="code">{a.response_body || t('state.emptyBody')}</pre></details>}
    </>
  );
}
