/** Webhooks of the tenant: what they listen to, where they send, and their health (failing, disabled and why). */
import { usePaged } from '../hooks.js';
import { t, tMaybe } from '../i18n/index.js';
import type { Webhook } from '../types.js';
import { statusLabel } from '../ui/common.js';
import { PagedTable } from '../ui/list.js';
import { HealthChip } from '../ui/health.js';

export function triggerText(w: Pick<Webhook, 'trigger' | 'events'>): string {
  if (w.events.length > 0) return w.events.join(', ');
  if (w.trigger === 'all') return t('trigger.all');
  if (w.trigger === 'message_created') return t('trigger.message_created');
  if (w.trigger && /^\d+$/.test(w.trigger)) return `${w.trigger} · ${statusLabel(Number(w.trigger))}`;
  return '—';
}

/** Its health from the API: working, failing since when with how many failures, or disabled and why. */
export function WebhookState({ w }: { w: Pick<Webhook, 'active' | 'health'> }) {
  return <HealthChip h={w.health} active={w.active} />;
}

export function WebhookList() {
  const list = usePaged<Webhook>('/api/webhooks?limit=50', { refreshMs: 15_000 });
  return (
    <div class="page">
      <div class="page-head">
        <h1>{t('webhooks.title')}</h1>
        <a class="button" href="/webhooks/new">{t('webhooks.new')}</a>
      </div>
      <PagedTable list={list} empty={t('webhooks.empty')} onRetry={list.reload}
        head={<><th scope="col">{t('field.title')}</th><th scope="col">{t('field.endpoint')}</th><th scope="col">{t('field.trigger')}</th><th scope="col">{t('field.format')}</th><th scope="col">{t('health.column')}</th></>}
        row={(w) => (
          <tr key={w.id}>
            <td data-label={t('field.title')}><a href={`/webhooks/${encodeURIComponent(w.id)}`}>{w.title}</a></td>
            <td data-label={t('field.endpoint')} class="break"><code>{w.method} {w.endpoint}</code></td>
            <td data-label={t('field.trigger')}>{triggerText(w)}</td>
            <td data-label={t('field.format')}>{tMaybe(`format.${w.format}`, w.format)} · v{w.version}</td>
            <td data-label={t('health.column')} data-webhook-health={w.id}><WebhookState w={w} /></td>
          </tr>
        )} />
    </div>
  );
}
