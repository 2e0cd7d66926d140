/**
 * `messo migrate-store`: copies an installation from one store to another (SQLite to
 * PostgreSQL, typically) table by table, in batches, keeping every id and sequence number, so
 * cursors, ordering and references stay as they were. Rows already in the destination are
 * skipped (ON CONFLICT DO NOTHING): a run that stopped half-way is simply run again, and nothing
 * is copied twice. Deliveries that were being sent become pending again; transient endpoint
 * state is not copied, nor is the pratiche's search index: the destination's start builds its
 * own. The destination is meant to be empty, or the target of an earlier run.
 */
import type { Db, SqlValue } from './db.js';
import { DELIVERY_STATUS } from './types.js';

/** Tables in dependency order, with their sort key (unique: applications' id is unique per tenant only). */
const TABLES: { name: string; key: string | string[] }[] = [
  { name: 'settings', key: 'key' },
  { name: 'tenants', key: 'seq' },
  { name: 'api_keys', key: 'seq' },
  { name: 'ingest_tokens', key: 'seq' },
  { name: 'services', key: 'seq' },
  { name: 'events', key: 'seq' },
  { name: 'applications', key: ['tenant_id', 'id'] },
  { name: 'webhooks', key: 'seq' },
  { name: 'payloads', key: 'id' },
  { name: 'deliveries', key: 'seq' },
  { name: 'attempts', key: 'seq' },
  { name: 'webhook_skips', key: 'seq' },
  // Fan-outs not yet written (fanout.ts): the destination's engine writes them.
  { name: 'fanout_jobs', key: 'seq' },
  { name: 'inspector_bins', key: 'seq' },
  { name: 'inspector_captures', key: 'seq' },
];

export interface TransferReport {
  table: string;
  read: number;
  written: number;
}

async function tableExists(db: Db, name: string): Promise<boolean> {
  const sql = db.dialect === 'sqlite'
    ? `SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?`
    : `SELECT table_name FROM information_schema.tables WHERE table_name = ? AND table_schema = current_schema()`;
  return (await db.query(sql, [name])).length > 0;
}

export async function transfer(from: Db, to: Db, onProgress: (r: TransferReport) => void = () => undefined, batch = 500): Promise<TransferReport[]> {
  const reports: TransferReport[] = [];
  for (const t of TABLES) {
    if (!(await tableExists(from, t.name)) || !(await tableExists(to, t.name))) continue;
    const report: TransferReport = { table: t.name, read: 0, written: 0 };
    const keys = typeof t.key === 'string' ? [t.key] : t.key;
    // Keyset paging; a key of several columns compares as a row value (SQLite and PostgreSQL alike).
    // The first page has no lower bound: no one value is below every key of mixed types.
    const where = keys.length === 1 ? `${keys[0]} > ?` : `(${keys.join(', ')}) > (${keys.map(() => '?').join(', ')})`;
    let after: SqlValue[] | null = null;
    for (;;) {
      const rows: Record<string, unknown>[] = await from.query(`SELECT * FROM ${t.name}${after ? ` WHERE ${where}` : ''} ORDER BY ${keys.join(', ')} LIMIT ?`, [...(after ?? []), batch]);
      if (rows.length === 0) break;
      const last = rows[rows.length - 1];
      after = keys.map((k) => last[k] as SqlValue);
      report.read += rows.length;
      report.written += await insertRows(to, t.name, rows.map((r) => prepare(t.name, r)));
      onProgress(report);
    }
    if (to.dialect === 'postgres' && t.key === 'seq') {
      // Explicit seq values do not move the identity: start new rows after the copied ones.
      await to.query(`SELECT setval(pg_get_serial_sequence('${t.name}', 'seq'), (SELECT COALESCE(MAX(seq), 0) + 1 FROM ${t.name}), false)`);
    }
    reports.push(report);
  }
  return reports;
}

function prepare(table: string, row: Record<string, unknown>): Record<string, unknown> {
  // The search index is not copied (each store keeps it its own way, search.ts): the pratiche
  // arrive unindexed, and the destination's start indexes them (backfillTerms).
  if (table === 'applications') return { ...row, terms: null, terms_seq: null };
  if (table === 'deliveries' && row.status === DELIVERY_STATUS.sending) {
    return { ...row, status: DELIVERY_STATUS.pending, lease_owner: null, lease_until: null, next_attempt_at: Date.now() };
  }
  return row;
}

async function insertRows(to: Db, table: string, rows: Record<string, unknown>[]): Promise<number> {
  if (rows.length === 0) return 0;
  const cols = Object.keys(rows[0]);
  const overriding = to.dialect === 'postgres' && cols.includes('seq') ? ' OVERRIDING SYSTEM VALUE' : '';
  const values = rows.map(() => `(${cols.map(() => '?').join(', ')})`).join(', ');
  const params = rows.flatMap((r) => cols.map((c) => (r[c] ?? null) as SqlValue));
  return to.tx((t) => t.execute(`INSERT INTO ${table} (${cols.join(', ')})${overriding} VALUES ${values} ON CONFLICT DO NOTHING`, params));
}
