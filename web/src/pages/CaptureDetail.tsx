/**
 * One captured request: headers, query, body (pretty JSON, raw text, hex or base64), the
 * Standard Webhooks signature verdict, and what to do with it: copy as curl, replay, delete.
 */
import { useEffect, useState } from 'preact/hooks';
import { call } from '../api.js';
import { useAction, useApi } from '../hooks.js';
import { fmtBytes, t, tMaybe } from '../i18n/index.js';
import type { Capture, DeliveryDetail, ReplayResult, Verdict } from '../types.js';
import { Chip, CopyButton, Empty, SendVerdict, errorClassLabel, Facts, Field, fieldAttrs, FormProblem, JsonView, Loading, ProblemBox, Section, When } from '../ui/common.js';
import { HeaderTable } from './WebhookDetail.js';

type BodyView = 'pretty' | 'raw' | 'hex' | 'base64';

export function VerdictChip({ verdict, compact = false }: { verdict: Verdict | null; compact?: boolean }) {
  if (verdict === null) return compact ? null : <Chip tone="grey">{t('signature.unchecked')}</Chip>;
  if (verdict.valid) return <Chip tone="green"><span data-signature="valid">{t('signature.valid')}</span></Chip>;
  return <Chip tone="red"><span data-signature="invalid">{compact ? t('signature.invalid') : `${t('signature.invalid')}: ${tMaybe(`signature.reason.${verdict.reason}`, verdict.reason)}`}</span></Chip>;
}

/** A request header's first value, by name in any case. */
export function headerOf(c: Pick<Capture, 'headers'>, name: string): string | null {
  return c.headers.find((h) => h.name.toLowerCase() === name)?.value ?? null;
}

/**
 * What sent this request, when it was one of this server's webhooks: the webhook-id header is
 * the delivery's id (a test send's starts with msg_test_). The delivery gives the event type,
 * and the attempt is the newest one that had started when the request arrived (one delivery's
 * attempts never overlap). An attempt is recorded only once its answer is in, so right after
 * arriving the request may be newer than every recorded attempt: then it is looked up again.
 */
function SentBy({ capture, arrival }: { capture: Capture; arrival: number }) {
  const msgId = headerOf(capture, 'webhook-id');
  const isTest = msgId?.startsWith('msg_test_') ?? false;
  const [settled, setSettled] = useState(false);
  const d = useApi<DeliveryDetail>(msgId && !isTest && /^msg_[A-Za-z0-9_-]+$/.test(msgId) ? `/api/deliveries/${encodeURIComponent(msgId)}` : null, { refreshMs: settled ? null : 1_500 });
  const received = Date.parse(capture.received_at);
  // Times are whole milliseconds on both sides; 50 ms covers the two being read on either side of a tick.
  const attempt = d.data?.attempt_log
    .filter((a) => Date.parse(a.started_at) <= received + 50)
    .sort((a, b) => Date.parse(b.started_at) - Date.parse(a.started_at))[0] ?? null;
  // The bin records the request between the attempt's start and the end of its answer: inside [start, start + duration].
  const attemptCoversIt = attempt !== null && received <= Date.parse(attempt.started_at) + attempt.duration_ms + 50;
  // Stop asking once it is known, or once the delivery is over and still no attempt covers it
  // (a replay or a copied curl command can carry a webhook-id too).
  const finished = d.data !== null && d.data.status !== 'pending' && d.data.status !== 'sending';
  useEffect(() => {
    if (!settled && (d.error || attemptCoversIt || finished)) setSettled(true);
  });
  if (!msgId) return null;
  const rows: [string, preact.ComponentChildren][] = [['webhook-id', <code class="break">{msgId}</code>]];
  if (isTest) rows.push([t('capture.sentBy'), t('capture.testSend')]);
  if (d.data) {
    rows.push([t('capture.sentBy'), <a href={`/deliveries/${encodeURIComponent(d.data.id)}`}>{t('delivery.title')} <code>{d.data.id}</code></a>]);
    rows.push([t('field.event_type'), <code data-event-type>{d.data.event_type}</code>]);
    rows.push([t('capture.attempt'), attemptCoversIt
      ? <span data-attempt-of-capture={attempt!.attempt}>{t('attempt.n', { n: attempt!.attempt })}{attempt!.error_class ? ` · ${errorClassLabel(attempt!.error_class)}` : ''}</span>
      : finished ? '—' : t('capture.attemptPending')]);
  }
  if (arrival > 1) rows.push([t('capture.arrivals'), t('capture.nthArrival', { n: arrival })]);
  return <Facts rows={rows} />;
}

function bytesOf(c: Pick<Capture, 'body' | 'body_encoding'>): Uint8Array {
  if (c.body_encoding === 'base64') return Uint8Array.from(atob(c.body), (ch) => ch.charCodeAt(0));
  return new TextEncoder().encode(c.body);
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Classic hexdump lines: offset, 16 bytes in hex, printable ASCII. Capped: a view, not a download. */
export function hexDump(bytes: Uint8Array, max = 16 * 1024): string {
  const lines: string[] = [];
  const n = Math.min(bytes.length, max);
  for (let off = 0; off < n; off += 16) {
    const row = bytes.subarray(off, Math.min(off + 16, n));
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  if (bytes.length > n) lines.push(t('capture.moreBytes', { n: bytes.length - n }));
  return lines.join('\n');
}

function parseJson(c: Capture): { ok: true; value: unknown } | { ok: false } {
  if (c.body_encoding !== 'utf8' || c.body.trim() === '') return { ok: false };
  try {
    return { ok: true, value: JSON.parse(c.body) };
  } catch {
    return { ok: false };
  }
}

export function CaptureDetail({ binId, captureId, initial, binUrl, arrival = 1, onDeleted }: { binId: string; captureId: string; initial?: Capture; binUrl: string; arrival?: number; onDeleted: () => void }) {
  const path = `/api/inspector/bins/${encodeURIComponent(binId)}/requests/${encodeURIComponent(captureId)}`;
  const full = useApi<Capture>(path);
  const c = full.data ?? initial ?? null;
  const json = c ? parseJson(c) : { ok: false as const };
  const [view, setView] = useState<BodyView | null>(null);
  const [curl, setCurl] = useState<string | null>(null);
  const getCurl = useAction(async () => {
    const text = await call<string>(`${path}/curl`, { as: 'text' });
    setCurl(text);
    return text;
  });
  const remove = useAction(async () => {
    await call(path, { method: 'DELETE' });
    onDeleted();
  });

  if (!c) return full.error ? <Section id="capture" title={t('capture.title')}><ProblemBox problem={full.error} onRetry={full.reload} /></Section> : <Loading />;
  const shown: BodyView = view ?? (json.ok ? 'pretty' : c.body_encoding === 'utf8' ? 'raw' : 'hex');
  const bytes = bytesOf(c);

  return (
    <Section id="capture" title={t('capture.title')} actions={<button type="button" class="danger small" disabled={remove.pending} onClick={() => remove.run()}>{t('action.delete')}</button>}>
      <ProblemBox problem={remove.problem} />
      <p class="capture-line"><strong>{c.method}</strong> <code class="break">{c.url}</code></p>
      <div class="verdict" id="signature-verdict">
        <VerdictChip verdict={c.signature} />
        {c.signature && !c.signature.valid && <p class="muted small" lang="en">{c.signature.detail}</p>}
        {c.signature === null && <p class="muted small">{t('signature.noSecret')}</p>}
      </div>
      <Facts rows={[
        [t('capture.received'), <When at={c.received_at} />],
        [t('capture.from'), <code>{c.client_ip}</code>],
        [t('capture.size'), fmtBytes(c.size)],
        [t('capture.contentType'), c.content_type ? <code>{c.content_type}</code> : '—'],
        [t('capture.answered'), c.response_status ?? '—'],
        ['HTTP', c.http_version],
      ]} />
      <SentBy capture={c} arrival={arrival} />
      <details open>
        <summary>{t('capture.headers')} ({c.headers.length})</summary>
        <HeaderTable headers={c.headers} />
      </details>
      {c.query_params.length > 0 && (
        <details open><summary>{t('capture.query')} ({c.query_params.length})</summary><HeaderTable headers={c.query_params} /></details>
      )}
      <div class="body-view">
        <div class="tabs" role="group" aria-label={t('capture.bodyView')}>
          {(['pretty', 'raw', 'hex', 'base64'] as const).map((v) => (
            <button key={v} type="button" class="secondary small" aria-pressed={shown === v} disabled={v === 'pretty' && !json.ok} onClick={() => setView(v)}>{t(`capture.view.${v}`)}</button>
          ))}
        </div>
        {c.body_truncated && <p class="muted small">{t('capture.truncated')}</p>}
        {c.size === 0 ? <Empty>{t('state.emptyBody')}</Empty>
          : shown === 'pretty' && json.ok ? <JsonView value={json.value} toggle={false} />
          : shown === 'raw' ? <pre class="code">{c.body_encoding === 'utf8' ? c.body : t('capture.binary')}</pre>
          : shown === 'hex' ? <pre class="code hex">{hexDump(bytes)}</pre>
          : <div><pre class="code">{toBase64(bytes)}</pre><CopyButton text={toBase64(bytes)} /></div>}
      </div>
      <div class="actions wrap">
        <button type="button" class="secondary" disabled={getCurl.pending} onClick={() => getCurl.run()}>{t('capture.showCurl')}</button>
        <CopyButton label={t('capture.copyCurl')} text={async () => curl ?? (await getCurl.run()) ?? ''} />
      </div>
      <ProblemBox problem={getCurl.problem} />
      {curl && <pre class="code" aria-label="curl">{curl}</pre>}
      <Replay path={path} binUrl={binUrl} />
    </Section>
  );
}

function Replay({ path, binUrl }: { path: string; binUrl: string }) {
  const [url, setUrl] = useState('');
  const [result, setResult] = useState<ReplayResult | null>(null);
  const replay = useAction(async () => call<ReplayResult>(`${path}/replay`, { method: 'POST', body: { url: url.trim() } }));
  const submit = async (e: Event) => {
    e.preventDefault();
    setResult(null);
    const r = await replay.run();
    if (r) setResult(r);
  };
  return (
    <details class="replay">
      <summary>{t('replay.title')}</summary>
      <form class="inline-form" onSubmit={submit} noValidate>
        <Field id="replay-url" label={t('replay.url')} name="url" problem={replay.problem} hint={t('replay.hint')}>
          <input {...fieldAttrs('replay-url', replay.problem, 'url', true)} type="url" spellcheck={false} placeholder={binUrl} value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
        </Field>
        <button type="submit" disabled={replay.pending}>{t('replay.send')}</button>
      </form>
      <FormProblem problem={replay.problem} fields={['url']} />
      {result && (
        <div class="test-result" role="status">
          <SendVerdict result={result} />
          {result.error && <p class="muted" lang="en">{result.error}</p>}
          {result.headers && <details><summary>{t('test.responseHeaders')}</summary><HeaderTable headers={result.headers} /></details>}
          {result.body !== undefined && <pre class="code">{result.body || t('state.emptyBody')}</pre>}
        </div>
      )}
    </details>
  );
}
