/**
 * The application as the core's API and webhooks show it (`ApplicationDto::fromEntity` then its
 * JMS serializer), at version 1 or 2, rendered from messo's document (application.ts).
 *
 * What changes with the version, as in the core:
 * - `data` and `backoffice_data`: flat at 1, re-nested at 2 (form-data.ts);
 * - urls carry `?version=N` in `links`, `compiled_modules`, `outcome_file`, `integrations` and
 *   upload fields inside `data`; `attachments` and `outcome_attachments` always say
 *   `?version=1` (the core does not pass the version there).
 * Everything else is the same at both versions. Types are the core's: `status` and the other
 * string fields are strings, `authentication` is the nine-key object, `payment_data` is `[]`
 * when empty, and the whole value has been through PHP arrays (an empty object is `[]`).
 */
import { APPLICATION_FIELDS, LIST_FIELDS, normalizeAuthentication, normalizePaymentData, type ApplicationDoc } from './application-fields.js';
import { fileAtVersion, flattenFormData, formDataV1, nestFormData, withUrlVersion } from './form-data.js';
import { defineOwn, isPlainObject, phpArrays, phpNumber } from './php-json.js';
import { statusName } from './statuses.js';

export type RepresentationVersion = 1 | 2;

/** Fields the core's model types as strings (`@Serializer\Type("string")`). */
const STRING_FIELDS: ReadonlySet<string> = new Set([
  'id', 'user', 'user_name', 'service', 'service_id', 'service_name', 'service_group_name', 'tenant', 'subject',
  'protocol_folder_number', 'protocol_folder_code', 'protocol_number', 'protocol_document_id', 'outcome_motivation',
  'outcome_protocol_number', 'outcome_protocol_document_id', 'payment_type', 'user_compilation_notes',
]);

/** JMS's `(string)` of a scalar; anything else is left as it was stored. */
function asString(v: unknown): unknown {
  if (typeof v === 'number') return phpNumber(v);
  if (typeof v === 'boolean') return v ? '1' : '';
  return v;
}

function formAtVersion(value: unknown, version: RepresentationVersion): unknown {
  const flat = flattenFormData(value);
  return version === 1 ? formDataV1(flat) : nestFormData(flat, version);
}

/** `links` with their urls at the version (a list, or the core's object keyed by position). */
function linksAtVersion(links: unknown, version: RepresentationVersion): unknown {
  const at = (l: unknown): unknown => {
    if (!isPlainObject(l)) return l;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(l)) defineOwn(out, k, k === 'url' ? withUrlVersion(v, version) : v);
    return out;
  };
  if (Array.isArray(links)) return links.map(at);
  if (!isPlainObject(links)) return [];
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(links)) defineOwn(out, k, at(v));
  return out;
}

/** `integrations`: outbound and inbound files, and their attachments, at the version. */
function integrationsAtVersion(list: unknown, version: RepresentationVersion): unknown {
  if (!Array.isArray(list)) return [];
  const side = (s: unknown): unknown => {
    if (!isPlainObject(s)) return s;
    const file = fileAtVersion(s, version) as Record<string, unknown>;
    if (Array.isArray(s.attachments)) file.attachments = fileAtVersion(s.attachments, version);
    return file;
  };
  return list.map((i) => (isPlainObject(i) ? { ...i, outbound: side(i.outbound), inbound: side(i.inbound) } : i));
}

/** The platform's JSON at the requested version, fields in the platform's order. */
export function renderApplication(doc: ApplicationDoc, version: RepresentationVersion): Record<string, unknown> {
  return phpArrays(applicationAtVersion(doc, version)) as Record<string, unknown>;
}

/**
 * The same before its values have been through PHP arrays (an empty object still `{}`): what
 * php-json.ts's writer takes as it is, sparing a deep copy per delivery body.
 */
export function applicationAtVersion(doc: ApplicationDoc, version: RepresentationVersion): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of APPLICATION_FIELDS) {
    const v = doc[field];
    out[field] = v === undefined || v === null ? (LIST_FIELDS.has(field) ? [] : null) : STRING_FIELDS.has(field) ? asString(v) : v;
  }
  out.data = formAtVersion(doc.data, version);
  out.backoffice_data = doc.backoffice_data === null || doc.backoffice_data === undefined ? null : formAtVersion(doc.backoffice_data, version);
  out.compiled_modules = fileAtVersion(out.compiled_modules, version);
  out.outcome_file = fileAtVersion(out.outcome_file, version);
  out.links = linksAtVersion(out.links, version);
  out.integrations = integrationsAtVersion(out.integrations, version);
  out.payment_data = normalizePaymentData(doc.payment_data);
  out.authentication = normalizeAuthentication(doc.authentication);
  out.status = Number.isFinite(doc.status) ? String(doc.status) : asString(doc.status) ?? null;
  out.status_name = typeof doc.status_name === 'string' ? doc.status_name : statusName(Number(doc.status)) ?? '';
  return out;
}
