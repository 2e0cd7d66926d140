/** Resend every failed delivery of a webhook created in a time window (POST /webhooks/:id/recover). */
import { useState } from 'preact/hooks';
import { ApiProblem, call } from '../api.js';
import { useAction } from '../hooks.js';
import { isoToRomeInput, romeInputToIso, t } from '../i18n/index.js';
import type { Webhook } from '../types.js';
import { Field, fieldAttrs, FormProblem } from '../ui/common.js';

export function RecoverForm({ webhookId, webhooks, onDone }: { webhookId?: string; webhooks?: Webhook[]; onDone?: () => void }) {
  const now = Date.now();
  const [hook, setHook] = useState(webhookId ?? webhooks?.[0]?.id ?? '');
  const [since, setSince] = useState(isoToRomeInput(now - 24 * 3600_000));
  const [until, setUntil] = useState('');
  const [done, setDone] = useState<number | null>(null);
  const recover = useAction(async () => {
    if (!hook) throw new ApiProblem(400, '', t('recover.chooseWebhook'), 'webhook_id');
    const s = romeInputToIso(since);
    if (!s) throw new ApiProblem(400, '', t('recover.badTime'), 'since');
    const u = until ? romeInputToIso(until) : null;
    if (until && !u) throw new ApiProblem(400, '', t('recover.badTime'), 'until');
    return call<{ recovered: number }>(`/api/webhooks/${encodeURIComponent(hook)}/recover`, { method: 'POST', body: u ? { since: s, until: u } : { since: s } });
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
      <Field id="rec-since" label={t('recover.since')} name="since" problem={p}>
        <input {...fieldAttrs('rec-since', p, 'since')} type="datetime-local" value={since} onInput={(e) => setSince(e.currentTarget.value)} />
      </Field>
      <Field id="rec-until" label={t('recover.until')} name="until" problem={p} hint={t('recover.untilHint')}>
        <input {...fieldAttrs('rec-until', p, 'until', true)} type="datetime-local" value={until} onInput={(e) => setUntil(e.currentTarget.value)} />
      </Field>
      <button type="submit" disabled={recover.pending}>{t('action.recover')}</button>
      <FormProblem problem={p} fields={['since', 'until', 'webhook_id']} />
      {done !== null && <p class="notice full" role="status">{t('recover.done', { n: done })}</p>}
    </form>
  );
}
