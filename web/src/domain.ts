/**
 * The pure rules the dashboard shares with the server, imported rather than copied, so the two
 * cannot drift: the status codes and transition table (statuses.ts), the event types and which
 * webhooks an event fires (events.ts, matching.ts). These modules import nothing but each other
 * (no Node API), so Vite bundles them like any other module; `domain/` is the inner layer every
 * edge (http, cli, web) may use. Kept behind this one file: a move of src/domain is one edit here.
 */
export { STATUS_CODES, TRANSITIONS, statusName } from '../../src/domain/statuses.js';
export { EVENT_TYPES as DOMAIN_EVENTS, SUBSCRIBABLE_EVENT_TYPES } from '../../src/domain/events.js';
export { matches, type MatchableEvent, type Subscription } from '../../src/domain/matching.js';
