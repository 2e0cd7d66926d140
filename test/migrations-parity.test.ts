/**
 * The SQLite and PostgreSQL migrations must build the same schema: one SQL store runs on both.
 * Both step lists are applied, one step at a time, to a fresh SQLite file and a fresh
 * PostgreSQL schema; after every step the two databases are introspected (sqlite pragmas,
 * PostgreSQL catalogues) and compared: tables, columns (type class, NOT NULL, default),
 * primary keys, unique constraints, named indexes (columns, unique, partial) and foreign keys.
 * A step added to one file only, or translated differently, fails here with the difference.
 * One part differs on purpose from migration 210 on: the pratiche search index, an FTS5 table on
 * SQLite (application_search and the tables FTS5 keeps for it), a table with a tsvector under a
 * GIN index on PostgreSQL; each store must hold its own, and the rest is compared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import type { Db } from '../src/store/db.js';
import { openSqlite } from '../src/store/sqlite-db.js';
import { openPostgres } from '../src/store/pg-db.js';
import { migrate } from '../src/store/migrations/index.js';
import { sqliteMigrations } from '../src/store/migrations/sqlite.js';
import { postgresMigrations } from '../src/store/migrations/postgres.js';
import { tempDir } from './harness.js';
import { freshPgSchema, pgSkip, PG_URL } from './pg.js';

interface Column { type: string; notnull: boolean; default: string | null }
interface Index { columns: string[]; unique: boolean; partial: boolean }
interface Table {
  columns: Record<string, Column>;
  primaryKey: string[];
  unique: string[];
  indexes: Record<string, Index>;
  foreignKeys: string[];
}
type Schema = Record<string, Table>;

/** The value shape a column holds, which is what the store sees. */
function typeClass(declared: string): string {
  const t = declared.toLowerCase();
  if (/int/.test(t)) return 'integer';
  if (/real|floa|doub|numeric/.test(t)) return 'real';
  if (/text|char|clob/.test(t)) return 'text';
  if (/blob|bytea/.test(t)) return 'blob';
  return t;
}

/** `'pending'::text` and `'pending'`, `(0)` and `0`, are the same default. */
function normDefault(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return String(v).replace(/::[a-z ]+/gi, '').replace(/^\((.*)\)$/, '$1').trim();
}

/** A column of an index on an expression (deliveries_lane): both stores name none. */
const EXPRESSION = '(expression)';

async function sqliteSchema(db: Db): Promise<Schema> {
  const out: Schema = {};
  const tables = await db.query<{ name: string }>(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
  );
  for (const { name } of tables) {
    const cols = await db.query<{ name: string; type: string; notnull: number; dflt_value: unknown; pk: number }>(
      'SELECT * FROM pragma_table_info(?)', [name],
    );
    const t: Table = { columns: {}, primaryKey: [], unique: [], indexes: {}, foreignKeys: [] };
    for (const c of cols) {
      // An INTEGER PRIMARY KEY is the rowid: never null, whatever the declaration says.
      t.columns[c.name] = { type: typeClass(c.type), notnull: c.notnull === 1 || c.pk > 0, default: normDefault(c.dflt_value) };
    }
    t.primaryKey = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
    const indexes = await db.query<{ name: string; unique: number; origin: string; partial: number }>(
      'SELECT * FROM pragma_index_list(?)', [name],
    );
    for (const ix of indexes) {
      const ixCols = (await db.query<{ seqno: number; name: string | null }>('SELECT * FROM pragma_index_info(?)', [ix.name]))
        .sort((a, b) => a.seqno - b.seqno).map((c) => c.name ?? EXPRESSION);
      if (ix.origin === 'u') t.unique.push(ixCols.join(','));
      else if (ix.origin === 'c') t.indexes[ix.name] = { columns: ixCols, unique: ix.unique === 1, partial: ix.partial === 1 };
    }
    t.unique.sort();
    const fks = await db.query<{ table: string; from: string; to: string }>('SELECT * FROM pragma_foreign_key_list(?)', [name]);
    t.foreignKeys = fks.map((f) => `${f.from}->${f.table}(${f.to})`).sort();
    out[name] = t;
  }
  return out;
}

async function postgresSchema(db: Db, schema: string): Promise<{ schema: Schema; bigints: Set<string> }> {
  const out: Schema = {};
  const bigints = new Set<string>();
  const cols = await db.query<{ table_name: string; column_name: string; data_type: string; is_nullable: string; column_default: unknown }>(
    `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
     WHERE table_schema = ? ORDER BY table_name, ordinal_position`, [schema],
  );
  for (const c of cols) {
    const t = (out[c.table_name] ??= { columns: {}, primaryKey: [], unique: [], indexes: {}, foreignKeys: [] });
    t.columns[c.column_name] = { type: typeClass(c.data_type), notnull: c.is_nullable === 'NO', default: normDefault(c.column_default) };
    if (c.data_type === 'bigint') bigints.add(`${c.table_name}.${c.column_name}`);
  }
  const indexes = await db.query<{ tbl: string; name: string; cols: string[]; unique: boolean; partial: boolean; contype: string | null }>(
    `SELECT t.relname AS tbl, i.relname AS name, x.indisunique AS unique, x.indpred IS NOT NULL AS partial,
       (SELECT contype::text FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.contype IN ('p', 'u')) AS contype,
       ARRAY(SELECT COALESCE(a.attname::text, '${EXPRESSION}') FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)
             LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n) AS cols
     FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
     JOIN pg_namespace ns ON ns.oid = t.relnamespace WHERE ns.nspname = ?`, [schema],
  );
  for (const ix of indexes) {
    const t = out[ix.tbl];
    if (ix.contype === 'p') t.primaryKey = ix.cols;
    else if (ix.contype === 'u') t.unique.push(ix.cols.join(','));
    else t.indexes[ix.name] = { columns: ix.cols, unique: ix.unique, partial: ix.partial };
  }
  for (const t of Object.values(out)) t.unique.sort();
  const fks = await db.query<{ tbl: string; def: string }>(
    `SELECT c.relname AS tbl, pg_get_constraintdef(k.oid) AS def FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
     JOIN pg_namespace ns ON ns.oid = c.relnamespace WHERE ns.nspname = ? AND k.contype = 'f'`, [schema],
  );
  for (const f of fks) {
    // "FOREIGN KEY (tenant_id) REFERENCES tenants(id)"
    const m = /^FOREIGN KEY \((\w+)\) REFERENCES (\w+)\((\w+)\)/.exec(f.def);
    out[f.tbl].foreignKeys.push(m ? `${m[1]}->${m[2]}(${m[3]})` : f.def);
  }
  for (const t of Object.values(out)) t.foreignKeys.sort();
  return { schema: out, bigints };
}

const skip = await pgSkip();
/** The migration that gave each store its own search index (store/search.ts). */
const SEARCH_INDEX_APART = 210;

test('the two migration lists have the same steps, ids and names, in order', () => {
  const steps = (ms: typeof sqliteMigrations) => ms.map((m) => ({ id: m.id, name: m.name }));
  assert.deepEqual(steps(postgresMigrations), steps(sqliteMigrations));
  assert.deepEqual(sqliteMigrations.map((m) => m.id), [...sqliteMigrations.map((m) => m.id)].sort((a, b) => a - b));
});

test('SQLite and PostgreSQL migrations build the same schema after every step', { skip }, async () => {
  const dir = tempDir('messo-parity-');
  const lite = openSqlite(join(dir, 'parity.db'));
  const pg = await freshPgSchema();
  const pgDb = openPostgres(PG_URL, { schema: pg.schema, max: 2 });
  try {
    const ids = sqliteMigrations.map((m) => m.id);
    assert.ok(ids.length > 0);
    for (const id of ids) {
      await migrate(lite, sqliteMigrations.filter((m) => m.id <= id));
      await migrate(pgDb, postgresMigrations.filter((m) => m.id <= id));
      const a = await sqliteSchema(lite);
      const b = await postgresSchema(pgDb, pg.schema);
      if (id >= SEARCH_INDEX_APART) {
        const fts = Object.keys(a).filter((name) => /^application_search(_|$)/.test(name));
        assert.ok(fts.includes('application_search') && fts.includes('application_search_data'), `SQLite's search index: ${fts.join(', ')}`);
        for (const name of fts) delete a[name];
        assert.ok(b.schema.application_search?.indexes.application_search_terms, "PostgreSQL's search index");
        delete b.schema.application_search;
      }
      assert.deepEqual(b.schema, a, `schemas differ after migration ${id}`);
      // Millisecond times and sequence numbers outgrow 32 bits: BIGINT on PostgreSQL.
      for (const [table, t] of Object.entries(b.schema)) {
        for (const [col, c] of Object.entries(t.columns)) {
          if (c.type === 'integer' && /(_at|_until|_since|^seq|_seq)$/.test(col)) {
            assert.ok(b.bigints.has(`${table}.${col}`), `${table}.${col} holds a time or a sequence number: make it BIGINT on PostgreSQL`);
          }
        }
      }
    }
    // And the introspection saw something: guards against a comparison of two empty sets.
    const final = await sqliteSchema(lite);
    assert.ok(final.tenants?.columns.slug && final.deliveries?.indexes.deliveries_due?.partial);
  } finally {
    await lite.close();
    await pgDb.close();
    await pg.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});
