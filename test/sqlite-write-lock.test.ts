/**
 * The SQLite driver (src/store/sqlite-db.ts) when another connection holds the file's write lock,
 * as the API and a worker on one file do to each other: a transaction waits for the lock with the
 * event loop running, plain reads go on meanwhile, and a lock never let go fails as busy.
 *
 * The other connection is a second better-sqlite3 connection in this process, released from a
 * timer of this same event loop: a BEGIN that waited inside SQLite's busy handler would stop the
 * loop, never see the release, and fail after the busy timeout.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { Db } from '../src/store/db.js';
import { openSqlite } from '../src/store/sqlite-db.js';
import { tempDir } from './harness.js';

describe('SQLite: the write lock held by another connection', () => {
  let dir: string;
  let path: string;
  let db: Db;
  let other: Database.Database;

  before(async () => {
    dir = tempDir();
    path = join(dir, 'messo.db');
    db = openSqlite(path);
    await db.execute('CREATE TABLE t (n INTEGER NOT NULL)');
    other = new Database(path);
  });
  after(async () => {
    other.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The other connection takes the write lock and writes `n`, uncommitted. */
  function holdLock(n: number): void {
    other.prepare('BEGIN IMMEDIATE').run();
    other.prepare('INSERT INTO t VALUES (?)').run(n);
  }

  const numbers = async (on: Db = db): Promise<number[]> =>
    (await on.query<{ n: number }>('SELECT n FROM t ORDER BY n')).map((r) => r.n);

  it('a transaction waits for the lock with the event loop running, then commits after it', async () => {
    holdLock(1);
    let turns = 0;
    const ticker = setInterval(() => turns++, 2);
    setTimeout(() => other.prepare('COMMIT').run(), 150);
    const started = performance.now();
    try {
      const seen = await db.tx(async (tx) => {
        await tx.execute('INSERT INTO t VALUES (2)');
        return numbers(tx);
      });
      // Its transaction began after the other committed: it reads the other's row.
      assert.deepEqual(seen, [1, 2]);
    } finally {
      clearInterval(ticker);
    }
    assert.ok(performance.now() - started >= 140, 'the transaction waited for the lock');
    assert.ok(turns >= 20, `timers ran ${turns} times while BEGIN waited 150 ms`);
    assert.deepEqual(await numbers(), [1, 2]);
  });

  it('plain reads run while a transaction waits for the lock; its writes wait for it', async () => {
    await db.execute('DELETE FROM t');
    holdLock(3);
    const order: string[] = [];
    const tx = db.tx(async (t) => {
      order.push('tx');
      await t.execute('INSERT INTO t VALUES (4)');
    });
    await sleep(20);
    // The transaction is waiting for BEGIN. The read sees neither row: the other's is
    // uncommitted, the transaction has not begun.
    const rows = await db.query<{ c: number }>('SELECT count(*) AS c FROM t');
    order.push(`read ${rows[0]!.c}`);
    other.prepare('COMMIT').run();
    await tx;
    assert.deepEqual(order, ['read 0', 'tx']);
    assert.deepEqual(await numbers(), [3, 4]);
  });

  it('a lock never let go fails as SQLITE_BUSY after the busy timeout, and leaves nothing stuck', async () => {
    const impatient = openSqlite(path, { busyTimeoutMs: 200 });
    try {
      await impatient.execute('DELETE FROM t');
      holdLock(5);
      const started = performance.now();
      await assert.rejects(
        impatient.tx((t) => t.execute('INSERT INTO t VALUES (6)')),
        (err: { code?: string }) => err.code === 'SQLITE_BUSY',
      );
      const waited = performance.now() - started;
      assert.ok(waited >= 190 && waited < 2_000, `failed after ${Math.round(waited)} ms`);
      other.prepare('ROLLBACK').run();
      // No transaction was left open and the driver's own lock is free: the next one commits.
      await impatient.tx((t) => t.execute('INSERT INTO t VALUES (7)'));
      assert.deepEqual(await numbers(impatient), [7]);
    } finally {
      if (other.inTransaction) other.prepare('ROLLBACK').run();
      await impatient.close();
    }
  });
});
