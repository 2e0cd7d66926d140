/**
 * Two hand-drawn SVG charts (no chart library: ~150 lines beat a 60 KB dependency here).
 * Each has a text alternative: an aria-label summary and the numbers in a hidden table.
 */
import { fmtNumber, fmtTime, t } from '../i18n/index.js';
import type { MinuteBucket } from '../types.js';

export type { MinuteBucket };

const W = 640;

/** Stacked bars per minute (successes under failures) over the last `minutes` minutes. */
export function OutcomeChart({ items, minutes = 60, now = Date.now(), deliveries = false }: { items: MinuteBucket[]; minutes?: number; now?: number; deliveries?: boolean }) {
  // Consegne are feminine in Italian, tentativi masculine: each series says its own word.
  const okLabel = t(deliveries ? 'chart.delivered' : 'chart.success');
  const koLabel = t(deliveries ? 'chart.deliveryFailed' : 'chart.failure');
  const end = Math.floor(now / 60_000) * 60_000;
  const byMinute = new Map(items.map((b) => [Math.floor(Date.parse(b.minute) / 60_000) * 60_000, b]));
  const slots = Array.from({ length: minutes }, (_, i) => {
    const at = end - (minutes - 1 - i) * 60_000;
    const b = byMinute.get(at);
    return { at, success: b?.success ?? 0, failure: b?.failure ?? 0 };
  });
  const max = Math.max(1, ...slots.map((s) => s.success + s.failure));
  const H = 160;
  const top = 10;
  const left = 34;
  const bottom = 22;
  const plotH = H - top - bottom;
  const bw = (W - left - 4) / minutes;
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const totals = slots.reduce((a, s) => ({ s: a.s + s.success, f: a.f + s.failure }), { s: 0, f: 0 });
  const summary = t(deliveries ? 'chart.deliveries.summary' : 'chart.outcomes.summary', { minutes, success: totals.s, failure: totals.f });
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary} preserveAspectRatio="xMidYMid meet">
        <line x1={left} x2={W} y1={y(0)} y2={y(0)} class="axis" />
        <line x1={left} x2={W} y1={y(max)} y2={y(max)} class="grid" />
        <text x={left - 4} y={y(max) + 4} class="tick" text-anchor="end">{fmtNumber(max)}</text>
        <text x={left - 4} y={y(0) + 4} class="tick" text-anchor="end">0</text>
        {slots.map((s, i) => {
          const x = left + i * bw + 0.5;
          const hs = (s.success / max) * plotH;
          const hf = (s.failure / max) * plotH;
          return (
            <g key={s.at}>
              {s.success > 0 && <rect x={x} width={Math.max(1, bw - 1)} y={y(0) - hs} height={hs} class="bar-success"><title>{`${fmtTime(s.at)} · ${okLabel}: ${s.success}`}</title></rect>}
              {s.failure > 0 && <rect x={x} width={Math.max(1, bw - 1)} y={y(0) - hs - hf} height={hf} class="bar-failure"><title>{`${fmtTime(s.at)} · ${koLabel}: ${s.failure}`}</title></rect>}
              {i % 10 === 0 && <text x={x} y={H - 6} class="tick">{fmtTime(s.at)}</text>}
            </g>
          );
        })}
      </svg>
      <figcaption class="legend">
        <span><i class="sw bar-success" aria-hidden="true" />{okLabel} ({totals.s})</span>
        <span><i class="sw bar-failure" aria-hidden="true" />{koLabel} ({totals.f})</span>
      </figcaption>
    </figure>
  );
}

export interface LatencyRow {
  id: string;
  label: string;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** p50 / p95 / p99 per webhook as three thin horizontal bars on one shared scale. */
export function LatencyChart({ rows }: { rows: LatencyRow[] }) {
  const values = rows.flatMap((r) => [r.p50, r.p95, r.p99]).filter((v): v is number => v !== null);
  const max = Math.max(1, ...values);
  const rowH = 40;
  const left = 8;
  const H = rows.length * rowH + 8;
  const x = (v: number) => (v / max) * (W - left - 80);
  const keys = ['p50', 'p95', 'p99'] as const;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={t('chart.latency.summary', { n: rows.length })}>
        {rows.map((r, i) => (
          <g key={r.id} transform={`translate(0 ${i * rowH + 4})`}>
            <text x={left} y={9} class="tick label">{r.label}</text>
            {keys.map((k, j) => {
              const v = r[k];
              return (
                <g key={k}>
                  <rect x={left} y={13 + j * 8} height={6} width={v === null ? 0 : Math.max(1, x(v))} class={`bar-${k}`}><title>{`${r.label} · ${k}: ${v === null ? '—' : `${fmtNumber(v)} ms`}`}</title></rect>
                  <text x={left + (v === null ? 0 : x(v)) + 4} y={19 + j * 8} class="tick">{v === null ? '—' : `${fmtNumber(v)} ms`}</text>
                </g>
              );
            })}
          </g>
        ))}
      </svg>
      <figcaption class="legend">
        {keys.map((k) => <span key={k}><i class={`sw bar-${k}`} aria-hidden="true" />{k}</span>)}
      </figcaption>
      {/* Hidden by a wrapper, not on the table itself: a table ignores width: 1px and overflow, so a
          hidden table still widened the page to 583 px on a 360 px phone. */}
      <div class="visually-hidden">
        <table>
          <caption>{t('chart.latency.title')}</caption>
          <thead><tr><th scope="col">{t('field.webhook')}</th>{keys.map((k) => <th key={k} scope="col">{k} (ms)</th>)}</tr></thead>
          <tbody>{rows.map((r) => <tr key={r.id}><th scope="row">{r.label}</th>{keys.map((k) => <td key={k}>{r[k] ?? '—'}</td>)}</tr>)}</tbody>
        </table>
      </div>
    </figure>
  );
}
