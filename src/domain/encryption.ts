/**
 * Secrets at rest (issue 12, item 8): AES-256-GCM with a key id, so keys can rotate.
 *
 * A sealed value is `enc:v1:<kid>:<iv>:<ciphertext+tag>`, iv (12 bytes) and ciphertext with its
 * 16-byte tag in base64url. A keyring holds one or more 32-byte keys; the first seals, every one
 * opens (the kid in the value says which). Written as `kid1:<base64 key>,kid2:<base64 key>`; a
 * bare `<base64 key>` gets a kid derived from the key itself. Only node:crypto, no I/O.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { setBounded } from './bounded-map.js';

export const SEALED_PREFIX = 'enc:v1:';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KID = /^[A-Za-z0-9_-]{1,32}$/;

export interface EncryptionKey {
  kid: string;
  key: Buffer;
}

/** The keys in order: keys[0] seals. Never empty. */
export interface Keyring {
  readonly keys: readonly EncryptionKey[];
}

/** Bad keyring text or a value that cannot be opened; the message never holds key material. */
export class EncryptionError extends Error {}

/** A kid for a key given without one: a fingerprint, so two different keys never share it. */
export function fingerprintKid(key: Buffer): string {
  return `k${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
}

function decodeKey(text: string, where: string): Buffer {
  // Standard base64 or base64url; Buffer.from ignores bad characters, so check the alphabet first.
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) throw new EncryptionError(`${where}: the key is not base64`);
  const key = Buffer.from(text, 'base64');
  if (key.length !== KEY_BYTES) throw new EncryptionError(`${where}: the key must be ${KEY_BYTES} bytes (base64 of 32 random bytes), it is ${key.length}`);
  return key;
}

/** Parses `kid1:key1,kid2:key2` (or one bare key). Throws EncryptionError naming the entry at fault. */
export function parseKeyring(text: string): Keyring {
  const entries = text.split(',').map((e) => e.trim()).filter((e) => e.length > 0);
  if (entries.length === 0) throw new EncryptionError('no key given');
  const keys: EncryptionKey[] = [];
  for (const [i, entry] of entries.entries()) {
    const where = `key ${i + 1}`;
    const colon = entry.indexOf(':');
    const kid = colon < 0 ? null : entry.slice(0, colon);
    if (kid !== null && !KID.test(kid)) throw new EncryptionError(`${where}: the key id must be 1 to 32 of A-Z a-z 0-9 _ -`);
    const key = decodeKey(colon < 0 ? entry : entry.slice(colon + 1), where);
    const id = kid ?? fingerprintKid(key);
    if (keys.some((k) => k.kid === id)) throw new EncryptionError(`${where}: key id ${id} is given twice`);
    keys.push({ kid: id, key });
  }
  return { keys };
}

/** A new random key, as one keyring entry (`<kid>:<base64>`). */
export function generateKeyEntry(): string {
  const key = randomBytes(KEY_BYTES);
  return `${fingerprintKid(key)}:${key.toString('base64')}`;
}

export function isSealed(value: string): boolean {
  return value.startsWith(SEALED_PREFIX);
}

/** The kid a sealed value names, or null for a value that is not sealed. */
export function kidOf(value: string): string | null {
  if (!isSealed(value)) return null;
  const end = value.indexOf(':', SEALED_PREFIX.length);
  return end < 0 ? null : value.slice(SEALED_PREFIX.length, end);
}

export function seal(ring: Keyring, plaintext: string): string {
  const { kid, key } = ring.keys[0];
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${SEALED_PREFIX}${kid}:${iv.toString('base64url')}:${ct.toString('base64url')}`;
}

/**
 * Values this keyring opened, by their sealed text: a webhook's secret and headers are opened
 * each time its row is read (once per group commit and per claim), and an AES-GCM open was
 * ~1 % of the API's CPU on single-POST ingest (BENCHMARKS.md). A sealed text has a random IV,
 * so it names one plaintext for good; a new keyring starts with none. Oldest out first.
 */
const opened = new WeakMap<Keyring, Map<string, string>>();
export const OPENED_KEPT = 4096;

/** Opens a sealed value. Throws EncryptionError for an unknown kid, a wrong key or a damaged value. */
export function open(ring: Keyring, sealed: string): string {
  let memo = opened.get(ring);
  const hit = memo?.get(sealed);
  if (hit !== undefined) return hit;
  const plain = openUncached(ring, sealed);
  if (!memo) opened.set(ring, memo = new Map());
  setBounded(memo, sealed, plain, OPENED_KEPT);
  return plain;
}

function openUncached(ring: Keyring, sealed: string): string {
  const parts = isSealed(sealed) ? sealed.slice(SEALED_PREFIX.length).split(':') : [];
  if (parts.length !== 3) throw new EncryptionError('not a sealed value');
  const [kid, ivText, ctText] = parts;
  const entry = ring.keys.find((k) => k.kid === kid);
  if (!entry) throw new EncryptionError(`sealed with key id ${kid}, which is not among the configured keys`);
  const iv = Buffer.from(ivText, 'base64url');
  const ct = Buffer.from(ctText, 'base64url');
  if (iv.length !== IV_BYTES || ct.length < TAG_BYTES) throw new EncryptionError(`a value sealed with key id ${kid} is damaged`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', entry.key, iv);
    decipher.setAuthTag(ct.subarray(ct.length - TAG_BYTES));
    return Buffer.concat([decipher.update(ct.subarray(0, ct.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new EncryptionError(`key id ${kid} does not open a value sealed with key id ${kid}: the key is not the one it was sealed with, or the value is damaged`);
  }
}

/** Opens a sealed value; a plaintext one (not yet migrated) is returned as it is. */
export function openOrPlain(ring: Keyring, value: string): string {
  return isSealed(value) ? open(ring, value) : value;
}

/** True when the value is sealed with the keyring's current (first) key. */
export function sealedWithCurrent(ring: Keyring, value: string): boolean {
  return kidOf(value) === ring.keys[0].kid;
}
