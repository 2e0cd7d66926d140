/**
 * The application (pratica) document messo keeps, and how it changes.
 *
 * One canonical document per application: the core's **version-1** representation (the body
 * its producer posts), every field present, with two differences that never reach the wire:
 * `status` is held as a number (the stores index it; it is rendered as the core's string), and
 * two keys of messo's own say what `links` are built from when messo itself moves the pratica:
 * `application_url` (the application's absolute url in the API that serves it) and
 * `link_settings` (the service's `protocol_required` / `allow_reopening`). `data` and
 * `backoffice_data` are the flat version-1 maps of form-data.ts; version 2 is derived from them
 * when rendering (representation.ts).
 *
 * Events carry the whole document as it was after the change, so the projection can be rebuilt
 * from the log and a delivery body can be frozen at the moment the event happened. Documents
 * stored before this representation (nested `data`, numeric `status`, no `application_url`) are
 * still read: everything here and in representation.ts accepts them.
 */
import {
  APPLICATION_FIELDS, LIST_FIELDS, normalizeAuthentication, normalizePaymentData, TIME_PAIRS, type ApplicationDoc,
} from './application-fields.js';
import { formatRome, parseTime, unixSeconds } from './dates.js';
import { flattenFormData } from './form-data.js';
import { applicationLinks, applicationUrlFrom, DEFAULT_LINK_SETTINGS, type LinkSettings } from './links.js';
import { isPlainObject } from './php-json.js';
import { statusName } from './statuses.js';

export {
  APPLICATION_FIELDS, LIST_FIELDS, normalizeAuthentication, normalizePaymentData, TIME_PAIRS, type ApplicationDoc,
} from './application-fields.js';
export { renderApplication, type RepresentationVersion } from './representation.js';

/** Sets both members of a time pair from milliseconds (or clears them with null). */
function setTime(doc: Record<string, unknown>, unixField: string, isoField: string, ms: number | null): void {
  doc[unixField] = ms === null ? null : unixSeconds(ms);
  doc[isoField] = ms === null ? null : formatRome(ms);
}

function linkSettingsOf(input: unknown): LinkSettings {
  const s = isPlainObject(input) ? input : {};
  return {
    protocol_required: typeof s.protocol_required === 'boolean' ? s.protocol_required : DEFAULT_LINK_SETTINGS.protocol_required,
    allow_reopening: typeof s.allow_reopening === 'boolean' ? s.allow_reopening : DEFAULT_LINK_SETTINGS.allow_reopening,
  };
}

/**
 * Completes a document from any partial input (the core's version-1 body, a stored document,
 * messo's own fields): every field present, `data` flat, time pairs consistent (either member may
 * be given), `status` a number (`"2000"` accepted), `status_name` kept or derived, `authentication`
 * the nine keys, `payment_data` `[]` when empty. `links` are kept as given (the core's own, for a
 * snapshot it sent); `application_url` is kept or read off the urls of links and files.
 */
export function normalizeApplication(input: Record<string, unknown>): ApplicationDoc {
  const doc: Record<string, unknown> = {};
  for (const field of APPLICATION_FIELDS) {
    const v = input[field];
    doc[field] = v === undefined || (LIST_FIELDS.has(field) && v === null) ? (LIST_FIELDS.has(field) ? [] : null) : v;
  }
  doc.data = flattenFormData(input.data);
  doc.backoffice_data = input.backoffice_data === null || input.backoffice_data === undefined ? null : flattenFormData(input.backoffice_data);
  for (const [unixField, isoField] of TIME_PAIRS) {
    const ms = parseTime(input[unixField]) ?? parseTime(input[isoField]);
    setTime(doc, unixField, isoField, ms);
  }
  if (typeof input.flow_changed_at === 'string' || typeof input.flow_changed_at === 'number') {
    const ms = parseTime(input.flow_changed_at);
    doc.flow_changed_at = ms === null ? null : formatRome(ms);
  }
  doc.status = Number(input.status);
  doc.status_name = typeof input.status_name === 'string' && input.status_name !== '' ? input.status_name : statusName(doc.status as number);
  doc.authentication = normalizeAuthentication(input.authentication);
  doc.payment_data = normalizePaymentData(input.payment_data);
  doc.application_url = typeof input.application_url === 'string' ? input.application_url : applicationUrlFrom(doc);
  doc.link_settings = linkSettingsOf(input.link_settings);
  return doc as ApplicationDoc;
}

export interface ServiceRef {
  id: string;
  slug: string;
  name: string;
  group_name: string | null;
  /** Whether pratiche of the service are registered in the protocol (the core's default: true). */
  protocol_required?: boolean | null;
  /** The core's `allow_reopening` (default false), which also decides whether `withdraw` is offered. */
  allow_reopening?: boolean | null;
}

export interface NewApplicationInput {
  id: string;
  tenantId: string;
  service: ServiceRef;
  status: number;
  nowMs: number;
  /** The url the application is served at (`<public url>/api/applications/<id>`): the base of `links`. */
  applicationUrl: string | null;
  fields: Record<string, unknown>;
}

/** A new application created through messo's own API, with the links its status offers. */
export function createApplication(input: NewApplicationInput): ApplicationDoc {
  const { fields, nowMs, service } = input;
  const submitted = input.status >= 1900;
  const link_settings = linkSettingsOf({ protocol_required: service.protocol_required, allow_reopening: service.allow_reopening });
  return normalizeApplication({
    ...fields,
    id: input.id,
    tenant: input.tenantId,
    service: service.slug,
    service_id: service.id,
    service_name: service.name,
    service_group_name: service.group_name,
    status: input.status,
    creation_time: nowMs / 1000,
    submission_time: submitted ? nowMs / 1000 : null,
    latest_status_change_time: nowMs / 1000,
    application_url: input.applicationUrl,
    link_settings,
    links: applicationLinks(input.status, input.applicationUrl, 1, link_settings),
  });
}

export interface TransitionInput {
  to: number;
  nowMs: number;
  protocol_number?: string | null;
  protocol_document_id?: string | null;
  outcome_motivation?: string | null;
  /** Used for `links` when the document does not know its url yet (documents stored before it did). */
  applicationUrl?: string | null;
}

/**
 * The document after a status change. Times follow the platform: submission time is set on the
 * first move to "inviata"/"acquisita", protocol time when a protocol number is given, and the
 * outcome when the pratica is accepted (7000) or rejected (9000). `links` become those of the
 * new status.
 */
export function applyTransition(doc: ApplicationDoc, t: TransitionInput): ApplicationDoc {
  const next = normalizeApplication(structuredClone(doc));
  next.status = t.to;
  next.status_name = statusName(t.to);
  setTime(next, 'latest_status_change_time', 'latest_status_change_at', t.nowMs);
  if ((t.to === 1900 || t.to === 2000) && next.submission_time === null) {
    setTime(next, 'submission_time', 'submitted_at', t.nowMs);
  }
  if (t.protocol_number) {
    next.protocol_number = t.protocol_number;
    next.protocol_document_id = t.protocol_document_id ?? next.protocol_document_id ?? null;
    setTime(next, 'protocol_time', 'protocolled_at', t.nowMs);
  }
  if (t.to === 7000) next.outcome = true;
  if (t.to === 9000) next.outcome = false;
  // Re-opening (7000/9000/20000 → 4000) takes the decision back.
  if (t.to === 4000 && [7000, 9000, 20000].includes(doc.status)) {
    next.outcome = null;
    next.outcome_motivation = null;
  }
  if (t.outcome_motivation !== undefined) next.outcome_motivation = t.outcome_motivation;
  next.application_url = next.application_url ?? t.applicationUrl ?? null;
  next.links = applicationLinks(t.to, next.application_url, 1, next.link_settings);
  return next;
}
