/**
 * The landing page: first what needs fixing (failing and disabled webhooks, linked to their
 * deliveries), then deliveries finished per minute by outcome, attempts per minute apart, and
 * latency percentiles per webhook.
 */
import { useEffect, useState } from 'preact/hooks';
import { call, type Page } from '../api.js';
import { useApi } from '../hooks.js';
import { fmtTime, t } from '../i18n/index.js';
import { disabledReasonText } from '../ui/health.js';
import type { Health, Webhook } from '../types.js';
import { LatencyChart, OutcomeChart, type LatencyRow, type MinuteBucket } from '../ui/charts.js';
import { Empty, Loading, ProblemBox, Section } from '../ui/common.js';

/** Health is one call per webhook: the chart shows the first ones, which is what fits anyway. */
const MAX_LATENCY_ROWS = 12;

export function Overview() {
  const deliveries = useApi<{ items: MinuteBucket[] }>('/api/stats/deliveries', { refreshMs: 10_000 });
  const stats = useApi<{ items: MinuteBucket[] }>('/api/stats/attempts', { refreshMs: 10_000 });
  const all = useApi<Page<Webhook>>('/api/webhooks?limit=500', { refreshMs: 15_000 });
  const hooks = useApi<Page<Webhook>>(`/api/webhooks?limit=${MAX_LATENCY_ROWS}`);
  const [latency, setLatency] = useState<LatencyRow[] | null>(null);
  const [latencyProblem, setLatencyProblem] = useState<unknown>(null);

  useEffect(() => {
    if (!hooks.data) return;
    const ac = new AbortController();
    Promise.all(hooks.data.items.map(async (w) => {
      const h = await call<Health>(`/api/webhooks/${encodeURIComponent(w.id)}/health`, { signal: ac.signal });
      return { id: w.id, label: w.title, ...h.last_24h.latency_ms };
    })).then(setLatency, (err) => {
      if ((err as Error).name !== 'AbortError') setLatencyProblem(err);
    });
    return () => ac.abort();
  }, [hooks.data]);

  return (
    <div class="page">
      <h1>{t('overview.title')}</h1>
      <FixPanel hooks={all} />
      <Section id="chart-deliveries" title={t('chart.deliveries.title')}>
        <p class="muted small">{t('chart.deliveries.hint')}</p>
        {deliveries.error ? <ProblemBox problem={deliveries.error} onRetry={deliveries.reload} />
          : !deliveries.data ? <Loading />
          : deliveries.data.items.length === 0 ? <><OutcomeChart items={[]} deliveries /><Empty>{t('chart.deliveries.empty')}</Empty></>
          : <OutcomeChart items={deliveries.data.items} deliveries />}
      </Section>
      <Section id="chart-outcomes" title={t('chart.outcomes.title')}>
        <p class="muted small">{t('chart.outcomes.hint')}</p>
        {stats.error ? <ProblemBox problem={stats.error} onRetry={stats.reload} />
          : !stats.data ? <Loading />
          : stats.data.items.length === 0 ? <><OutcomeChart items={[]} /><Empty>{t('chart.outcomes.empty')}</Empty></>
          : <OutcomeChart items={stats.data.items} />}
      </Section>
      <Section id="chart-latency" title={t('chart.latency.title')}>
        <p class="muted small">{t('chart.latency.hint')}</p>
        {hooks.error || latencyProblem ? <ProblemBox problem={hooks.error ?? latencyProblem} onRetry={hooks.reload} />
          : !hooks.data || (hooks.data.items.length > 0 && !latency) ? <Loading />
          : hooks.data.items.length === 0 ? <Empty>{t('webhooks.empty')} <a href="/webhooks/new">{t('webhooks.new')}</a></Empty>
          : latency!.every((r) => r.p50 === null) ? <Empty>{t('chart.latency.empty')}</Empty>
          : <LatencyChart rows={latency!} />}
      </Section>
    </div>
  );
}

/** Failing and disabled webhooks, each with links to the deliveries that need a hand. */
function FixPanel({ hooks }: { hooks: ReturnType<typeof useApi<Page<Webhook>>> }) {
  const broken = (hooks.data?.items ?? []).filter((w) => w.health && w.health.state !== 'ok');
  const link = (w: Webhook, status: string) => `/deliveries?webhook_id=${encodeURIComponent(w.id)}&status=${status}`;
  return (
    <Section id="to-fix" title={t('fix.title')}>
      {hooks.error ? <ProblemBox problem={hooks.error} onRetry={hooks.reload} />
        : !hooks.data ? <Loading />
        : broken.length === 0 ? <p data-fix="none">{t('fix.none')}</p>
        : (
          <ul class="fix-list" data-fix={broken.length}>
            {broken.map((w) => (
              <li key={w.id} data-fix-webhook={w.id}>
                <a href={`/webhooks/${encodeURIComponent(w.id)}`}>
                  {w.health!.state === 'failing'
                    ? t('fix.failing', { title: w.title, since: w.health!.failing_since ? fmtTime(w.health!.failing_since) : '—', n: w.health!.failures })
                    : t('fix.disabled', { title: w.title, reason: disabledReasonText(w.health!.disabled_reason, true).text, n: w.health!.skipped_events })}
                </a>
                {' · '}<a href={link(w, 'pending')}>{t('fix.seeRetrying')}</a>
                {' · '}<a href={link(w, 'failed')}>{t('fix.seeFailed')}</a>
              </li>
            ))}
          </ul>
        )}
    </Section>
  );
}
