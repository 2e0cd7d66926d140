import { hash, randomBytes, randomFillSync, randomUUID } from 'node:crypto';

/**
 * Ids of messo's own entities carry a prefix (`wh_`, `dlv_`…) so a log line or a support ticket
 * says what an id is. Entities that appear in OpenCity payloads (tenants, services, applications,
 * messages, events) use plain UUIDs, as the platform does.
 */
export function prefixedId(prefix: string, bytes = ID_BYTES): string {
  return `${prefix}_${bytes === ID_BYTES ? pooledIdBytes() : randomBytes(bytes).toString('base64url')}`;
}

/** Random bytes of an ordinary id (96 bits). */
const ID_BYTES = 12;
/**
 * Ordinary ids take their bytes from a pool filled 512 ids at a time, as `randomUUID` does: a
 * `randomBytes` call of its own cost 7 µs an id (0.4 µs pooled), and ingest makes one per
 * delivery (`msg_…`, timeOrderedId, 6 bytes of it). Each byte is used once. Longer ids, which
 * are secrets (ingest tokens, bin ids), still draw bytes of their own.
 */
const idPool = Buffer.alloc(ID_BYTES * 512);
let idPoolOffset = idPool.length;

function pooledIdBytes(): string {
  const at = takePooled(ID_BYTES);
  return idPool.toString('base64url', at, at + ID_BYTES);
}

/** Where `n` unused bytes of the pool start (refilled when fewer are left); marks them used. */
function takePooled(n: number): number {
  if (idPoolOffset + n > idPool.length) {
    randomFillSync(idPool);
    idPoolOffset = 0;
  }
  idPoolOffset += n;
  return idPoolOffset - n;
}

/**
 * Ids of rows that many processes write in bulk and keep (deliveries, `msg_…`): 6 bytes of the
 * time in ms, then 6 random bytes, written with an alphabet whose characters sort as their values
 * (the base64url characters in ASCII order), so that ids sort as they were made. An index on them
 * takes each new one at its right edge; a random id put each on a random leaf of the index, a page
 * of SQLite's WAL (and of PostgreSQL's) per delivery once a store holds more leaves than a group
 * has deliveries: 0.83 of the 10.6 WAL pages of an event after 20,000 (BENCHMARKS.md). Within a
 * millisecond, or if the clock goes back, the random part goes up by one: a process never makes
 * the same id twice, and two processes would have to draw starts within a few ids of each other in
 * one millisecond (2^-48 a pair). 16 characters, as the random ids of `prefixedId`.
 */
export function timeOrderedId(prefix: string, now = Date.now()): string {
  if (now > orderedMs) {
    orderedMs = now;
    drawRandomPart();
  } else if (!increment(orderedBytes, 6)) {
    // 2^48 ids in one millisecond: on to the next.
    orderedMs++;
    drawRandomPart();
  }
  orderedBytes.writeUIntBE(orderedMs, 0, 6);
  let out = `${prefix}_`;
  for (let i = 0; i < 12; i += 3) {
    const n = (orderedBytes[i] << 16) | (orderedBytes[i + 1] << 8) | orderedBytes[i + 2];
    out += SORTED_ALPHABET[n >> 18] + SORTED_ALPHABET[(n >> 12) & 63] + SORTED_ALPHABET[(n >> 6) & 63] + SORTED_ALPHABET[n & 63];
  }
  return out;
}

/** The 64 characters of base64url, in ASCII order: a character's place is its value. */
export const SORTED_ALPHABET = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';
let orderedMs = 0;
const orderedBytes = Buffer.alloc(12);

/** A time-ordered id's 6 random bytes, from the pool of ordinary ids. */
function drawRandomPart(): void {
  const at = takePooled(6);
  idPool.copy(orderedBytes, 6, at, at + 6);
}

/** Adds one to the big-endian number in `b` from `from` on; false when it wrapped to zero. */
function increment(b: Buffer, from: number): boolean {
  for (let i = b.length - 1; i >= from; i--) {
    b[i] = (b[i] + 1) & 255;
    if (b[i] !== 0) return true;
  }
  return false;
}

export const uuid = (): string => randomUUID();

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: unknown): s is string => typeof s === 'string' && UUID_RE.test(s);

/**
 * Lookup hash of a high-entropy token (API keys, ingest tokens): fast is right for random input.
 * One call per API request: the one-shot `hash` takes 0.9 µs, `createHash().update().digest()` 2.6.
 */
export const sha256 = (text: string): string => hash('sha256', text, 'hex');
