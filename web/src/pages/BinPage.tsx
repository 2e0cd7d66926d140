/**
 * One bin: its URL, requests arriving live (SSE), the selected request in detail, and its
 * settings (name, secret for signature checks, response rules). A request picked from the list
 * is in the URL (?request=…), so a view can be linked; without one, the newest request is shown
 * and the view follows each new arrival.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { call, type ApiProblem } from '../api.js';
import { useAction, useApi } from '../hooks.js';
import { fmtBytes, fmtTime, t } from '../i18n/index.js';
import { navigate, useLocation } from '../router.js';
import { openStream, type StreamState } from '../sse.js';
import type { Bin, Capture } from '../types.js';
import { Chip, CopyButton, Empty, Loading, ProblemBox, Section, When } from '../ui/common.js';
import { CaptureDetail, headerOf, VerdictChip } from './CaptureDetail.js';
import { BinSettings } from './BinSettings.js';

const KEEP = 200;

export function BinPage({ id }: { id: string }) {
  const base = `/api/inspector/bins/${encodeURIComponent(id)}`;
  const bin = useApi<Bin>(base);
  const { query } = useLocation();
  const pinned = query.get('request');
  const [captures, setCaptures] = useState<Capture[] | null>(null);
  /** Captures that came over the stream while the page was open: briefly marked as new. */
  const [arrived, setArrived] = useState<Set<string>>(() => new Set());
  const [listProblem, setListProblem] = useState<unknown>(null);
  const [stream, setStream] = useState<StreamState>('connecting');
  const [streamProblem, setStreamProblem] = useState<ApiProblem | null>(null);

  // The list first, then the stream from the newest listed seq: nothing missed, nothing twice.
  useEffect(() => {
    let close: (() => void) | null = null;
    let cancelled = false;
    call<{ items: Capture[] }>(`${base}/requests?limit=50`).then((page) => {
      if (cancelled) return;
      setCaptures(page.items);
      const newest = page.items.reduce((m, c) => Math.max(m, c.seq), 0);
      close = openStream(`${base}/stream`, {
        onState: (s, p) => {
          setStream(s);
          if (p) setStreamProblem(p);
        },
        onEvent: (type, data) => {
          if (type !== 'request') return;
          const c = JSON.parse(data) as Capture;
          setCaptures((list) => (list && list.some((x) => x.id === c.id) ? list : [c, ...(list ?? [])].slice(0, KEEP)));
          setArrived((s) => new Set(s).add(c.id));
        },
      }, String(newest));
    }, (err) => !cancelled && setListProblem(err));
    return () => {
      cancelled = true;
      close?.();
    };
  }, [id]);

  const clear = useAction(async () => {
    if (!confirm(t('bin.clearConfirm'))) return;
    await call(`${base}/requests`, { method: 'DELETE' });
    setCaptures([]);
    navigate(`/inspector/${encodeURIComponent(id)}`, { replace: true });
  });
  const remove = useAction(async () => {
    if (!confirm(t('bin.deleteConfirm'))) return;
    await call(base, { method: 'DELETE' });
    navigate('/inspector');
  });
  const exportAs = useAction(async (format: 'har' | 'json') => {
    const blob = await call<Blob>(`${base}/export?format=${format}`, { as: 'blob' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `${id}.${format}`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });

  // How many times each webhook-id reached this bin up to each capture: a retry arrives again
  // with the same webhook-id, so "3rd time" reads as the third attempt that got here.
  const arrival = useMemo(() => arrivalNumbers(captures ?? []), [captures]);

  if (bin.error) return <div class="page"><h1>{t('inspector.title')}</h1><ProblemBox problem={bin.error} onRetry={bin.reload} /></div>;
  if (!bin.data) return <div class="page"><h1>{t('inspector.title')}</h1><Loading /></div>;
  const b = bin.data;
  const selected = pinned ?? captures?.[0]?.id ?? null;
  const current = captures?.find((c) => c.id === selected) ?? null;

  return (
    <div class="page">
      <p class="crumbs"><a href="/inspector">{t('nav.inspector')}</a> /</p>
      <div class="page-head">
        <h1>{b.name || t('bin.untitled')} <StreamChip state={stream} /></h1>
        <div class="actions wrap">
          <a class="button secondary" href={`/webhooks/new?bin=${encodeURIComponent(id)}`}>{t('bin.createWebhook')}</a>
          <button type="button" class="secondary" disabled={exportAs.pending} onClick={() => exportAs.run('har')}>{t('bin.exportHar')}</button>
          <button type="button" class="secondary" disabled={exportAs.pending} onClick={() => exportAs.run('json')}>{t('bin.exportJson')}</button>
          <button type="button" class="secondary" disabled={clear.pending} onClick={() => clear.run()}>{t('bin.clear')}</button>
          <button type="button" class="danger" disabled={remove.pending} onClick={() => remove.run()}>{t('bin.delete')}</button>
        </div>
      </div>
      <div class="bin-url card">
        <span class="muted">{t('bins.url')}</span>
        <code class="break" id="bin-url">{b.url}</code>
        <CopyButton text={b.url} />
      </div>
      <ProblemBox problem={exportAs.problem ?? clear.problem ?? remove.problem ?? streamProblem} />
      <div class="split">
        <Section id="bin-requests" title={t('bin.requests')}>
          {listProblem ? <ProblemBox problem={listProblem} />
            : !captures ? <Loading />
            : captures.length === 0 ? <Empty>{t('bin.waiting')}</Empty>
            : (
              <>
                <p class="muted small follow">
                  {pinned ? <a href={`/inspector/${encodeURIComponent(id)}`}>{t('bin.followNewest')}</a> : t('bin.following')}
                </p>
                <ul class="capture-list" aria-live="polite" aria-label={t('bin.requests')}>
                  {captures.map((c) => {
                    const msgId = headerOf(c, 'webhook-id');
                    const n = arrival.get(c.id) ?? 1;
                    return (
                      <li key={c.id}>
                        <a href={`/inspector/${encodeURIComponent(id)}?request=${encodeURIComponent(c.id)}`} aria-current={c.id === selected ? 'true' : undefined}
                          class={`capture-row${arrived.has(c.id) ? ' is-new' : ''}`} data-capture={c.id}>
                          <span class="method">{c.method}</span>
                          <span class="path break">{c.path || '/'}{c.query ? `?${c.query}` : ''}</span>
                          <span class="meta">
                            <time dateTime={c.received_at}>{fmtTime(c.received_at, { seconds: true })}</time>
                            <span>{fmtBytes(c.size)}</span>
                            {c.response_status !== null && <Chip tone={c.response_status < 400 ? 'grey' : 'amber'}>→ {c.response_status}</Chip>}
                            <VerdictChip verdict={c.signature} compact />
                          </span>
                          {msgId && (
                            <span class="meta">
                              <code title="webhook-id">{msgId.length > 16 ? `${msgId.slice(0, 14)}…` : msgId}</code>
                              {n > 1 && <span data-arrival={n}>{t('capture.nthArrival', { n })}</span>}
                            </span>
                          )}
                        </a>
                      </li>
                    );
                  })}
                </ul>
              </>
            )}
        </Section>
        <div class="detail-pane">
          {selected && captures && !current
            ? <CaptureDetail binId={id} captureId={selected} binUrl={b.url} onDeleted={() => navigate(`/inspector/${encodeURIComponent(id)}`)} />
            : current ? <CaptureDetail key={current.id} binId={id} captureId={current.id} initial={current} binUrl={b.url} arrival={arrival.get(current.id) ?? 1}
                onDeleted={() => {
                  setCaptures((l) => (l ?? []).filter((c) => c.id !== current.id));
                  navigate(`/inspector/${encodeURIComponent(id)}`, { replace: true });
                }} />
            : <Section id="bin-detail" title={t('capture.title')}><Empty>{t('bin.choose')}</Empty></Section>}
        </div>
      </div>
      <BinSettings bin={b} onSaved={(nb) => bin.setData(nb)} />
      <p class="muted small">{t('bin.expiresAt')}: <When at={b.expires_at} /> · {t('bin.kept', { n: b.max_requests })}</p>
    </div>
  );
}

function arrivalNumbers(captures: Capture[]): Map<string, number> {
  const seen = new Map<string, number>();
  const out = new Map<string, number>();
  for (const c of [...captures].sort((a, b) => a.seq - b.seq)) {
    const msgId = headerOf(c, 'webhook-id');
    if (!msgId) continue;
    const n = (seen.get(msgId) ?? 0) + 1;
    seen.set(msgId, n);
    out.set(c.id, n);
  }
  return out;
}

function StreamChip({ state }: { state: StreamState }) {
  if (state === 'open') return <Chip tone="green"><span class="live-dot" aria-hidden="true" /> {t('bin.live')}</Chip>;
  if (state === 'connecting') return <Chip tone="amber">{t('bin.connecting')}</Chip>;
  return <Chip tone="grey">{t('bin.offline')}</Chip>;
}
