/**
 * `links` of the application representation: the transitions the core's API offers from the
 * current status (`PraticaStatusService::TRANSITIONS_MAPPING`, `ApplicationDto::getAvailableTransitions`,
 * the descriptions of `ApplicationsAPIController`), each with the url
 * `<application url>/transition/<action>?version=N`.
 *
 * Two of the core's quirks are kept, because receivers see them:
 * - `register` is left out when the service does not require protocol registration, and
 *   `withdraw` when the service does not allow *reopening* (not "withdraw": the core reads
 *   `isAllowReopening()`, which defaults to false, so with default settings no status offers
 *   `withdraw`);
 * - the core removes them with `unset`, keeping the other keys: without `register`, 2000's list
 *   `[register, assign, withdraw]` is left with keys 1 and 2 and is written as the object
 *   `{"1": {…assign}, "2": {…withdraw}}`, not a list.
 */
import { defineOwn } from './php-json.js';

export const TRANSITION_DESCRIPTIONS = {
  submit: 'Submit Application',
  register: 'Register Application',
  assign: 'Assign Application',
  'request-integration': 'Request integration',
  'register-integration-request': 'Register integration request',
  'accept-integration': 'Accept integration',
  'register-integration-answer': 'Register integration answer',
  accept: 'Accept Application',
  reject: 'Reject Application',
  withdraw: 'Withdraw Application',
} as const;

export type TransitionAction = keyof typeof TRANSITION_DESCRIPTIONS;

/** Status → actions, in the core's order. Statuses not listed offer none. */
export const ACTIONS_BY_STATUS: Readonly<Record<number, readonly TransitionAction[]>> = {
  1000: ['submit'],
  2000: ['register', 'assign', 'withdraw'],
  3000: ['assign', 'withdraw'],
  4000: ['request-integration', 'accept', 'reject', 'withdraw'],
  4100: ['register-integration-request'],
  4200: ['accept-integration', 'withdraw'],
  4300: ['register-integration-answer'],
  7000: ['withdraw'],
  9000: ['withdraw'],
};

/** The two service settings that shape `links`. */
export interface LinkSettings {
  protocol_required: boolean;
  allow_reopening: boolean;
}

/** The core's column defaults (`servizio.protocol_required` 1, `allow_reopening` 0). */
export const DEFAULT_LINK_SETTINGS: Readonly<LinkSettings> = { protocol_required: true, allow_reopening: false };

export interface ApplicationLink {
  action: TransitionAction;
  description: string;
  url: string;
}

/**
 * The `links` value for an application in `status`: a list, or an object keyed by the original
 * positions when the first entry was removed. `applicationUrl` is the application's absolute url
 * (`<tenant base url>/api/applications/<id>`); without one the core's concatenation gives the
 * url relative to it (`/transition/…`), and so does this.
 */
export function applicationLinks(status: number, applicationUrl: string | null, version: number, settings: LinkSettings = DEFAULT_LINK_SETTINGS): ApplicationLink[] | Record<string, ApplicationLink> {
  const kept: [number, ApplicationLink][] = [];
  (ACTIONS_BY_STATUS[status] ?? []).forEach((action, i) => {
    if (action === 'register' && !settings.protocol_required) return;
    if (action === 'withdraw' && !settings.allow_reopening) return;
    kept.push([i, { action, description: TRANSITION_DESCRIPTIONS[action], url: `${applicationUrl ?? ''}/transition/${action}?version=${version}` }]);
  });
  if (kept.every(([i], position) => i === position)) return kept.map(([, link]) => link);
  const out: Record<string, ApplicationLink> = {};
  for (const [i, link] of kept) defineOwn(out, String(i), link);
  return out;
}

/** The application url the core's links and file urls are built on, when one of them is at hand. */
export function applicationUrlFrom(doc: Record<string, unknown>): string | null {
  const urls: unknown[] = [];
  const collect = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(collect);
    else if (typeof v === 'object' && v !== null) urls.push((v as Record<string, unknown>).url);
  };
  collect(Array.isArray(doc.links) ? doc.links : typeof doc.links === 'object' && doc.links !== null ? Object.values(doc.links) : []);
  collect(doc.compiled_modules);
  collect(doc.outcome_file);
  collect(doc.attachments);
  for (const url of urls) {
    const m = typeof url === 'string' ? /^(https?:\/\/.+?\/api\/applications\/[^/?#]+)\/(?:transition|attachments)\//.exec(url) : null;
    if (m) return m[1];
  }
  return null;
}
