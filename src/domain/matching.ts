/**
 * Which webhooks an event fires. OpenCity's own rule, kept for drop-in compatibility:
 * `trigger` = `all` fires on every status change (creation included), a status code fires when
 * the application enters that status, `message_created` on new messages; the service filter
 * (`filters`: service ids or `all`) applies to all of them. messo adds `events`: explicit event
 * types (`application.*` style wildcards allowed), used instead of `trigger` when non-empty.
 */
import { EVENT_TYPES, eventServiceId, eventStatus } from './events.js';

export interface Subscription {
  active: boolean;
  trigger: string | null;
  events: string[];
  filters: 'all' | string[];
}

export interface MatchableEvent {
  type: string;
  data: Record<string, unknown>;
}

function typeMatches(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

function triggerMatches(trigger: string, event: MatchableEvent): boolean {
  if (trigger === 'message_created') return event.type === EVENT_TYPES.messageCreated;
  const status = eventStatus(event.type, event.data);
  if (status === null) return false;
  return trigger === 'all' || Number(trigger) === status;
}

export function matches(sub: Subscription, event: MatchableEvent): boolean {
  if (!sub.active) return false;
  const byType = sub.events.length > 0
    ? sub.events.some((p) => typeMatches(p, event.type))
    : sub.trigger !== null && triggerMatches(sub.trigger, event);
  if (!byType) return false;
  if (sub.filters === 'all') return true;
  const serviceId = eventServiceId(event.data);
  // Events about no service (webhook.disabled…) are not narrowed by a service filter.
  return serviceId === null || sub.filters.includes(serviceId);
}
