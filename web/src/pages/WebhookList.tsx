/** Webhooks of the tenant: what they listen to, where they send, and whether they are on. */
import { usePaged } from '../hooks.js';
import { t, tMaybe } from '../i18n/index.js';
import type { Webhook } from '../types.js';
import { Chip, Empty, Loading, LoadMore, ProblemBox, statusLabel } from '../ui/common.js';

export function triggerText(w: Pick<Webhook, 'trigger' | 'events'>): string {
  if (w.events.length > 0) return w.events.join(', ');
  if (w.trigger === 'all') return t('trigger.all');
  if (w.trigger === 'message_created') return t('trigger.message_created');
  if (w.trigger && /^\d+$/.test(w.trigger)) return `${w.trigger} · ${statusLabel(Number(w.trigger))}`;
  return '—';
}

/**
 * On or off. Whether a webhook was turned off by its owner or by messo (410, failing too long)
 * is only in `disabled_reason`, free English text; it is shown on the webhook's page, not
 * guessed from the words here (a `disabled_code` from the API would allow a chip per cause).
 */
export function WebhookState({ w }: { w: Pick<Webhook, 'active'> }) {
  if (w.active) return <Chip tone="green">{t('webhook.active')}</Chip>;
  return <Chip tone="grey">{t('webhook.inactive')}</Chip>;
}

export function WebhookList() {
  const list = usePaged<Webhook>('/api/webhooks?limit=50');
  const items = list.items ?? [];
  return (
    <div class="page">
      <div class="page-head">
        <h1>{t('webhooks.title')}</h1>
        <a class="button" href="/webhooks/new">{t('webhooks.new')}</a>
      </div>
      {list.error ? <ProblemBox problem={list.error} onRetry={list.reload} />
        : !list.items ? <Loading />
        : items.length === 0 ? <Empty>{t('webhooks.empty')}</Empty>
        : (
          <div class="table-wrap">
            <table class="list">
              <thead><tr><th scope="col">{t('field.title')}</th><th scope="col">{t('field.endpoint')}</th><th scope="col">{t('field.trigger')}</th><th scope="col">{t('field.format')}</th><th scope="col">{t('webhook.onOff')}</th></tr></thead>
              <tbody>
                {items.map((w) => (
                  <tr key={w.id}>
                    <td data-label={t('field.title')}><a href={`/webhooks/${encodeURIComponent(w.id)}`}>{w.title}</a></td>
                    <td data-label={t('field.endpoint')} class="break"><code>{w.method} {w.endpoint}</code></td>
                    <td data-label={t('field.trigger')}>{triggerText(w)}</td>
                    <td data-label={t('field.format')}>{tMaybe(`format.${w.format}`, w.format)} · v{w.version}</td>
                    <td data-label={t('webhook.onOff')}><WebhookState w={w} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      <ProblemBox problem={list.moreProblem} />
      <LoadMore cursor={list.next} loading={list.loadingMore} onClick={list.loadMore} />
    </div>
  );
}
