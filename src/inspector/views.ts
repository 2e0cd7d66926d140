/**
 * How bins and captures leave the API, and the byte-level helpers behind them. Pure: no I/O.
 *
 * Bodies are stored as text when the bytes are valid UTF-8 and contain no NUL (PostgreSQL TEXT
 * refuses NUL), otherwise as base64; `body_encoding` says which, so every byte round-trips.
 */
import { isUtf8 } from 'node:buffer';
import { verify, type HeaderBag, type VerifyResult } from '../domain/signing.js';
import type { Bin, BodyEncoding, Capture } from '../store/index.js';

/** Characters of body kept in lists and live events (a multiple of 4, so base64 stays whole). */
export const PREVIEW_CHARS = 64 * 1024;

export function encodeBody(bytes: Buffer): { body: string; encoding: BodyEncoding } {
  if (isUtf8(bytes) && !bytes.includes(0)) return { body: bytes.toString('utf8'), encoding: 'utf8' };
  return { body: bytes.toString('base64'), encoding: 'base64' };
}

export function bodyBytes(c: { body: string; body_encoding: BodyEncoding }): Buffer {
  return Buffer.from(c.body, c.body_encoding === 'base64' ? 'base64' : 'utf8');
}

/** Raw [name, value] pairs as node:http would group them: lower-case names, repeats as arrays. */
export function headerBag(pairs: [string, string][]): HeaderBag {
  const bag: Record<string, string[]> = {};
  for (const [name, value] of pairs) (bag[name.toLowerCase()] ??= []).push(value);
  return bag;
}

export function binUrl(publicUrl: string, binId: string): string {
  return `${publicUrl}/in/${binId}`;
}

/** The URL the request was sent to, as the sender wrote it (sub-path and query kept raw). */
export function captureUrl(publicUrl: string, c: Pick<Capture, 'bin_id' | 'path' | 'query'>): string {
  return `${binUrl(publicUrl, c.bin_id)}${c.path}${c.query ? `?${c.query}` : ''}`;
}

/**
 * The Standard Webhooks verdict, judged at the moment the request arrived (a capture does not
 * turn "outside tolerance" an hour later). The signed content is the body text; a body that is
 * not UTF-8 cannot carry a valid Standard Webhooks signature and is judged as decoded.
 */
export function signatureVerdict(secret: string, c: Pick<Capture, 'headers' | 'body' | 'body_encoding' | 'received_at'>): VerifyResult {
  const text = c.body_encoding === 'utf8' ? c.body : bodyBytes(c).toString('utf8');
  return verify(secret, headerBag(c.headers), text, { nowSec: Math.floor(c.received_at / 1000) });
}

export function binOut(bin: Bin, publicUrl: string) {
  return {
    id: bin.id,
    url: binUrl(publicUrl, bin.id),
    name: bin.name,
    anonymous: bin.tenant_id === null,
    has_secret: bin.secret !== null,
    responses: bin.responses ?? [],
    hits: bin.hits,
    max_requests: bin.max_requests,
    request_count: bin.request_count ?? 0,
    created_at: new Date(bin.created_at).toISOString(),
    expires_at: new Date(bin.expires_at).toISOString(),
  };
}

export type CaptureOut = ReturnType<typeof captureOut>;

export function captureOut(c: Capture, bin: Pick<Bin, 'secret'>, publicUrl: string) {
  let signature: unknown = null;
  if (bin.secret !== null) {
    // A preview cannot be verified: fall back to the verdict taken when it arrived.
    signature = c.body_truncated ? c.signature : signatureVerdict(bin.secret, c);
  }
  return {
    id: c.id,
    seq: c.seq,
    bin_id: c.bin_id,
    method: c.method,
    url: captureUrl(publicUrl, c),
    path: c.path,
    query: c.query,
    query_params: [...new URLSearchParams(c.query)].map(([name, value]) => ({ name, value })),
    http_version: c.http_version,
    headers: c.headers.map(([name, value]) => ({ name, value })),
    content_type: c.content_type,
    size: c.size,
    body: c.body,
    body_encoding: c.body_encoding,
    body_truncated: c.body_truncated,
    client_ip: c.client_ip,
    received_at: new Date(c.received_at).toISOString(),
    response_status: c.response_status,
    signature: signature as VerifyResult | null,
  };
}
