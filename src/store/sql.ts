/**
 * Small SQL helpers shared by the store's modules (claims, deliveries, outbox…). Kept apart so
 * those modules import it and not one another.
 */
import type { Db, SqlValue } from './db.js';
import { ATTEMPT_OUTCOME, DELIVERY_STATUS } from './types.js';

export const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/**
 * An array as one parameter, PostgreSQL only: the pg driver sends a JavaScript array as an array
 * literal (the port's SqlValue names no array, as SQLite takes none).
 */
export const pgArray = (values: readonly SqlValue[]): SqlValue => values as unknown as SqlValue;

/**
 * `column` is one of `values`: on PostgreSQL `= ANY(?::<pgType>[])`, one parameter and one
 * statement text for any count, prepared once per connection; an IN list was a text per count
 * (37–61 of them for a claim's candidates, as many for its take), each parsed and planned apart.
 * End to end, 11,000 events: those two statements' planning 206–283 → 12–16 ms of the server's
 * CPU (BENCHMARKS.md). SQLite takes no arrays: a list, each count prepared once and kept
 * (sqlite-db.ts).
 */
export function anyOf(t: Pick<Db, 'dialect'>, column: string, values: readonly SqlValue[], pgType: 'bigint' | 'text'): { sql: string; params: SqlValue[] } {
  if (t.dialect === 'postgres') return { sql: `${column} = ANY(?::${pgType}[])`, params: [pgArray(values)] };
  return { sql: `${column} IN (${placeholders(values.length)})`, params: [...values] };
}

export interface InsertOptions {
  /** Rows per VALUES list at most. */
  perStatement: number;
  /** What follows the rows (ON CONFLICT …). */
  tail?: string;
  /** The PostgreSQL type of each `?` of the tuple, in order: see insertMany. */
  pgTypes?: readonly string[];
}

/**
 * `rows` as multi-row INSERTs of `perStatement` rows at most: `head` is the statement up to
 * VALUES, `tuple` one row's `(?, …)`, `tail` what follows the values. Answers the rows made.
 *
 * With `pgTypes` (the PostgreSQL type of each `?` of the tuple, in order), PostgreSQL gets one
 * array per column instead (`SELECT … FROM unnest(?::text[], …)`): one statement text for any
 * count of rows, prepared and planned once, where a VALUES list of its own size was parsed and
 * planned at every group (past 100 parameters it ran unnamed: pg-db.ts). A loop of 105-row
 * inserts into a 4-column table with its primary key: 13.7–14.3 → 9.2–10.2 µs of the server's
 * CPU a row (BENCHMARKS.md). All the rows go in one statement there (`perStatement` bounds the
 * parameters of a VALUES list; the arrays are a parameter per column). Not for long values: an
 * array's elements are escaped and parsed again, which a parameter's are not.
 */
export async function insertMany(t: Db, head: string, tuple: string, rows: SqlValue[][], options: InsertOptions): Promise<number> {
  const { perStatement, tail = '', pgTypes } = options;
  if (pgTypes && t.dialect === 'postgres') return rows.length === 0 ? 0 : t.execute(unnestInsert(head, tuple, pgTypes, tail), columnsOf(rows, pgTypes.length));
  let made = 0;
  for (let i = 0; i < rows.length; i += perStatement) {
    const part = rows.slice(i, i + perStatement);
    made += await t.execute(`${head} VALUES ${part.map(() => tuple).join(', ')}${tail}`, part.flat());
  }
  return made;
}

/** `head SELECT <tuple, each ? a column of u> FROM unnest(?::type[], …) … tail`, made once per text. */
const unnestInserts = new Map<string, string>();
function unnestInsert(head: string, tuple: string, pgTypes: readonly string[], tail: string): string {
  const key = `${head}\n${tuple}\n${pgTypes.join(',')}\n${tail}`;
  let sql = unnestInserts.get(key);
  if (sql === undefined) {
    let n = 0;
    const select = tuple.trim().replace(/^\(|\)$/g, '').replace(/\?/g, () => `u.c${++n}`);
    if (n !== pgTypes.length) throw new Error(`insertMany: ${n} placeholders, ${pgTypes.length} types`);
    const arrays = pgTypes.map((type) => `?::${type}[]`).join(', ');
    // In the rows' order, as a VALUES list goes: identity columns (deliveries.seq, which orders a
    // pratica's deliveries) are given in it.
    const names = pgTypes.map((_, i) => `c${i + 1}`).join(', ');
    sql = `${head} SELECT ${select} FROM unnest(${arrays}) WITH ORDINALITY AS u(${names}, o) ORDER BY u.o${tail}`;
    unnestInserts.set(key, sql);
  }
  return sql;
}

/** The rows' values column by column: one array parameter each (PostgreSQL only: pgArray). */
function columnsOf(rows: SqlValue[][], width: number): SqlValue[] {
  const columns = Array.from({ length: width }, () => new Array<SqlValue>(rows.length));
  rows.forEach((row, r) => {
    for (let c = 0; c < width; c++) columns[c][r] = row[c];
  });
  return columns.map(pgArray);
}

/** A transaction of the dispatcher's own bookkeeping (db.ts TxOptions). */
export const RELAXED = { relaxed: true } as const;

/**
 * On SQLite, `INSERT OR IGNORE` / `UPDATE OR IGNORE`: a statement writing many rows that may
 * abort opens a statement journal, a copy of every page it touches before it touches it,
 * spilled past 64 KiB to a temp file. OR IGNORE cannot abort, so it has none; use it where no
 * row can break a constraint (or where the rows made are counted). Measured: the search terms'
 * INSERT wrote 60 KiB per event that way, a fifth of the ingest's writes; a group's deliveries
 * in one INSERT 14 KiB more per event than one INSERT per event, none more with it; the
 * outcomes' attempt INSERT and success UPDATE 182–190 → 173–176 KiB per delivered event.
 */
export function cannotAbort(dialect: Db['dialect'], verb: 'INSERT INTO' | 'UPDATE'): string {
  return dialect === 'sqlite' ? verb.replace(/^(INSERT|UPDATE)/, '$1 OR IGNORE') : verb;
}

/**
 * The end of an INSERT that skips rows whose key is already there: on PostgreSQL `ON CONFLICT DO
 * NOTHING`; on SQLite nothing, as `cannotAbort`'s OR IGNORE already skips them (the rows never
 * carry a NULL where none is allowed, so both skip exactly the same rows).
 */
export function skipExisting(dialect: Db['dialect']): string {
  return dialect === 'postgres' ? ' ON CONFLICT DO NOTHING' : '';
}

/**
 * Each state of a constant as an SQL literal: `sqlStates({ pending: 'pending' }).pending` is
 * `'pending'` with its quotes. Refuses anything but a plain lower-case word, so a constant can
 * never break the SQL it is written into (only our constants come here, never input).
 */
export function sqlStates<T extends Record<string, string>>(states: T): { readonly [K in keyof T]: string } {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(states)) {
    if (!/^[a-z][a-z0-9_]*$/.test(value)) throw new Error(`not a state name: ${JSON.stringify(value)}`);
    out[key] = `'${value}'`;
  }
  return Object.freeze(out) as { readonly [K in keyof T]: string };
}

/**
 * Delivery states and attempt outcomes for the SQL: `WHERE status = ${STATUS.pending}`.
 *
 * Written in as literals, not bound as parameters. The partial indexes (deliveries_due is
 * `WHERE status = 'pending'`; also deliveries_sending, _order, _failed) name literals, and a
 * query naming the same literal matches them whatever the planner knows of the bound values (a
 * PostgreSQL generic plan knows none). And the statements' text stays exactly what it was when
 * the words were typed in, so their plans, measured in BENCHMARKS.md, stay too. The migrations
 * keep their own literals: they are frozen history, checked against these by sql.test.ts.
 */
export const STATUS = sqlStates(DELIVERY_STATUS);
export const OUTCOME = sqlStates(ATTEMPT_OUTCOME);
