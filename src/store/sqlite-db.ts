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

export function openSqlite(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const conn = new Database(path);
  conn.pragma('journal_mode = WAL');
  conn.pragma('synchronous = NORMAL');
  conn.pragma('busy_timeout = 10000');
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
        inTx = true;
        try {
          // Inside the try: a BEGIN refused as busy (another process holds the file) must
          // still clear inTx, or every later plain statement would queue behind the lock.
          begin.run();
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
