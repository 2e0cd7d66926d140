/**
 * The fields of the core's application representation (`App\Model\Application`), in its order,
 * with the defaults and value rules the core's serializer gives them. Shared by the document
 * (application.ts) and its rendering (representation.ts).
 */
import type { FlatFormData } from './form-data.js';
import type { LinkSettings } from './links.js';
import { isPlainObject } from './php-json.js';

export type ApplicationDoc = Record<string, unknown> & {
  id: string;
  tenant: string;
  service_id: string;
  /** The core's code as a number; rendered as a string ("2000"). */
  status: number;
  status_name: string | null;
  /** Version-1 form data: the core's dot paths → values. */
  data: FlatFormData;
  /** messo's own, not rendered: `<base url>/api/applications/<id>`, the base of `links`. */
  application_url?: string | null;
  /** messo's own, not rendered: the service settings `links` follow. */
  link_settings?: LinkSettings;
};

/** The core's field order (`App\Model\Application`); rendering follows it to the key. */
export const APPLICATION_FIELDS = [
  'id', 'user', 'user_name', 'service', 'service_id', 'service_name', 'service_group_name', 'tenant', 'subject',
  'data', 'compiled_modules', 'attachments', 'creation_time', 'created_at', 'submission_time', 'submitted_at',
  'latest_status_change_time', 'latest_status_change_at', 'protocol_folder_number', 'protocol_folder_code',
  'protocol_number', 'protocol_document_id', 'protocol_numbers', 'protocol_time', 'protocolled_at', 'outcome',
  'outcome_motivation', 'outcome_file', 'outcome_attachments', 'outcome_protocol_number', 'outcome_protocol_document_id',
  'outcome_protocol_numbers', 'outcome_protocol_time', 'outcome_protocolled_at', 'payment_type', 'payment_data',
  'status', 'status_name', 'authentication', 'links', 'meetings', 'integrations', 'backoffice_data', 'flow_changed_at',
  'user_compilation_notes',
] as const;

/** Fields the core always writes as a list, `[]` when there is nothing. */
export const LIST_FIELDS: ReadonlySet<string> = new Set(['compiled_modules', 'attachments', 'outcome_attachments', 'protocol_numbers', 'links', 'meetings', 'integrations']);

/** Pairs kept in step: a Unix integer and the same instant as a Rome date-time. */
export const TIME_PAIRS = [
  ['creation_time', 'created_at'],
  ['submission_time', 'submitted_at'],
  ['latest_status_change_time', 'latest_status_change_at'],
  ['protocol_time', 'protocolled_at'],
  ['outcome_protocol_time', 'outcome_protocolled_at'],
] as const;

/** `UserAuthenticationData`: always these nine keys, in this order (snake_case, camelCase accepted). */
const AUTHENTICATION_KEYS = [
  ['authentication_method', 'authenticationMethod'], ['session_id', 'sessionId'], ['spid_code', 'spidCode'],
  ['spid_level', 'spidLevel'], ['certificate_issuer', 'certificateIssuer'], ['certificate_subject', 'certificateSubject'],
  ['certificate', 'certificate'], ['instant', 'instant'], ['session_index', 'sessionIndex'],
] as const;

/**
 * The core's `authentication` object from whatever was given: the nine keys always, a value only
 * when PHP would not call it `empty()` (so `""`, `"0"`, `0`, `false` are null), as a string.
 */
export function normalizeAuthentication(input: unknown): Record<string, string | null> {
  const source = isPlainObject(input) ? input : {};
  const out: Record<string, string | null> = {};
  for (const [snake, camel] of AUTHENTICATION_KEYS) {
    const v = source[snake] ?? source[camel];
    out[snake] = typeof v === 'string' ? (v === '' || v === '0' ? null : v)
      : typeof v === 'number' ? (v === 0 ? null : String(v))
        : v === true ? '1' : null;
  }
  return out;
}

/** `payment_data`: the gateway's object, or `[]` when there is none (the core's `[]`). */
export function normalizePaymentData(input: unknown): Record<string, unknown> | unknown[] {
  if (isPlainObject(input) && Object.keys(input).length > 0) return input;
  if (Array.isArray(input) && input.length > 0) return input;
  return [];
}
