/**
 * A disabled webhook says so first: why (translated), since when, how many events found it
 * disabled and were not delivered, and the two ways back: "Riattiva" (new events only) and
 * "Riattiva e recupera" (POST /webhooks/{id}/enable with recover: the skipped events get their
 * deliveries, and those failed by the disabling go again).
 */
import { useState } from 'preact/hooks';
import { call } from '../api.js';
import { useAction } from '../hooks.js';
import { t } from '../i18n/index.js';
import type { Webhook } from '../types.js';
import { ProblemBox, When } from '../ui/common.js';
import { DisabledReason } from '../ui/health.js';

interface EnableAnswer {
  webhook: Webhook;
  recovery: { created: number; resent: number; remaining: number } | null;
}

export function DisabledBanner({ w, onChanged }: { w: Webhook; onChanged: (w: Webhook) => void }) {
  const [done, setDone] = useState<EnableAnswer['recovery']>(null);
  const enable = useAction(async (recover: boolean) => {
    const r = await call<EnableAnswer>(`/api/webhooks/${encodeURIComponent(w.id)}/enable`, { method: 'POST', body: { recover } });
    setDone(r.recovery);
    onChanged(r.webhook);
  });
  if (w.active) {
    return done ? <p class="notice" role="status" data-recovered>{t('disabled.recovered', { created: done.created, resent: done.resent })}</p> : null;
  }
  const skipped = w.health?.skipped_events ?? 0;
  return (
    <section class="problem disabled-banner" aria-labelledby="disabled-title" data-disabled-banner>
      <h2 id="disabled-title">{t('webhook.disabledSince')} <When at={w.disabled_at} /></h2>
      <p>{t('disabled.why')}: <strong><DisabledReason reason={w.disabled_reason} /></strong></p>
      <p data-skipped={skipped}>{t('disabled.skipped', { n: skipped })}</p>
      <p class="small">{t('disabled.recoverHint')}</p>
      <div class="actions wrap">
        <button type="button" disabled={enable.pending} onClick={() => enable.run(true)}>{t('disabled.reenableRecover')}</button>
        <button type="button" class="secondary" disabled={enable.pending} onClick={() => enable.run(false)}>{t('disabled.reenable')}</button>
      </div>
      <ProblemBox problem={enable.problem} />
    </section>
  );
}
