/**
 * A webhook's health in words: "In errore dal 20:08 · 36 fallite", "Disattivato: 410". The
 * API's disabled_reason is free English text written by messo; the causes messo itself writes
 * are recognised and translated, anything else is shown as it is, marked as English.
 */
import type { WebhookHealth } from '../types.js';
import { fmtTime, t } from '../i18n/index.js';
import { Chip } from './common.js';

/** The reason a webhook was disabled, in the interface language; `short` for chips. */
export function disabledReasonText(reason: string | null, short = false): { text: string; known: boolean } {
  if (!reason) return { text: '—', known: true };
  if (/\b410\b/.test(reason)) return { text: t(short ? 'disabled.goneShort' : 'disabled.gone'), known: true };
  const failing = /^no successful delivery for (.+)$/.exec(reason);
  if (failing) return { text: short ? t('disabled.failingShort') : t('disabled.failing', { window: failing[1] }), known: true };
  if (/by the user$/.test(reason)) return { text: t(short ? 'disabled.userShort' : 'disabled.user'), known: true };
  return { text: reason, known: false };
}

export function DisabledReason({ reason, short = false }: { reason: string | null; short?: boolean }) {
  const r = disabledReasonText(reason, short);
  return r.known ? <span>{r.text}</span> : <span lang="en">{r.text}</span>;
}

/** The chip the webhook list and page show. */
export function HealthChip({ h, active }: { h: WebhookHealth | undefined; active: boolean }) {
  if (!h) return active ? <Chip tone="green">{t('webhook.active')}</Chip> : <Chip tone="grey">{t('webhook.inactive')}</Chip>;
  if (h.state === 'disabled') {
    return <span class="chip tone-grey" data-health="disabled">{t('health.disabledShort', { reason: disabledReasonText(h.disabled_reason, true).text })}</span>;
  }
  if (h.state === 'failing') {
    return <span class="chip tone-red" data-health="failing">{t('health.failingSinceCount', { since: h.failing_since ? fmtTime(h.failing_since) : '—', n: h.failures })}</span>;
  }
  return <span class="chip tone-green" data-health="ok">{t('health.ok')}</span>;
}
