/** Resend every failed delivery of a webhook created in a time window (POST /webhooks/:id/recover). */
import { useState } from 'preact/hooks';
import { ApiProblem, call } from '../api.js';
import { useAction } from '../hooks.js';
import { dateInputPattern, formatDateInput, parseDateInput, t } from '../i18n/index.js';
import type { Recovered, Webhook } from '../types.js';
import { DateField, Field, fieldAttrs, FormProblem } from '../ui/common.js';

export function RecoverForm({ webhookId, webhooks, onDone }: { webhookId?: string; webhooks?: Webhook[]; onDone?: () => void }) {
  const now = Date.now();
  const [hook, setHook] = useState(webhookId ?? webhooks?.[0]?.id ?? '');
  const [since, setSince] = useState(formatDateInput(now - 24 * 3600_000));
  const [until, setUntil] = useState('');
  const [done, setDone] = useState<number | null>(null);
  const recover = useAction(async () => {
    if (!hook) throw new ApiProblem(400, '', t('recover.chooseWebhook'), 'webhook_id');
    const bad = t('date.invalid', { pattern: dateInputPattern() });
    const s = parseDateInput(since);
    if (!s) throw new ApiProblem(400, '', bad, 'since');
    const u = until.trim() ? parseDateInput(until) : null;
    if (until.trim() && !u) throw new ApiProblem(400, '', bad, 'until');
    return call<Recovered>(`/api/webhooks/${encodeURIComponent(hook)}/recover`, { method: 'POST', body: u ? { since: s, until: u } : { since: s } });
  });
  const submit = async (e: Event) => {
    e.preventDefault();
    setDone(null);
    const r = await recover.run();
    if (r) {
      setDone(r.recovered);
      onDone?.();
    }
  };
  const p = recover.problem;
  return (
    <form class="inline-form" onSubmit={submit} noValidate>
      <p class="muted small full">{t('recover.hint')}</p>
      {!webhookId && (
        <Field id="rec-webhook" label={t('field.webhook')} name="webhook_id" problem={p}>
          <select {...fieldAttrs('rec-webhook', p, 'webhook_id')} value={hook} onChange={(e) => setHook(e.currentTarget.value)}>
            {(webhooks ?? []).map((w) => <option key={w.id} value={w.id}>{w.title}</option>)}
          </select>
        </Field>
      )}
      <DateField id="rec-since" label={t('recover.since')} name="since" problem={p} value={since} onInput={setSince} />
      <DateField id="rec-until" label={t('recover.until')} name="until" problem={p} value={until} onInput={setUntil} hint={t('recover.untilHint')} />
      <button type="submit" disabled={recover.pending}>{t('action.recover')}</button>
      <FormProblem problem={p} fields={['since', 'until', 'webhook_id']} />
      {done !== null && <p class="notice full" role="status">{t('recover.done', { n: done })}</p>}
    </form>
  );
}
