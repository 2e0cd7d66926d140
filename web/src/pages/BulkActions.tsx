/**
 * Acting on many deliveries at once: on the selected rows or on everything the filters match.
 * Always two steps: the API counts first (dry_run), the operator confirms the number, then the
 * action runs. "Riprova ora" takes pending (retrying) deliveries, "Invia di nuovo" finished ones.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { call } from '../api.js';
import { useAction } from '../hooks.js';
import { t } from '../i18n/index.js';
import { ProblemBox } from '../ui/common.js';

type Action = 'retry_now' | 'resend';
interface Target { ids?: string[]; filter?: Record<string, string> }
interface Answer { count: number }

export function BulkActions({ selected, filter, onDone }: { selected: string[]; filter: Record<string, string>; onDone: () => void }) {
  const [pending, setPending] = useState<{ action: Action; target: Target; count: number } | null>(null);
  const [done, setDone] = useState<number | null>(null);
  const confirmRef = useRef<HTMLParagraphElement>(null);
  const cleanFilter = Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== ''));
  const count = useAction(async (action: Action, target: Target) => {
    setDone(null);
    const r = await call<Answer>('/api/deliveries/bulk', { method: 'POST', body: { action, ...target, dry_run: true } });
    setPending({ action, target, count: r.count });
  });
  const run = useAction(async () => {
    if (!pending) return;
    const r = await call<Answer>('/api/deliveries/bulk', { method: 'POST', body: { action: pending.action, ...pending.target } });
    setPending(null);
    setDone(r.count);
    onDone();
  });
  useEffect(() => { if (pending) confirmRef.current?.focus(); }, [pending]);
  const bySelection: Target = { ids: selected };
  const byFilter: Target = { filter: cleanFilter };
  return (
    <section class="bulk-bar card" aria-label={t('bulk.label')} data-bulk>
      <span class="muted">{t('bulk.selected', { n: selected.length })}</span>
      <span>{t('bulk.onSelection')}:</span>
      <button type="button" class="secondary small" data-bulk-action="retry_now-selection" disabled={selected.length === 0 || count.pending} onClick={() => count.run('retry_now', bySelection)}>{t('action.retryNow')}</button>
      <button type="button" class="secondary small" disabled={selected.length === 0 || count.pending} onClick={() => count.run('resend', bySelection)}>{t('action.resend')}</button>
      <span>{t('bulk.onFilter')}:</span>
      <button type="button" class="secondary small" data-bulk-action="retry_now-filter" disabled={count.pending} onClick={() => count.run('retry_now', byFilter)}>{t('action.retryNow')}</button>
      <button type="button" class="secondary small" disabled={count.pending} onClick={() => count.run('resend', byFilter)}>{t('action.resend')}</button>
      {pending && (
        <div class="confirm" data-confirm>
          <p ref={confirmRef} tabIndex={-1}>{pending.count === 0 ? t('bulk.none') : t(pending.action === 'retry_now' ? 'bulk.confirm.retry_now' : 'bulk.confirm.resend', { n: pending.count })}</p>
          <div class="form-actions">
            {pending.count > 0 && <button type="button" disabled={run.pending} onClick={() => run.run()}>{t('bulk.confirmYes')}</button>}
            <button type="button" class="secondary" onClick={() => setPending(null)}>{t('action.cancel')}</button>
          </div>
        </div>
      )}
      {done !== null && <p class="notice" role="status">{t('bulk.done', { n: done })}</p>}
      <ProblemBox problem={count.problem ?? run.problem} />
    </section>
  );
}
