/** The landing page: deliveries per minute by outcome, and latency percentiles per webhook. */
import { useEffect, useState } from 'preact/hooks';
import { call, type Page } from '../api.js';
import { useApi } from '../hooks.js';
import { t } from '../i18n/index.js';
import type { Health, Webhook } from '../types.js';
import { LatencyChart, OutcomeChart, type LatencyRow, type MinuteBucket } from '../ui/charts.js';
import { Empty, Loading, ProblemBox, Section } from '../ui/common.js';

/** Health is one call per webhook: the chart shows the first ones, which is what fits anyway. */
const MAX_LATENCY_ROWS = 12;

export function Overview() {
  const stats = useApi<{ items: MinuteBucket[] }>('/api/stats/attempts', { refreshMs: 10_000 });
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
