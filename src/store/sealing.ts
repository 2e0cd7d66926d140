/**
 * Secrets at rest, at every start (issue 12, item 8): webhook signing secrets (current and
 * previous), webhook custom headers and inspector bin secrets are kept sealed with the
 * keyring's current key. This pass seals what is still plaintext (rows from before sealing)
 * and re-seals what an older key sealed (after a rotation, `new:…,old:…`), so the old key can
 * be dropped once a start has run with both. It is idempotent: a second run finds nothing.
 * Each row is updated only if it is still as read, so a rotation made meanwhile is never undone.
 * Then one value sealed with the current key is opened, so a wrong key stops the start with a
 * clear message instead of failing every delivery later.
 */
import { EncryptionError, SEALED_PREFIX, openOrPlain, seal, sealedWithCurrent, type Keyring } from '../domain/encryption.js';
import type { Db, SqlValue } from './db.js';

const BATCH = 200;

interface SealedTable {
  table: string;
  what: string;
  columns: string[];
}

const TABLES: SealedTable[] = [
  { table: 'webhooks', what: 'webhook', columns: ['secret', 'previous_secret', 'headers'] },
  { table: 'inspector_bins', what: 'inspector bin', columns: ['secret'] },
];

export interface SealReport {
  webhooks: number;
  inspector_bins: number;
}

export async function sealAtRest(db: Db, ring: Keyring): Promise<SealReport> {
  const prefix = `${SEALED_PREFIX}${ring.keys[0].kid}:`;
  const report: SealReport = { webhooks: 0, inspector_bins: 0 };
  for (const t of TABLES) {
    // substr, not LIKE: exact on both stores (LIKE ignores case on SQLite, and `_` is a wildcard).
    const stale = t.columns.map((c) => `(${c} IS NOT NULL AND substr(${c}, 1, ?) <> ?)`).join(' OR ');
    const staleParams = t.columns.flatMap(() => [prefix.length, prefix]);
    let after = 0;
    for (;;) {
      const rows = await db.query<Record<string, unknown>>(
        `SELECT seq, id, ${t.columns.join(', ')} FROM ${t.table} WHERE seq > ? AND (${stale}) ORDER BY seq LIMIT ?`,
        [after, ...staleParams, BATCH],
      );
      if (rows.length === 0) break;
      after = Number(rows[rows.length - 1].seq);
      // One transaction per batch: one commit for 200 rows, not one each.
      report[t.table as keyof SealReport] += await db.tx((tx) => resealBatch(tx, ring, t, rows));
    }
    // The current key must open what it sealed: a same-named but different key fails here.
    const sample = await db.query<Record<string, unknown>>(
      `SELECT id, ${t.columns[0]} AS v FROM ${t.table} WHERE ${t.columns[0]} IS NOT NULL ORDER BY seq DESC LIMIT 1`,
    );
    if (sample[0]) openOrFail(ring, String(sample[0].v), `${t.what} ${String(sample[0].id)}`);
  }
  return report;
}

async function resealBatch(db: Db, ring: Keyring, t: SealedTable, rows: Record<string, unknown>[]): Promise<number> {
  let n = 0;
  for (const row of rows) {
    const next = t.columns.map((c) => {
      const v = row[c];
      if (v === null || v === undefined) return null;
      const text = String(v);
      if (sealedWithCurrent(ring, text)) return text;
      return seal(ring, openOrFail(ring, text, `${t.what} ${String(row.id)}`));
    });
    // Still as read: `COALESCE(col, '') = ?` compares a NULL too, the same on both stores.
    n += await db.execute(
      `UPDATE ${t.table} SET ${t.columns.map((c) => `${c} = ?`).join(', ')}
       WHERE seq = ? AND ${t.columns.map((c) => `COALESCE(${c}, '') = ?`).join(' AND ')}`,
      [...next, Number(row.seq), ...t.columns.map((c) => (row[c] === null || row[c] === undefined ? '' : String(row[c])) as SqlValue)],
    );
  }
  return n;
}

function openOrFail(ring: Keyring, value: string, where: string): string {
  try {
    return openOrPlain(ring, value);
  } catch (err) {
    if (!(err instanceof EncryptionError)) throw err;
    throw new EncryptionError(`the stored secrets cannot be opened (${where}): ${err.message}. `
      + 'Give the key they were sealed with; to rotate, list the new key first and the old one after it');
  }
}
