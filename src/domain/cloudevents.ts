/**
 * CloudEvents binary mode (HTTP protocol binding 1.0, section 3.1): the event's attributes go
 * to `ce-*` headers and `data` alone is the body, with `datacontenttype` as its Content-Type.
 * Deliveries keep the structured body (frozen at creation); a `cloudevents-binary` webhook's
 * attempt turns it into this form when it is sent, so the signature covers the bytes sent.
 */

/**
 * The events are OpenCity pratiche events, so their default namespace is OpenCity's domain,
 * reversed; an installation sets its own with MESSO_CLOUDEVENTS_TYPE_PREFIX.
 */
export const DEFAULT_CLOUDEVENTS_TYPE_PREFIX = 'it.opencity';

/** The CloudEvents `source` of a tenant's events: a URI (URN) that names the tenant. */
export function cloudEventsSource(tenantId: string): string {
  return `urn:messo:tenant:${encodeURIComponent(tenantId)}`;
}

export interface BinaryEvent {
  /** `ce-specversion`, `ce-id`, `ce-source`, `ce-type`, and the optional ones present. */
  headers: Record<string, string>;
  contentType: string;
  body: string;
}

/**
 * Header values: space, `"`, `%` and everything outside printable ASCII are percent-encoded
 * as UTF-8 (section 3.1.3.2), so a subject in Italian survives any HTTP stack.
 */
export function encodeHeaderValue(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (code > 0x20 && code < 0x7f && ch !== '"' && ch !== '%') out += ch;
    else for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The binary form of a structured CloudEvent (JSON text); null when the text is not one. */
export function toBinaryMode(structured: string): BinaryEvent | null {
  let event: unknown;
  try {
    event = JSON.parse(structured);
  } catch {
    return null;
  }
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return null;
  const e = event as Record<string, unknown>;
  if (e.specversion !== '1.0' || typeof e.id !== 'string' || typeof e.source !== 'string' || typeof e.type !== 'string') return null;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(e)) {
    if (name === 'data' || name === 'data_base64' || name === 'datacontenttype') continue;
    // Attribute names are [a-z0-9]{1,20} by the spec; anything else is not ours to forward.
    if (!/^[a-z0-9]{1,20}$/.test(name) || value === null || value === undefined || typeof value === 'object') continue;
    headers[`ce-${name}`] = encodeHeaderValue(String(value));
  }
  const contentType = typeof e.datacontenttype === 'string' ? e.datacontenttype : 'application/json';
  let body = '';
  if (typeof e.data_base64 === 'string') body = Buffer.from(e.data_base64, 'base64').toString('utf8');
  else if (e.data !== undefined) body = typeof e.data === 'string' && !/json/i.test(contentType) ? e.data : JSON.stringify(e.data);
  return { headers, contentType, body };
}
