/**
 * Messages on a pratica, as the core's message webhook sends them (`App\Dto\Message::fromEntity`
 * through its serializer): these fifteen keys, in this order, every one present. Dates are Rome
 * date-times (null when unset, as the core's "0 means never"), `attachments` a list.
 *
 * messo keeps the message record in the event (`data.message`) in this same shape, so what the
 * API answers and what a webhook sends are one thing. Records stored before `subject` and `email`
 * were kept are rendered with them as null.
 */
import { formatRome, parseTime } from './dates.js';
import { isPlainObject } from './php-json.js';

export const MESSAGE_FIELDS = [
  'id', 'message', 'subject', 'author', 'application', 'visibility', 'email', 'created_at', 'sent_at', 'read_at',
  'clicked_at', 'attachments', 'protocol_required', 'protocolled_at', 'protocol_number',
] as const;

const DATE_FIELDS: ReadonlySet<string> = new Set(['created_at', 'sent_at', 'read_at', 'clicked_at', 'protocolled_at']);

export type MessageVisibility = 'applicant' | 'internal';

export interface MessageRecord {
  id: string;
  message: string;
  subject: string | null;
  /** The author's user id, when a person wrote it. */
  author: string | null;
  /** The application's id. */
  application: string;
  visibility: string;
  /** The address the message was sent to. */
  email: string | null;
  created_at: string | null;
  sent_at: string | null;
  read_at: string | null;
  clicked_at: string | null;
  attachments: unknown[];
  protocol_required: boolean | null;
  protocolled_at: string | null;
  protocol_number: string | null;
}

export interface NewMessageInput {
  id: string;
  applicationId: string;
  nowMs: number;
  message: string;
  subject?: string | null;
  author?: string | null;
  visibility?: MessageVisibility;
  email?: string | null;
  attachments?: unknown[];
  protocol_required?: boolean;
}

/** A message written through messo's API now: created and sent at `nowMs`, not read, not registered. */
export function createMessage(input: NewMessageInput): MessageRecord {
  const now = formatRome(input.nowMs);
  return {
    id: input.id, message: input.message, subject: input.subject ?? null, author: input.author ?? null,
    application: input.applicationId, visibility: input.visibility ?? 'applicant', email: input.email ?? null,
    created_at: now, sent_at: now, read_at: null, clicked_at: null, attachments: input.attachments ?? [],
    protocol_required: input.protocol_required ?? false, protocolled_at: null, protocol_number: null,
  };
}

/** A date as the core writes it: a Rome date-time, or null for none (the core's 0). */
function dateOf(v: unknown): string | null {
  if (v === null || v === undefined || v === 0 || v === '') return null;
  const ms = parseTime(v);
  return ms === null || ms === 0 ? null : formatRome(ms);
}

/** The core's message body (without the four event keys) from a stored or received record. */
export function renderMessage(record: MessageRecord | Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of MESSAGE_FIELDS) {
    const v = (record as Record<string, unknown>)[field];
    if (DATE_FIELDS.has(field)) out[field] = dateOf(v);
    else if (field === 'attachments') out[field] = Array.isArray(v) ? v : [];
    else if (field === 'protocol_required') out[field] = typeof v === 'boolean' ? v : v === undefined || v === null ? null : Boolean(v);
    else out[field] = v === undefined ? null : typeof v === 'number' ? String(v) : v;
  }
  return out;
}

/** True for the message record of a `message.created` event (and not a transition's note). */
export function isMessageRecord(v: unknown): v is Record<string, unknown> {
  return isPlainObject(v) && typeof v.id === 'string' && 'message' in v;
}
