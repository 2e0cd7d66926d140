/**
 * Which webhooks an event fires. OpenCity's own rule (the core's WebhookApplicationListener),
 * kept for drop-in compatibility: `trigger` = `all` fires on every status change (creation
 * included) and on every new message; a status code fires each time the application's status
 * is set to it, a same-status change (4000 → 4000) included; `message_created` fires on every
 * new message. The service filter
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
  if (event.type === EVENT_TYPES.messageCreated) return trigger === 'message_created' || trigger === 'all';
  if (trigger === 'message_created') return false;
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
