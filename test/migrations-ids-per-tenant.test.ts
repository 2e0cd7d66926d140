/**
 * Migration 110 (ids per tenant) on an installation that already holds data, on both stores:
 * every service, event and application row is kept as it was, seq numbers included, a seq
 * that retention removed is not handed out again, and afterwards two tenants may hold the
 * same ids.
 */
import assert from 'node:assert/strict';
import type { Db } from '../src/store/db.js';
import { migrate, type Migration } from '../src/store/migrations/index.js';
import { onBothDatabases } from './stores.js';

async function fill(db: Db): Promise<void> {
  for (const t of ['ta', 'tb']) {
    await db.execute('INSERT INTO tenants (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, 1, 1)', [t, t, t]);
  }
  await db.execute(`INSERT INTO services (id, tenant_id, slug, name, status, created_at, updated_at) VALUES ('s1', 'ta', 'asilo', 'Asilo', 'available', 1, 1)`);
  for (let i = 1; i <= 3; i++) {
    await db.execute(
      `INSERT INTO events (event_id, tenant_id, type, subject, event_version, event_created_at, app_id, data, recorded_at)
       VALUES (?, 'ta', 'application.created', 'a1', 1, 1, 'x', '{}', 1)`, [`e${i}`],
    );
  }
  await db.execute(`INSERT INTO applications (id, tenant_id, service_id, status, doc, version, created_at, updated_at, last_event_seq, last_event_at)
    VALUES ('a1', 'ta', 's1', 2000, '{"id":"a1"}', 1, 1, 1, 2, 1)`);
  // Retention removed the newest event: its seq must not come back.
  await db.execute(`DELETE FROM events WHERE event_id = 'e3'`);
}

async function check(db: Db, migrations: Migration[]): Promise<void> {
  await migrate(db, migrations.filter((m) => m.id < 110));
  await fill(db);
  const before = {
    services: await db.query('SELECT * FROM services ORDER BY seq'),
    events: await db.query('SELECT * FROM events ORDER BY seq'),
    applications: await db.query('SELECT * FROM applications ORDER BY id'),
  };
  assert.deepEqual(await migrate(db, migrations.filter((m) => m.id <= 110)), [110]);
  assert.deepEqual({
    services: await db.query('SELECT * FROM services ORDER BY seq'),
    events: await db.query('SELECT * FROM events ORDER BY seq'),
    applications: await db.query('SELECT * FROM applications ORDER BY id'),
  }, before, 'every row kept as it was');
  await migrate(db, migrations); // the later steps, as a real upgrade runs them
  const next = await db.query<{ seq: number }>(
    `INSERT INTO events (event_id, tenant_id, type, subject, event_version, event_created_at, app_id, data, recorded_at)
     VALUES ('e1', 'tb', 'application.created', 'a1', 1, 1, 'x', '{}', 1) RETURNING seq`,
  );
  assert.ok(Number(next[0].seq) > 3, `a removed seq is not reused (got ${next[0].seq})`);
  await db.execute(`INSERT INTO services (id, tenant_id, slug, name, status, created_at, updated_at) VALUES ('s1', 'tb', 'asilo', 'Asilo', 'available', 1, 1)`);
  await db.execute(`INSERT INTO applications (id, tenant_id, service_id, status, doc, version, created_at, updated_at, last_event_seq, last_event_at)
    VALUES ('a1', 'tb', 's1', 2000, '{}', 1, 1, 1, 4, 1)`);
  // Within one tenant an id is still unique.
  await assert.rejects(db.execute(`INSERT INTO events (event_id, tenant_id, type, event_version, event_created_at, app_id, data, recorded_at)
     VALUES ('e1', 'tb', 'x', 1, 1, 'x', '{}', 1)`));
  await assert.rejects(db.execute(`INSERT INTO applications (id, tenant_id, service_id, status, doc, version, created_at, updated_at, last_event_seq, last_event_at)
    VALUES ('a1', 'tb', 's1', 2000, '{}', 1, 1, 1, 4, 1)`));
}

await onBothDatabases('migration 110 keeps existing rows and seqs', check);
