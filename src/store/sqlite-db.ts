/**
 * SQLite driver of the database port (better-sqlite3, WAL mode).
 *
 * better-sqlite3 is synchronous, and the store is async. A transaction spans several awaits,
 * so another caller's statement could otherwise slip into it: a promise-chain lock serialises
 * transactions and makes plain statements wait while one is open. Statements are prepared once
 * and cached. Several processes may share the file (WAL + busy timeout + BEGIN IMMEDIATE).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { UniqueViolation, type Db, type SqlValue } from './db.js';
import { BACKSTOP_PAGES, startCheckpointer } from './sqlite-checkpoint.js';

type Statement = Database.Statement<unknown[], unknown>;

/** How long a statement waits for another process's lock before it fails as busy. */
const BUSY_TIMEOUT_MS = 10_000;
/** Between two tries of a busy BEGIN: the event loop runs meanwhile. */
const BEGIN_RETRY_MS = 1;

export function openSqlite(path: string, options: { busyTimeoutMs?: number } = {}): Db {
  const busyTimeoutMs = options.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const conn = new Database(path);
  conn.pragma('journal_mode = WAL');
  conn.pragma('synchronous = NORMAL');
  conn.pragma(`busy_timeout = ${busyTimeoutMs}`);
  conn.pragma('foreign_keys = ON');
  // A file's WAL is checkpointed by a thread of its own (sqlite-checkpoint.ts).
  const checkpointer = path === ':memory:' ? null : startCheckpointer(path);
  if (checkpointer) conn.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  const cache = new Map<string, Statement>();
  const begin = conn.prepare('BEGIN IMMEDIATE');
  const commit = conn.prepare('COMMIT');
  const rollback = conn.prepare('ROLLBACK');
  let lock: Promise<void> = Promise.resolve();
  let inTx = false;

  const prepare = (sql: string): Statement => {
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = conn.prepare(sql);
      cache.set(sql, stmt);
    }
    return stmt;
  };

  const translate = (err: unknown): never => {
    const e = err as { code?: string; message?: string };
    if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      throw new UniqueViolation(e.message ?? 'unique violation');
    }
    throw err;
  };

  const direct: Db = {
    dialect: 'sqlite',
    async query<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
      try {
        const stmt = prepare(sql);
        if (stmt.reader) return stmt.all(...params) as T[];
        stmt.run(...params);
        return [];
      } catch (err) {
        return translate(err);
      }
    },
    async execute(sql: string, params: readonly SqlValue[] = []): Promise<number> {
      try {
        return prepare(sql).run(...params).changes;
      } catch (err) {
        return translate(err);
      }
    },
    tx: (fn) => fn(direct),
    close: async () => undefined,
  };

  /**
   * BEGIN IMMEDIATE if the file's write lock is free now; false if another connection holds it,
   * or, on the last try, its SQLITE_BUSY.
   */
  const tryBegin = (lastTry: boolean): boolean => {
    // exec, not a prepared statement: a PRAGMA takes effect when compiled. 1 µs the pair.
    conn.exec('PRAGMA busy_timeout = 0');
    try {
      begin.run();
      return true;
    } catch (err) {
      if (!lastTry && (err as { code?: string }).code === 'SQLITE_BUSY') return false;
      throw err;
    } finally {
      conn.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    }
  };

  /**
   * Takes the file's write lock without stopping the event loop. Another process (serve and a
   * worker on one file) may hold it. SQLite's busy handler would wait inside the call, sleeping
   * 1, 2, 5 … 100 ms between its tries with the event loop stopped: at 1,000 events/s with the
   * API and a worker, the worker's BEGINs waited 3.5 s of an 8 s run (37 over 20 ms, 16 over 50)
   * and the API's 0.75 s, and deliveries arrived 169–1,431 ms after their scheduled send at p99;
   * since, mostly 40–90 ms (BENCHMARKS.md). Here a busy BEGIN is tried again every millisecond
   * from a timer, so sends, answers and requests go on meanwhile.
   */
  async function beginUnblocked(): Promise<void> {
    const deadline = Date.now() + busyTimeoutMs;
    while (!tryBegin(Date.now() >= deadline)) {
      await new Promise((resolve) => setTimeout(resolve, BEGIN_RETRY_MS));
    }
  }

  /** Waits for any open transaction, then runs `fn` while holding the lock. */
  function withLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = lock.then(fn);
    lock = run.then(() => undefined, () => undefined);
    return run;
  }

  return {
    dialect: 'sqlite',
    query: (sql, params) => (inTx ? withLock(() => direct.query(sql, params)) : direct.query(sql, params)),
    execute: (sql, params) => (inTx ? withLock(() => direct.execute(sql, params)) : direct.execute(sql, params)),
    tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
      return withLock(async () => {
        // Plain statements run while BEGIN waits for another process: only an open
        // transaction holds them back.
        await beginUnblocked();
        inTx = true;
        try {
          const result = await fn(direct);
          commit.run();
          return result;
        } catch (err) {
          if (conn.inTransaction) rollback.run();
          throw err;
        } finally {
          inTx = false;
        }
      });
    },
    async close() {
      await lock;
      await checkpointer?.stop();
      conn.close();
    },
    dataVersion: () => (conn.open ? Number(conn.pragma('data_version', { simple: true })) : 0),
  };
}
