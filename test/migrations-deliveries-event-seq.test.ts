/**
 * Migration 220 (a delivery keeps its event's seq; the indexes on its event_id and subject go)
 * on an installation that already holds deliveries, on both stores: each delivery gets the seq
 * of its own tenant's event of that event_id (two tenants may share an event_id), a delivery
 * whose event retention removed keeps none, and the list's filters by event and by pratica find
 * what they found before.
 */
import assert from 'node:assert/strict';
import type { Db } from '../src/store/db.js';
import { migrate, type Migration } from '../src/store/migrations/index.js';
import { deliveryWhere } from '../src/store/delivery-filter.js';
import { onBothDatabases } from './stores.js';

async function check(db: Db, migrations: Migration[]): Promise<void> {
  await migrate(db, migrations.filter((m) => m.id < 220));
  for (const t of ['ta', 'tb']) await db.execute('INSERT INTO tenants (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, 1, 1)', [t, t, t]);
  const events: [string, string, string][] = [['ta', 'ev1', 'p1'], ['ta', 'ev2', 'p1'], ['ta', 'ev3', 'p2'], ['tb', 'ev1', 'p1']];
  const seqs = new Map<string, number>();
  for (const [tenant, eventId, subject] of events) {
    const [row] = await db.query<{ seq: number }>(
      `INSERT INTO events (event_id, tenant_id, type, subject, event_version, event_created_at, app_id, data, recorded_at)
       VALUES (?, ?, 'application.created', ?, 1, 1, 'test', '{}', 1) RETURNING seq`, [eventId, tenant, subject]);
    seqs.set(`${tenant}/${eventId}`, Number(row.seq));
  }
  // d5's event is gone (retention removed it before this migration kept events for their deliveries).
  const deliveries: [string, string, string, string][] = [['d1', 'ta', 'ev1', 'p1'], ['d2', 'ta', 'ev2', 'p1'], ['d3', 'ta', 'ev3', 'p2'], ['d4', 'tb', 'ev1', 'p1'], ['d5', 'ta', 'gone', 'p3']];
  for (const [id, tenant, eventId, subject] of deliveries) {
    await db.execute(`INSERT INTO deliveries (id, tenant_id, webhook_id, event_id, event_type, subject, endpoint_key, status, payload_id, created_at, updated_at)
      VALUES (?, ?, 'wh', ?, 'application.created', ?, 'http://127.0.0.1:9', 'pending', 'p', 1, 1)`, [id, tenant, eventId, subject]);
  }
  assert.deepEqual(await migrate(db, migrations.filter((m) => m.id <= 220)), [220]);
  const rows = await db.query<{ id: string; event_seq: number | null }>('SELECT id, event_seq FROM deliveries ORDER BY id');
  assert.deepEqual(rows.map((r) => [r.id, r.event_seq === null ? null : Number(r.event_seq)]),
    [['d1', seqs.get('ta/ev1')], ['d2', seqs.get('ta/ev2')], ['d3', seqs.get('ta/ev3')], ['d4', seqs.get('tb/ev1')], ['d5', null]]);
  const listed = async (tenant: string, filter: { event_id?: string; subject?: string }) => {
    const { where, params } = deliveryWhere(db.dialect, tenant, filter);
    return (await db.query<{ id: string }>(`SELECT d.id FROM deliveries d WHERE ${where.join(' AND ')} ORDER BY d.id`, params)).map((r) => r.id);
  };
  assert.deepEqual(await listed('ta', { event_id: 'ev1' }), ['d1']);
  assert.deepEqual(await listed('tb', { event_id: 'ev1' }), ['d4']);
  assert.deepEqual(await listed('ta', { subject: 'p1' }), ['d1', 'd2']);
  assert.deepEqual(await listed('tb', { subject: 'p1' }), ['d4']);
  assert.deepEqual(await listed('ta', { subject: 'p3' }), [], 'an event retention removed took its deliveries out of the filters');
  await migrate(db, migrations);
}

await onBothDatabases("migration 220 gives every delivery its own tenant's event's seq", check);
