/**
 * The Store contract on PostgreSQL (a fresh schema for every case), and the pg driver's own
 * promises: numbered placeholders, numbers for BIGINT, UniqueViolation, transactions,
 * search_path per schema, reconnection after the server drops a connection, and migrations
 * that several processes may start at once.
 */
import { it, test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../src/store/index.js';
import { storeContract } from './store-contract/contract.js';
import { freshPgStore } from './stores.js';
import { UniqueViolation } from '../src/store/db.js';
import { numberPlaceholders, openPostgres, type PgDb } from '../src/store/pg-db.js';
import { openPostgresStore } from '../src/store/postgres-store.js';
import { generateKeyEntry, parseKeyring } from '../src/domain/encryption.js';

const RING = parseKeyring(generateKeyEntry());
import { postgresMigrations } from '../src/store/migrations/postgres.js';
import { describeOnPg, freshPgSchema, pgAdmin, pgSkip, PG_URL, type PgSchema } from './pg.js';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { normalizeApplication } from '../src/domain/application.js';
import { EVENT_TYPES } from '../src/domain/events.js';
import { uuid } from '../src/domain/ids.js';
import { classifyAgainst, type AppliedSnapshot } from '../src/domain/snapshot.js';
import { MAX_PRATICA_LOCKS, READ_PRATICHE } from '../src/store/applied.js';
import type { AppendResult, NewEvent } from '../src/store/index.js';
import { createdEvent, newApp, service, snapshotEvent, T0, tenant, webhook } from './store-contract/fixtures.js';
import { waitUntil } from './harness.js';

const pgClient = pg.Client;

const skip = await pgSkip();

if (skip) {
  test('Store contract: postgres', { skip }, () => undefined);
} else {
  storeContract('postgres', (options) => freshPgStore(options));
}

/** A driver on a fresh schema, closed and dropped after `fn`. */
async function withDb(fn: (db: PgDb, pg: PgSchema) => Promise<void>): Promise<void> {
  const pg = await freshPgSchema();
  const db = openPostgres(PG_URL, { schema: pg.schema, max: 3 });
  try {
    await fn(db, pg);
  } finally {
    await db.close();
    await pg.drop();
  }
}

/** A migrated store of one connection on a fresh schema, closed and dropped after `fn`. */
async function withStore(fn: (store: Awaited<ReturnType<typeof openPostgresStore>>, pg: PgSchema) => Promise<void>): Promise<void> {
  const pg = await freshPgSchema();
  const store = await openPostgresStore(pg.url, RING, { max: 1 });
  try {
    await store.migrate();
    await fn(store, pg);
  } finally {
    await store.close();
    await pg.drop();
  }
}

await describeOnPg('pg driver', () => {
  it('numbers placeholders, returns BIGINT and NUMERIC as numbers, counts changed rows', () => withDb(async (db) => {
    await db.execute('CREATE TABLE t (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at BIGINT NOT NULL, name TEXT, r DOUBLE PRECISION)');
    const at = Date.UTC(2025, 10, 20, 10, 0, 0, 123);
    const rows = await db.query<{ id: number; at: number }>('INSERT INTO t (at, name, r) VALUES (?, ?, ?), (?, ?, ?) RETURNING id, at',
      [at, 'a', 1.5, at + 1, 'b?', null]);
    assert.deepEqual(rows, [{ id: 1, at }, { id: 2, at: at + 1 }]);
    const [agg] = await db.query<{ n: number; s: number; avg: number }>('SELECT COUNT(*) AS n, SUM(at) AS s, AVG(id) AS avg FROM t WHERE name LIKE ?', ['%']);
    assert.deepEqual(agg, { n: 2, s: 2 * at + 1, avg: 1.5 });
    assert.equal(await db.execute("UPDATE t SET name = 'x?' WHERE at >= ?", [at]), 2);
    assert.equal(await db.execute('DELETE FROM t WHERE id = ?', [99]), 0);
  }));

  it('turns a unique violation into UniqueViolation naming the constraint', () => withDb(async (db) => {
    await db.execute('CREATE TABLE u (slug TEXT NOT NULL UNIQUE)');
    await db.execute('INSERT INTO u (slug) VALUES (?)', ['a']);
    await assert.rejects(db.execute('INSERT INTO u (slug) VALUES (?)', ['a']), (err: unknown) => {
      assert.ok(err instanceof UniqueViolation);
      assert.equal(err.constraint, 'u_slug_key');
      return true;
    });
    // Other errors pass through untouched, with their SQLSTATE.
    await assert.rejects(db.query('SELECT nope FROM u'), { code: '42703' });
  }));

  it('commits a transaction whole, rolls it back whole, and reuses its client when nested', () => withDb(async (db) => {
    await db.execute('CREATE TABLE k (v INTEGER NOT NULL)');
    await db.tx(async (t) => {
      await t.execute('INSERT INTO k VALUES (?)', [1]);
      await t.tx(async (inner) => inner.execute('INSERT INTO k VALUES (?)', [2]));
      const [pids] = await t.query<{ a: number }>('SELECT pg_backend_pid() AS a');
      const [inner] = await t.tx((i) => i.query<{ a: number }>('SELECT pg_backend_pid() AS a'));
      assert.equal(inner.a, pids.a, 'the nested tx runs on the same connection');
    });
    await assert.rejects(db.tx(async (t) => {
      await t.execute('INSERT INTO k VALUES (?)', [3]);
      throw new Error('changed my mind');
    }), /changed my mind/);
    await assert.rejects(db.tx(async (t) => {
      await t.execute('INSERT INTO k VALUES (?)', [4]);
      await t.execute('INSERT INTO k VALUES (?)', [null]);
    }), { code: '23502' });
    const rows = await db.query<{ v: number }>('SELECT v FROM k ORDER BY v');
    assert.deepEqual(rows.map((r) => r.v), [1, 2]);
    // Every client went back to the pool, none left inside a transaction.
    assert.equal(db.pool.totalCount - db.pool.idleCount, 0);
  }));

  it('keeps each schema apart through search_path', () => withDb(async (db, pg) => {
    const other = await freshPgSchema();
    const db2 = openPostgres(PG_URL, { schema: other.schema });
    try {
      await db.execute('CREATE TABLE same_name (v TEXT)');
      await db2.execute('CREATE TABLE same_name (v TEXT)');
      await db.execute('INSERT INTO same_name VALUES (?)', ['mine']);
      assert.deepEqual(await db2.query('SELECT * FROM same_name'), []);
      const [where] = await db.query<{ s: string }>('SELECT current_schema() AS s');
      assert.equal(where.s, pg.schema);
    } finally {
      await db2.close();
      await other.drop();
    }
  }));

  it('reconnects by itself after the server drops its connections', () => withDb(async (db) => {
    const errors: Error[] = [];
    const watched = openPostgres(PG_URL, { schema: (await db.query<{ s: string }>('SELECT current_schema() AS s'))[0].s, onError: (e) => errors.push(e) });
    try {
      const [before] = await watched.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // What a restart does to a client: the server ends the backend (57P01 admin_shutdown).
      await pgAdmin((c) => c.query('SELECT pg_terminate_backend($1)', [before.pid]));
      // The first statement may land on the dead client and fail; the pool then drops it.
      let after: { pid: number } | undefined;
      for (let i = 0; i < 2 && !after; i++) {
        after = await watched.query<{ pid: number }>('SELECT pg_backend_pid() AS pid').then((r) => r[0], () => undefined);
      }
      assert.ok(after, 'a statement succeeds on a new connection');
      assert.notEqual(after.pid, before.pid);
      // A transaction after the drop works as well.
      assert.equal(await watched.tx((t) => t.query('SELECT 1 AS one').then((r) => r.length)), 1);
    } finally {
      await watched.close();
    }
  }));

  it('prepares a statement with parameters once per connection, a long one never, and a stale one again', () => withDb(async (db, pg) => {
    // One connection, so that every statement below meets what the ones before it prepared.
    const one = openPostgres(PG_URL, { schema: pg.schema, max: 1 });
    // A query without parameters is named too, so this one is listed in its own answer (messo_2).
    const LIST = "SELECT name, statement FROM pg_prepared_statements WHERE statement NOT LIKE '%pg_prepared_statements%' ORDER BY name";
    const prepared = () => one.query(LIST);
    try {
      await one.execute("CREATE TABLE p (id BIGINT PRIMARY KEY, v TEXT); INSERT INTO p VALUES (1, 'a'), (2, 'b')");
      const read = (id: number) => one.tx((t) => t.query('SELECT * FROM p WHERE id = ?', [id]));
      for (const id of [1, 2, 1]) assert.deepEqual(await read(id), [{ id, v: id === 1 ? 'a' : 'b' }]);
      const ids = Array.from({ length: 101 }, (_, i) => i);
      assert.equal((await one.query(`SELECT id FROM p WHERE id IN (${ids.map(() => '?').join(', ')})`, ids)).length, 2);
      // A query without parameters, twice: planned once. A script of two runs unnamed.
      for (let i = 0; i < 2; i++) assert.deepEqual(await one.query('WITH n AS (SELECT count(*)::int AS n FROM p) SELECT n FROM n'), [{ n: 2 }]);
      await one.execute("UPDATE p SET v = v WHERE id = 1; SELECT 1");
      assert.deepEqual(await prepared(), [
        { name: 'messo_0', statement: 'SELECT * FROM p WHERE id = $1' },
        { name: 'messo_1', statement: 'WITH n AS (SELECT count(*)::int AS n FROM p) SELECT n FROM n' },
      ], 'parsed once; 101 parameters, a script and DDL run unnamed');

      // Another process migrates: the prepared SELECT * no longer fits the table's columns. The
      // transaction fails once; its connection goes back to the pool, and the text is prepared
      // there again under a new name.
      await one.execute("ALTER TABLE p ADD COLUMN w TEXT NOT NULL DEFAULT 'x'");
      await assert.rejects(read(1), (err: { code?: string }) => err.code === '0A000');
      assert.deepEqual(await read(1), [{ id: 1, v: 'a', w: 'x' }]);
      assert.deepEqual(await prepared(), [
        { name: 'messo_0', statement: 'SELECT * FROM p WHERE id = $1' },
        { name: 'messo_1', statement: 'WITH n AS (SELECT count(*)::int AS n FROM p) SELECT n FROM n' },
        { name: 'messo_3', statement: 'SELECT * FROM p WHERE id = $1' },
      ]);
    } finally {
      await one.close();
    }
    // ?prepared_statements=false (a pooler that cannot keep them): none.
    const unnamed = openPostgres(PG_URL, { schema: pg.schema, max: 1, prepare: false });
    try {
      for (const id of [1, 2, 1, 2, 1, 2]) assert.equal((await unnamed.query('SELECT * FROM p WHERE id = ?', [id])).length, 1);
      assert.deepEqual(await unnamed.query('SELECT name FROM pg_prepared_statements'), []);
    } finally {
      await unnamed.close();
    }
  }));

  it('a relaxed transaction commits without waiting for the WAL flush, and only that transaction', () => withDb(async (db, pg) => {
    const one = openPostgres(PG_URL, { schema: pg.schema, max: 1 });
    const setting = (t: { query: PgDb['query'] }) => t.query<{ synchronous_commit: string }>('SHOW synchronous_commit').then((r) => r[0].synchronous_commit);
    try {
      const server = await setting(one);
      assert.equal(await one.tx(setting, { relaxed: true }), 'off');
      assert.equal(await one.tx(setting), server, 'SET LOCAL: the same connection is back to the server default');
      assert.deepEqual(await one.tx(async (t) => [await setting(t), await t.tx(setting, { relaxed: true }), await setting(t)]), [server, 'off', 'off'],
        'nested: from there to the outer commit');
      assert.equal(await setting(one), server);
    } finally {
      await one.close();
    }
  }));

  it('sends a NOTIFY asked in a transaction with its COMMIT, and none for a rolled-back one', () => withDb(async (db, pg) => {
    const channel = `messo_t_${pg.schema.slice(-12)}`;
    const listener = new pgClient({ connectionString: PG_URL });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (n) => heard.push(n.channel));
    try {
      await listener.query(`LISTEN ${channel}`);
      await assert.rejects(db.tx(async (t) => {
        t.notifyOnCommit!(channel);
        throw new Error('rolled back');
      }), /rolled back/);
      const seen = await db.tx(async (t) => {
        t.notifyOnCommit!(channel);
        t.notifyOnCommit!(channel);
        await t.tx(async (inner) => inner.notifyOnCommit!(channel));
        await sleep(100);
        return heard.length;
      });
      assert.equal(seen, 0, 'nothing before the commit');
      await waitUntil(() => heard.length > 0, 5_000, 'the notification');
      await sleep(100);
      assert.deepEqual(heard, [channel], 'one notification, at the commit; none from the rolled-back transaction');
      assert.equal(db.notifyOnCommit, undefined, 'outside a transaction there is nothing to send it with');
    } finally {
      await listener.end();
    }
  }));

  it('close is idempotent', async () => {
    const db = openPostgres(PG_URL);
    await db.query('SELECT 1');
    await Promise.all([db.close(), db.close()]);
    await db.close();
  });
});

await describeOnPg('postgres migrations', () => {
  it('applies every step once when several stores start on one schema at the same time', async () => {
    const pg = await freshPgSchema();
    const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore(pg.url, RING, { max: 2 })));
    try {
      await Promise.all(stores.map((s) => s.migrate()));
      await Promise.all(stores.map((s) => s.migrate()));
      const rows = await stores[0].pg.query<{ id: number; name: string }>('SELECT id, name FROM schema_migrations ORDER BY id');
      assert.deepEqual(rows, postgresMigrations.map((m) => ({ id: m.id, name: m.name })));
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await pg.drop();
    }
  });

  it('compresses a pratica\'s doc, the event\'s data and a body with lz4 where the server has it', () => withStore(async (store, pg) => {
    const [server] = await store.pg.query<{ v: number }>("SELECT current_setting('server_version_num')::int AS v");
    const lz4 = server.v >= 140000 && await pgAdmin((c) => c.query('CREATE TEMP TABLE probe_lz4 (t TEXT COMPRESSION lz4)').then(() => true, () => false));
    const columns = await store.pg.query<{ c: string; m: string }>(
      `SELECT c.relname || '.' || a.attname AS c, a.attcompression AS m FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
       WHERE c.relnamespace = ?::regnamespace AND (c.relname, a.attname) IN
         (('events', 'data'), ('applications', 'doc'), ('payloads', 'body'), ('attempts', 'response_body'), ('inspector_captures', 'body'))
       ORDER BY 1`, [pg.schema],
    );
    const want = lz4 ? 'l' : '';
    assert.deepEqual(columns, ['applications.doc', 'attempts.response_body', 'events.data', 'inspector_captures.body', 'payloads.body']
      .map((c) => ({ c, m: want })));
    if (!lz4) return;
    // A value past the 2 KB a row may hold uncompressed is written with it.
    const t = await tenant(store);
    const svc = await service(store, t.id);
    const doc = normalizeApplication({ id: uuid(), tenant: t.id, service_id: svc.id, status: 2000, subject: 'x'.repeat(3000) });
    await store.appendEvents([snapshotEvent(t.id, doc, T0, 'application.snapshot')]);
    const [row] = await store.pg.query<{ e: string; a: string }>(
      'SELECT pg_column_compression(e.data) AS e, pg_column_compression(a.doc) AS a FROM events e JOIN applications a ON a.id = e.subject',
    );
    assert.deepEqual(row, { e: 'lz4', a: 'lz4' });
  }));

  it('writes the data of snapshots that go in together as their docs wrapped, byte for byte', () => withStore(async (store) => {
    const t = await tenant(store);
    const svc = await service(store, t.id);
    const docs = ['Mario', 'Giulia "la" Rossi', 'Zoë \\ ☃'].map((name) =>
      normalizeApplication({ id: uuid(), tenant: t.id, service_id: svc.id, status: 2000, user_name: name }));
    const events = docs.map((d) => snapshotEvent(t.id, d, T0, 'application.snapshot'));
    // Data with more than the doc goes as it is.
    events[1] = { ...events[1], data: { application: docs[1], note: 'more than the doc' } };
    // Another snapshot of the first pratica goes after the others, on its own: the first three go in one statement (insertAhead).
    events.push(snapshotEvent(t.id, docs[0], T0 + 1000, 'application.snapshot'));
    await store.appendEvents(events);
    const rows = await store.pg.query<{ event_id: string; data: string }>("SELECT event_id, data FROM events WHERE type = 'application.snapshot' ORDER BY seq");
    assert.deepEqual(rows, events.map((e) => ({ event_id: e.event_id, data: JSON.stringify(e.data) })));
  }));

  for (const others of [0, MAX_PRATICA_LOCKS + 36]) {
    const what = others === 0 ? 'a single snapshot' : `a batch of ${others + 1} pratiche (its tenant locked whole)`;
    it(`classifies a snapshot only once another process's snapshot of the same pratica has committed: ${what}`, async () => {
      // Two processes on one schema. A's transaction is held open after classifying its snapshots
      // (a bare connection keeps the deliveries table locked); B's snapshot of the same pratica,
      // posted meanwhile, must wait for A's commit and be judged against it (store/applied.ts).
      const pg = await freshPgSchema();
      const [a, b] = await Promise.all([openPostgresStore(pg.url, RING), openPostgresStore(pg.url, RING)]);
      const holder = new pgClient({ connectionString: PG_URL });
      await holder.connect();
      try {
        await a.migrate();
        const t = await tenant(a);
        const svc = await service(a, t.id);
        await webhook(a, t.id, { trigger: 'all' });
        const id = uuid();
        const doc = (status: number, pratica = id) => normalizeApplication({ id: pratica, tenant: t.id, service_id: svc.id, status });
        const judged: string[] = [];
        const snapshot = (status: number, at: number, then?: () => void): NewEvent => ({
          ...snapshotEvent(t.id, doc(status), at, 'application.snapshot'),
          classify: (prior) => {
            judged.push(`${status} against ${prior ? prior.doc.status : 'nothing'}`);
            then?.();
            return classifyAgainst(prior, doc(status), at);
          },
        });
        const rest = Array.from({ length: others }, () => {
          const d = doc(2000, uuid());
          return { ...snapshotEvent(t.id, d, T0, 'application.snapshot'), classify: (prior: AppliedSnapshot | null) => classifyAgainst(prior, d, T0) };
        });
        await holder.query(`BEGIN; LOCK TABLE "${pg.schema}".deliveries IN SHARE MODE`);
        let second: Promise<AppendResult[]> | undefined;
        const first = a.appendEvents([snapshot(2000, T0, () => { second = b.appendEvents([snapshot(4000, T0 + 1000)]); }), ...rest]);
        await sleep(300);
        assert.deepEqual(judged, ['2000 against nothing'], "B's snapshot waits while A's transaction is open");
        // A lock per pratica would be one per pratica of the batch: the lock table is shared.
        const [held] = (await holder.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND granted`, [0x70726174])).rows;
        assert.ok(held.n <= MAX_PRATICA_LOCKS, `${held.n} pratica locks held`);
        await holder.query('COMMIT');
        const [[one], [two]] = await Promise.all([first, second!]);
        assert.deepEqual(judged, ['2000 against nothing', '4000 against 2000']);
        assert.deepEqual([one.event.type, two.event.type], [EVENT_TYPES.applicationCreated, EVENT_TYPES.applicationStatusChanged]);
        assert.equal(two.event.data.from, 2000);
      } finally {
        await holder.end();
        await Promise.all([a.close(), b.close()]);
        await pg.drop();
      }
    });
  }

  it('creates the schema named in the URL when it does not exist yet', async () => {
    const name = `messo_t_new_${Date.now().toString(36)}`;
    const store = await openStore(`${PG_URL}?schema=${name}`);
    try {
      const [n] = await pgAdmin((c) => c.query('SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1', [name]))
        .then((r) => r.rows);
      assert.ok(n.n >= 9, `tables in ${name}: ${n.n}`);
      assert.equal(store.dialect, 'postgres');
    } finally {
      await store.close();
      await pgAdmin((c) => c.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`));
    }
  });

  it('opens over a Unix socket written as libpq writes it, an empty host and ?host=<directory>', async (t) => {
    // `postgres://user@/db?host=/run/postgresql`: node-postgres reads it, `new URL` refuses it.
    const [{ dir }] = await pgAdmin((c) => c.query("SELECT split_part(current_setting('unix_socket_directories'), ',', 1) AS dir")).then((r) => r.rows);
    const { user, database, port } = new pg.Client({ connectionString: PG_URL });
    const name = `messo_t_sock_${Date.now().toString(36)}`;
    const url = `postgres://${user}@/${database}?host=${dir}&port=${port}&schema=${name}`;
    const probe = new pg.Client({ connectionString: url });
    const reason = dir ? await probe.connect().then(() => null, (err: Error) => `not reachable over ${dir}: ${err.message}`) : 'the server has no Unix socket';
    await probe.end().catch(() => undefined);
    if (reason) return t.skip(reason);
    const store = await openStore(url);
    try {
      const [n] = await pgAdmin((c) => c.query('SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1', [name])).then((r) => r.rows);
      assert.ok(n.n >= 9, `tables in ${name}: ${n.n}`);
    } finally {
      await store.close();
      await pgAdmin((c) => c.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`));
    }
  });
});

await describeOnPg('postgres plans', () => {
  it("reads a group's pratiche by key, in pages that do not grow with the tenant, even with a plan made on an empty table", async () => {
    // The store's statements are prepared, and a prepared statement's generic plan is made on its
    // first runs: in a new schema, on an empty table, before autovacuum has counted a row.
    const pg = await freshPgSchema();
    const store = await openPostgresStore(pg.url, RING);
    try {
      await store.migrate();
      const t = await tenant(store);
      const pages = await pgAdmin(async (c) => {
        await c.query(`SET search_path TO "${pg.schema}"; SET plan_cache_mode = force_generic_plan`);
        await c.query(`PREPARE read_pratiche AS ${numberPlaceholders(READ_PRATICHE)}`);
        const pairs = (...ids: string[]) => c.escapeLiteral(JSON.stringify(ids.map((i) => ({ t: t.id, i }))));
        assert.equal((await c.query(`EXECUTE read_pratiche(${pairs('p-1')})`)).rowCount, 0);
        await c.query(`INSERT INTO applications (id, tenant_id, service_id, status, doc, version, created_at, updated_at, last_event_seq, last_event_at)
          SELECT 'p-' || i, $1, 's', 2000, repeat('x', 500), 1, 0, 0, i, 0 FROM generate_series(1, 3000) AS i`, [t.id]);
        const found = await c.query(`EXECUTE read_pratiche(${pairs('p-17', 'p-2999', 'p-missing')})`);
        assert.deepEqual(found.rows.map((r) => r.id).sort(), ['p-17', 'p-2999']);
        const [{ 'QUERY PLAN': [plan] }] = (await c.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE read_pratiche(${pairs('p-17', 'p-2999', 'p-missing')})`)).rows;
        return plan.Plan['Shared Hit Blocks'] + plan.Plan['Shared Read Blocks'];
      });
      // Three lookups: a few index pages and one heap page each. The tenant's rows fill ~200 pages.
      assert.ok(pages <= 15, `${pages} pages read for three pratiche of a tenant of 3,000`);
    } finally {
      await store.close();
      await pg.drop();
    }
  });

  it('analyses a table autovacuum leaves alone once it changed by autovacuum\'s rule, then not again until it changes', async () => {
    const pg = await freshPgSchema();
    // One connection, so that flush() below reaches the backend that holds the row counts.
    const store = await openPostgresStore(pg.url, RING, { max: 1 });
    try {
      await store.migrate();
      // Autovacuum off for this table, whatever the server's setting.
      await pgAdmin((c) => c.query(`ALTER TABLE "${pg.schema}".deliveries SET (autovacuum_enabled = false)`));
      const t = await tenant(store);
      const svc = await service(store, t.id);
      await webhook(store, t.id, { trigger: 'all' });
      const stats = () => pgAdmin(async (c) => (await c.query(
        `SELECT s.n_tup_ins::int AS inserted, s.last_analyze IS NOT NULL AS analysed, c.reltuples::int AS tuples
         FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid WHERE s.schemaname = $1 AND s.relname = 'deliveries'`, [pg.schema])).rows[0]);
      // A backend reports its row counts when idle, 10 s apart at most (PostgreSQL 15): sooner if asked.
      const flush = () => store.pg.execute(`DO $$ BEGIN IF to_regproc('pg_stat_force_next_flush') IS NOT NULL THEN PERFORM pg_stat_force_next_flush(); END IF; END $$`);
      await store.appendEvents(Array.from({ length: 40 }, (_, i) => createdEvent(newApp(t.id, svc, 2000, T0 + i))));
      await flush();
      await waitUntil(async () => (await stats()).inserted === 40, 10_000, '40 inserts counted');
      assert.ok(!(await store.keepStatistics()).includes('deliveries'), '40 changes: under 50 + 10 %');
      await store.appendEvents(Array.from({ length: 80 }, (_, i) => createdEvent(newApp(t.id, svc, 2000, T0 + 100 + i))));
      await flush();
      await waitUntil(async () => (await stats()).inserted === 120, 10_000, '120 inserts counted');
      assert.ok((await store.keepStatistics()).includes('deliveries'));
      assert.deepEqual(await stats(), { inserted: 120, analysed: true, tuples: 120 });
      assert.ok(!(await store.keepStatistics()).includes('deliveries'), 'nothing changed since');
    } finally {
      await store.close();
      await pg.drop();
    }
  });
});
