/**
 * The application (pratica) representation of the OpenCity REST API.
 *
 * messo keeps one canonical document per application: the version-2 JSON (nested `data`),
 * with every field of DESIGN.md present (absent values are null, never missing). Version 1 is
 * derived from it by flattening `data` into dot-separated keys. Events carry the whole document
 * as it was after the change, so the projection can be rebuilt from the log and a delivery body
 * can be frozen at the moment the event happened.
 */
import { formatRome, parseTime, unixSeconds } from './dates.js';
import { statusName } from './statuses.js';

export type ApplicationDoc = Record<string, unknown> & {
  id: string;
  tenant: string;
  service_id: string;
  status: number;
  status_name: string | null;
  data: Record<string, unknown>;
};

/** Field order of the platform's JSON; rendering follows it so bodies diff cleanly. */
export const APPLICATION_FIELDS = [
  'id', 'user', 'user_name', 'tenant', 'service', 'service_id', 'service_name', 'service_group_name',
  'subject', 'data', 'backoffice_data', 'compiled_modules', 'attachments', 'outcome_file',
  'outcome_attachments', 'creation_time', 'created_at', 'submission_time', 'submitted_at',
  'latest_status_change_time', 'latest_status_change_at', 'protocol_folder_number',
  'protocol_folder_code', 'protocol_number', 'protocol_document_id', 'protocol_numbers',
  'protocol_time', 'protocolled_at', 'outcome', 'outcome_motivation', 'outcome_protocol_number',
  'outcome_protocol_document_id', 'outcome_protocol_numbers', 'outcome_protocol_time',
  'outcome_protocolled_at', 'payment_type', 'payment_data', 'status', 'status_name',
  'authentication', 'links', 'meetings', 'integrations', 'flow_changed_at', 'user_compilation_notes',
] as const;

const LIST_FIELDS = new Set(['compiled_modules', 'attachments', 'outcome_attachments', 'protocol_numbers', 'links', 'meetings', 'integrations']);

/** Pairs kept in step: a Unix integer and the same instant as a Rome date-time. */
export const TIME_PAIRS = [
  ['creation_time', 'created_at'],
  ['submission_time', 'submitted_at'],
  ['latest_status_change_time', 'latest_status_change_at'],
  ['protocol_time', 'protocolled_at'],
  ['outcome_protocol_time', 'outcome_protocolled_at'],
] as const;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `{"a.b": 1}` → `{"a": {"b": 1}}`; already nested input passes through unchanged. */
export function nestData(flat: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flat)) {
    const parts = key.split('.');
    let node = out;
    for (let i = 0; i < parts.length - 1; i++) {
      const existing = node[parts[i]];
      if (!isPlainObject(existing)) node[parts[i]] = {};
      node = node[parts[i]] as Record<string, unknown>;
    }
    const last = parts[parts.length - 1];
    node[last] = isPlainObject(value) && isPlainObject(node[last])
      ? { ...(node[last] as Record<string, unknown>), ...nestData(value) }
      : isPlainObject(value) ? nestData(value) : value;
  }
  return out;
}

/** `{"a": {"b": 1}}` → `{"a.b": 1}`. Arrays and empty objects are leaf values. */
export function flattenData(nested: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [key, value] of Object.entries(nested)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isPlainObject(value) && Object.keys(value).length > 0) flattenData(value, path, out);
    else out[path] = value;
  }
  return out;
}

/** Sets both members of a time pair from milliseconds (or clears them with null). */
function setTime(doc: Record<string, unknown>, unixField: string, isoField: string, ms: number | null): void {
  doc[unixField] = ms === null ? null : unixSeconds(ms);
  doc[isoField] = ms === null ? null : formatRome(ms);
}

/**
 * Completes a document from any partial input: every field present, `data` nested, time pairs
 * consistent (either member may be given), `status_name` derived from `status`.
 */
export function normalizeApplication(input: Record<string, unknown>): ApplicationDoc {
  const doc: Record<string, unknown> = {};
  for (const field of APPLICATION_FIELDS) {
    const v = input[field];
    doc[field] = v === undefined ? (LIST_FIELDS.has(field) ? [] : null) : v;
  }
  doc.data = isPlainObject(input.data) ? nestData(input.data) : {};
  for (const [unixField, isoField] of TIME_PAIRS) {
    const ms = parseTime(input[unixField]) ?? parseTime(input[isoField]);
    setTime(doc, unixField, isoField, ms);
  }
  if (typeof input.flow_changed_at === 'string' || typeof input.flow_changed_at === 'number') {
    const ms = parseTime(input.flow_changed_at);
    doc.flow_changed_at = ms === null ? null : formatRome(ms);
  }
  doc.status = Number(input.status);
  doc.status_name = statusName(doc.status as number);
  return doc as ApplicationDoc;
}

export interface ServiceRef {
  id: string;
  slug: string;
  name: string;
  group_name: string | null;
}

export interface NewApplicationInput {
  id: string;
  tenantId: string;
  service: ServiceRef;
  status: number;
  nowMs: number;
  fields: Record<string, unknown>;
}

/** A new application created through messo's own API. */
export function createApplication(input: NewApplicationInput): ApplicationDoc {
  const { fields, nowMs } = input;
  const submitted = input.status >= 1900;
  return normalizeApplication({
    ...fields,
    id: input.id,
    tenant: input.tenantId,
    service: input.service.slug,
    service_id: input.service.id,
    service_name: input.service.name,
    service_group_name: input.service.group_name,
    status: input.status,
    creation_time: nowMs / 1000,
    submission_time: submitted ? nowMs / 1000 : null,
    latest_status_change_time: nowMs / 1000,
  });
}

export interface TransitionInput {
  to: number;
  nowMs: number;
  protocol_number?: string | null;
  protocol_document_id?: string | null;
  outcome_motivation?: string | null;
}

/**
 * The document after a status change. Times follow the platform: submission time is set on the
 * first move to "inviata"/"acquisita", protocol time when a protocol number is given, and the
 * outcome when the pratica is accepted (7000) or rejected (9000).
 */
export function applyTransition(doc: ApplicationDoc, t: TransitionInput): ApplicationDoc {
  const next: Record<string, unknown> = structuredClone(doc);
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
  return next as ApplicationDoc;
}

export type RepresentationVersion = 1 | 2;

/** The platform's JSON at the requested version, fields in the platform's order. */
export function renderApplication(doc: ApplicationDoc, version: RepresentationVersion): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of APPLICATION_FIELDS) out[field] = doc[field] ?? (LIST_FIELDS.has(field) ? [] : null);
  out.data = version === 1 ? flattenData(doc.data ?? {}) : doc.data ?? {};
  return out;
}
