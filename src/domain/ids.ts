import { createHash, randomBytes, randomUUID } from 'node:crypto';

/**
 * Ids of messo's own entities carry a prefix (`wh_`, `dlv_`…) so a log line or a support ticket
 * says what an id is. Entities that appear in OpenCity payloads (tenants, services, applications,
 * messages, events) use plain UUIDs, as the platform does.
 */
export function prefixedId(prefix: string, bytes = 12): string {
  return `${prefix}_${randomBytes(bytes).toString('base64url')}`;
}

export const uuid = (): string => randomUUID();

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: unknown): s is string => typeof s === 'string' && UUID_RE.test(s);

/** Lookup hash of a high-entropy token (API keys, ingest tokens): fast is right for random input. */
export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
