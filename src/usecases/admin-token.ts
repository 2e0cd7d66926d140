/** The admin token: from MESSO_ADMIN_TOKEN, or generated at first start and stored hashed. */
import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import { sha256 } from '../domain/ids.js';
import type { Store } from '../store/index.js';

const ADMIN_HASH_KEY = 'admin_token_sha256';

export interface AdminToken {
  hash: string;
  /** Set only when the token was generated now: it is shown this once. */
  generated: string | null;
  source: 'env' | 'stored' | 'generated';
}

export async function resolveAdminToken(store: Pick<Store, 'getSetting' | 'setSetting'>, config: Pick<Config, 'adminToken'>, reset = false): Promise<AdminToken> {
  if (config.adminToken) return { hash: sha256(config.adminToken), generated: null, source: 'env' };
  const stored = reset ? null : await store.getSetting(ADMIN_HASH_KEY);
  if (stored) return { hash: stored, generated: null, source: 'stored' };
  const token = `messo_admin_${randomBytes(24).toString('base64url')}`;
  await store.setSetting(ADMIN_HASH_KEY, sha256(token));
  return { hash: sha256(token), generated: token, source: 'generated' };
}
