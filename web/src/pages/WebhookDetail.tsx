/**
 * One webhook: its settings, its health over the last 24 h, and what an operator does with it:
 * test it now, rotate its secret (shown once), enable or disable it, recover failed deliveries.
 */
import { useState } from 'preact/hooks';
import { ApiProblem, call, type Page } from '../api.js';
import { useAction, useApi } from '../hooks.js';
import { fmtNumber, fmtPercent, t, tMaybe } from '../i18n/index.js';
import { takeSecretFor } from '../oneshot.js';
import { navigate } from '../router.js';
import type { Capture, Health, Webhook, WebhookTestResult } from '../types.js';
import { OutcomeChart } from '../ui/charts.js';
import { Chip, CopyButton, SendVerdict, ErrorText, Facts, Field, fieldAttrs, FormProblem, Loading, ProblemBox, Section, When } from '../ui/common.js';
import { RecoverForm } from './RecoverForm.js';
import { DisabledBanner } from './DisabledBanner.js';
import { triggerText, WebhookState } from './WebhookList.js';

type TestResult = WebhookTestResult;

/** `<this server>/in/<bin>`: the bin id when the endpoint is one of this server's inspector bins. */
export function ownBinOf(endpoint: string): string | null {
  try {
    const u = new URL(endpoint);
    const m = /^\/in\/([A-Za-z0-9_-]+)/.exec(u.pathname);
    return u.origin === location.origin && m ? m[1] : null;
  } catch {
    return null;
  }
}

export function WebhookDetail({ id }: { id: string }) {
  const path = `/api/webhooks/${encodeURIComponent(id)}`;
  const hook = useApi<Webhook>(path);
  const health = useApi<Health>(`${path}/health`, { refreshMs: 15_000 });
  const [secret, setSecret] = useState<string | null>(() => takeSecretFor(id));

  if (hook.error) return <div class="page"><h1>{t('webhook.title')}</h1><ProblemBox problem={hook.error} onRetry={hook.reload} /></div>;
  if (!hook.data) return <div class="page"><h1>{t('webhook.title')}</h1><Loading /></div>;
  const w = hook.data;

  return (
    <div class="page">
      <p class="crumbs"><a href="/webhooks">{t('nav.webhooks')}</a> /</p>
      <div class="page-head">
        <h1>{w.title} <WebhookState w={w} /></h1>
        <div class="actions">
          <a class="button secondary" href={`/webhooks/${encodeURIComponent(id)}/edit`}>{t('action.edit')}</a>
          <a class="button secondary" href={`/deliveries?webhook_id=${encodeURIComponent(id)}`}>{t('webhook.deliveries')}</a>
        </div>
      </div>
      {secret && <SecretPanel webhook={w} secret={secret} onDismiss={() => setSecret(null)} />}
      <DisabledBanner w={w} onChanged={(nw) => { hook.setData(nw); health.reload(); }} />
      <div class="grid-2">
        <Section id="wh-settings" title={t('webhook.settings')}>
          <Facts rows={[
            [t('field.endpoint'), <code class="break">{w.method} {w.endpoint}</code>],
            [t('field.trigger'), triggerText(w)],
            [t('field.filters'), w.filters === 'all' ? t('webhook.allServices') : w.filters.join(', ')],
            ...(w.unknown_services.length > 0 ? [[t('webhook.unknownServices'), w.unknown_services.join(', ')] as [string, string]] : []),
            [t('field.format'), `${tMaybe(`format.${w.format}`, w.format)} · v${w.version}`],
            [t('field.ordering'), tMaybe(`ordering.${w.ordering}`, w.ordering)],
            [t('field.max_concurrency'), w.max_concurrency ?? t('webhook.default')],
            [t('field.rate_limit'), w.rate_limit === null ? t('webhook.unlimited') : `${fmtNumber(w.rate_limit, 2)}/s`],
            [t('field.headers'), Object.keys(w.headers).length ? Object.keys(w.headers).join(', ') : '—'],
            [t('webhook.secretOverlap'), w.previous_secret_expires_at ? <When at={w.previous_secret_expires_at} /> : '—'],
            [t('field.created_at'), <When at={w.created_at} />],
          ]} />
          {w.description && <p>{w.description}</p>}
        </Section>
        <HealthCard health={health} />
      </div>
      <Actions webhook={w} onChanged={() => hook.reload()} onSecret={setSecret} />
      <TestPanel webhookId={id} endpoint={w.endpoint} />
      <Section id="wh-recover" title={t('recover.title')}>
        <RecoverForm webhookId={id} />
      </Section>
    </div>
  );
}

function HealthCard({ health }: { health: ReturnType<typeof useApi<Health>> }) {
  const h = health.data;
  return (
    <Section id="wh-health" title={t('health.title')}>
      {health.error ? <ProblemBox problem={health.error} onRetry={health.reload} />
        : !h ? <Loading />
        : (
          <>
            <p class="muted small">{t('health.countsDeliveries')}</p>
            <div class="stats">
              <div data-delivery-rate><span class="big">{fmtPercent(h.last_24h.deliveries.success_rate)}</span><span class="muted">{t('health.deliveryRate')}</span></div>
              <div><span class="big">{fmtNumber(h.last_24h.deliveries.failed)}</span><span class="muted">{t('health.deliveriesFailed')}</span></div>
              <div><span class="big">{fmtPercent(h.last_24h.success_rate)}</span><span class="muted">{t('health.successRate')}</span></div>
              <div><span class="big">{fmtNumber(h.last_24h.attempts)}</span><span class="muted">{t('health.attempts')}</span></div>
              <div><span class="big">{fmtNumber(h.last_24h.failures)}</span><span class="muted">{t('health.failures')}</span></div>
              <div><span class="big">{h.last_24h.latency_ms.p95 === null ? '—' : `${fmtNumber(h.last_24h.latency_ms.p95)} ms`}</span><span class="muted">p95</span></div>
            </div>
            <Facts rows={[
              [t('health.latency'), h.last_24h.latency_ms.p50 === null ? '—' : `p50 ${fmtNumber(h.last_24h.latency_ms.p50)} · p95 ${fmtNumber(h.last_24h.latency_ms.p95)} · p99 ${fmtNumber(h.last_24h.latency_ms.p99)} ms`],
              [t('health.lastError'), h.last_error ? <span><When at={h.last_error.at} />: <ErrorText text={h.last_error.error} /></span> : t('health.noError')],
              [t('health.failingSince'), h.failing_since ? <When at={h.failing_since} /> : '—'],
            ]} />
            {h.last_24h.attempts > 0 && <OutcomeChart items={h.per_minute} />}
          </>
        )}
    </Section>
  );
}

function SecretPanel({ webhook, secret, onDismiss }: { webhook: Webhook; secret: string; onDismiss: () => void }) {
  const binId = ownBinOf(webhook.endpoint);
  const give = useAction(async () => {
    await call(`/api/inspector/bins/${encodeURIComponent(binId!)}`, { method: 'PATCH', body: { secret } });
    return true;
  });
  const [given, setGiven] = useState(false);
  return (
    <section class="card secret" aria-labelledby="secret-title">
      <h2 id="secret-title">{t('secret.title')}</h2>
      <p>{t('secret.once')}</p>
      <div class="secret-row">
        <code id="secret-value" class="break">{secret}</code>
        <CopyButton text={secret} label={t('secret.copy')} />
      </div>
      {binId && (
        <p>
          {given ? <Chip tone="green">{t('secret.givenToBin')}</Chip>
            : <button type="button" class="secondary" disabled={give.pending} onClick={async () => setGiven(!!(await give.run()))}>{t('secret.giveToBin')}</button>}
        </p>
      )}
      <ProblemBox problem={give.problem} />
      <button type="button" class="secondary small" onClick={onDismiss}>{t('secret.dismiss')}</button>
    </section>
  );
}

function Actions({ webhook, onChanged, onSecret }: { webhook: Webhook; onChanged: (w: Webhook) => void; onSecret: (s: string) => void }) {
  const path = `/api/webhooks/${encodeURIComponent(webhook.id)}`;
  const toggle = useAction(async () => onChanged(await call<Webhook>(path, { method: 'PATCH', body: { active: !webhook.active } })));
  const rotate = useAction(async () => {
    if (!confirm(t('rotate.confirm'))) return;
    const w = await call<Webhook>(`${path}/rotate-secret`, { method: 'POST' });
    const { secret, ...rest } = w;
    onChanged(rest as Webhook);
    if (secret) onSecret(secret);
  });
  const remove = useAction(async () => {
    if (!confirm(t('delete.confirm', { title: webhook.title }))) return;
    await call(path, { method: 'DELETE' });
    navigate('/webhooks');
  });
  return (
    <Section id="wh-actions" title={t('webhook.actions')}>
      <div class="actions wrap">
        <button type="button" class="secondary" disabled={toggle.pending} onClick={() => toggle.run()}>{webhook.active ? t('action.disable') : t('action.enable')}</button>
        <button type="button" class="secondary" disabled={rotate.pending} onClick={() => rotate.run()}>{t('action.rotate')}</button>
        <button type="button" class="danger" disabled={remove.pending} onClick={() => remove.run()}>{t('action.delete')}</button>
      </div>
      <ProblemBox problem={toggle.problem ?? rotate.problem ?? remove.problem} />
    </Section>
  );
}

/**
 * When the endpoint is one of this server's bins, the capture the test produced: found by its
 * webhook-id header (the bin's search looks in headers). The bin answered before the test
 * returned, so the capture is there already.
 */
async function captureOfTest(binId: string, result: TestResult): Promise<string | null> {
  const msgId = result.request.headers['webhook-id'];
  if (!msgId) return null;
  const page = await call<Page<Capture>>(`/api/inspector/bins/${encodeURIComponent(binId)}/requests?limit=5&q=${encodeURIComponent(msgId)}`);
  return page.items.find((c) => c.headers.some((h) => h.name.toLowerCase() === 'webhook-id' && h.value === msgId))?.id ?? null;
}

function TestPanel({ webhookId, endpoint }: { webhookId: string; endpoint: string }) {
  const [appId, setAppId] = useState('');
  const [scheduled, setScheduled] = useState(false);
  const [queued, setQueued] = useState<string | null>(null);
  const binId = ownBinOf(endpoint);
  const body = () => ({ ...(appId.trim() ? { application_id: appId.trim() } : {}), ...(scheduled ? { schedule: true } : {}) });
  const test = useAction(async () => call<TestResult | { delivery_id: string }>(`/api/webhooks/${encodeURIComponent(webhookId)}/test`, { method: 'POST', body: body() }));
  const [result, setResult] = useState<TestResult | null>(null);
  const [captureId, setCaptureId] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setResult(null);
    setCaptureId(null);
    setQueued(null);
    const r = await test.run();
    if (r && 'delivery_id' in r) {
      setQueued(r.delivery_id);
    } else if (r) {
      setResult(r);
      // A bin of another tenant, or one deleted meanwhile, simply gives no link.
      if (binId) setCaptureId(await captureOfTest(binId, r).catch(() => null));
    }
  };
  return (
    <Section id="wh-test" title={t('test.title')}>
      <form class="inline-form" onSubmit={submit} noValidate>
        <Field id="test-app" label={t('test.application')} name="application_id" problem={test.problem} hint={t('test.applicationHint')}>
          <input {...fieldAttrs('test-app', test.problem, 'application_id', true)} spellcheck={false} value={appId} onInput={(e) => setAppId(e.currentTarget.value)} />
        </Field>
        <div class="check">
          <input id="test-schedule" type="checkbox" checked={scheduled} onChange={(e) => setScheduled(e.currentTarget.checked)} aria-describedby="test-schedule-hint" />
          <label for="test-schedule">{t('test.schedule')}</label>
          <small id="test-schedule-hint" class="hint">{t('test.scheduleHint')}</small>
        </div>
        <button type="submit" disabled={test.pending}>{test.pending ? t('test.sending') : t('action.test')}</button>
      </form>
      <FormProblem problem={test.problem} fields={['application_id']} />
      {queued && (
        <p class="notice" role="status" data-test-delivery={queued}>
          {t('test.queued')} <a href={`/deliveries/${encodeURIComponent(queued)}`}>{t('test.openDelivery')}</a>
          {binId && <> · <a href={`/inspector/${encodeURIComponent(binId)}`}>{t('test.openBin')}</a></>}
        </p>
      )}
      {result && (
        <div class="test-result" role="status" aria-live="polite">
          <SendVerdict result={result} />
          {result.error_message && <p class="muted" lang="en">{result.error_message}</p>}
          {binId && captureId && (
            <p><a href={`/inspector/${encodeURIComponent(binId)}?request=${encodeURIComponent(captureId)}`} data-capture-link>{t('test.openCapture')}</a></p>
          )}
          {result.response_headers && (
            <details><summary>{t('test.responseHeaders')}</summary><HeaderTable headers={result.response_headers} /></details>
          )}
          {result.response_body !== undefined && (
            <details open><summary>{t('test.responseBody')}{result.response_truncated ? ` (${t('state.truncated')})` : ''}</summary><pre class="code">{result.response_body || t('state.emptyBody')}</pre></details>
          )}
          <details><summary>{t('test.request')}</summary><HeaderTable headers={result.request.headers} /><pre class="code">{result.request.body}</pre></details>
        </div>
      )}
    </Section>
  );
}

export function HeaderTable({ headers }: { headers: Record<string, string | string[]> | { name: string; value: string }[] }) {
  const rows = Array.isArray(headers) ? headers.map((h) => [h.name, h.value] as const) : Object.entries(headers).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x] as const) : [[k, v] as const]));
  if (rows.length === 0) return <p class="muted">—</p>;
  return (
    <table class="kv">
      <tbody>{rows.map(([k, v], i) => <tr key={i}><th scope="row">{k}</th><td class="break"><code>{v}</code></td></tr>)}</tbody>
    </table>
  );
}

export function isProblem(e: unknown): e is ApiProblem {
  return e instanceof ApiProblem;
}
