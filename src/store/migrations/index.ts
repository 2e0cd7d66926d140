/**
 * Migration runner shared by both dialects: numbered steps, each applied in its own
 * transaction together with the row that records it.
 *
 * A step once released is frozen history: it is never edited, since installations have run
 * it. That is why the steps write state names as plain literals (the partial indexes'
 * `WHERE status = 'pending'`) instead of taking them from DELIVERY_STATUS as the live SQL does
 * (sql.ts); sql.test.ts checks that the states they name are still states.
 */
import type { Db } from '../db.js';

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export class SchemaTooNewError extends Error {}

/** First key of the migration advisory lock ('mess'); the second is the schema's hash. */
const MIGRATION_LOCK = 0x6d657373;

export async function migrate(db: Db, migrations: Migration[]): Promise<number[]> {
  // PostgreSQL: processes starting at once take turns on a transaction-scoped advisory lock
  // per schema, so none trips over another's half-made table (CREATE TABLE IF NOT EXISTS races
  // on pg_type) or applies a step twice. The run is then one transaction (DDL is transactional
  // there); the steps' own tx calls reuse it.
  if (db.dialect === 'postgres') {
    return db.tx(async (t) => {
      await t.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK}, hashtext(coalesce(current_schema(), '')))`);
      return migrateSteps(t, migrations);
    });
  }
  return migrateSteps(db, migrations);
}

async function migrateSteps(db: Db, migrations: Migration[]): Promise<number[]> {
  await db.execute(
    'CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
  );
  const rows = await db.query<{ id: number }>('SELECT id FROM schema_migrations ORDER BY id');
  const done = new Set(rows.map((r) => Number(r.id)));
  const known = Math.max(0, ...migrations.map((m) => m.id));
  const newest = Math.max(0, ...done);
  if (newest > known) {
    throw new SchemaTooNewError(`database schema is at migration ${newest}, this messo knows up to ${known}: upgrade messo`);
  }
  const applied: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.id - b.id)) {
    if (done.has(m.id)) continue;
    await db.tx(async (t) => {
      // Concurrent starters: the second one finds the row and skips the step.
      const again = await t.query('SELECT id FROM schema_migrations WHERE id = ?', [m.id]);
      if (again.length > 0) return;
      for (const stmt of splitStatements(m.sql)) await t.execute(stmt);
      await t.execute('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)', [m.id, m.name, Date.now()]);
      applied.push(m.id);
    });
  }
  return applied;
}

/**
 * Splits a migration on `;` at line ends (a procedural body, such as a DO block, stays on one
 * line). A part that holds only comments is no statement: a step one store has nothing to do in
 * says why in a comment.
 */
export function splitStatements(sql: string): string[] {
  return sql.split(/;\s*\n/).map((s) => s.trim().replace(/;$/, '')).filter((s) => s.replace(/--[^\n]*/g, '').trim().length > 0);
}
