/**
 * The keyring that seals secrets at rest: MESSO_ENCRYPTION_KEY when given, else a key generated
 * at first start and kept in `<data dir>/encryption.key` (mode 0600, folder 0700), the way the
 * admin token is generated when none is given. The file holds one keyring entry, `<kid>:<base64>`;
 * it may be edited into several (`new:…,old:…`) to rotate without the environment variable.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EncryptionError, generateKeyEntry, parseKeyring, type Keyring } from '../domain/encryption.js';

export const KEY_FILE = 'encryption.key';

export interface ResolvedKeyring {
  ring: Keyring;
  source: 'env' | 'file' | 'generated';
  /** The key file, when the keyring came from one. */
  path: string | null;
}

export function resolveKeyring(opts: { encryptionKey: string | null; dataDir: string }): ResolvedKeyring {
  if (opts.encryptionKey) {
    try {
      return { ring: parseKeyring(opts.encryptionKey), source: 'env', path: null };
    } catch (err) {
      throw err instanceof EncryptionError ? new EncryptionError(`MESSO_ENCRYPTION_KEY: ${err.message}`) : err;
    }
  }
  const path = join(opts.dataDir, KEY_FILE);
  let generated = false;
  if (!existsSync(path)) {
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    // Written whole under a name of its own, then linked into place: link fails if the file
    // exists, so of two processes starting at once on a fresh folder one key wins, and neither
    // ever reads a half-written file.
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(tmp, `${generateKeyEntry()}\n`, { mode: 0o600, flag: 'wx' });
    try {
      linkSync(tmp, path);
      generated = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      unlinkSync(tmp);
    }
  }
  // A copy restored with looser permissions is tightened again (owner read/write only).
  try { chmodSync(path, 0o600); } catch { /* a read-only mount: reading is enough */ }
  try {
    return { ring: parseKeyring(readFileSync(path, 'utf8').trim()), source: generated ? 'generated' : 'file', path };
  } catch (err) {
    throw err instanceof EncryptionError ? new EncryptionError(`${path}: ${err.message}`) : err;
  }
}
