import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeApplication, type ApplicationDoc } from '../domain/application.js';
import { dataJson } from './event-rows.js';
import type { NewEvent } from './types.js';

const doc = (): ApplicationDoc => normalizeApplication({
  id: 'a1', tenant: 't1', service_id: 's1', status: 2000, subject: 'Iscrizione al nido «Girotondo» / anno 2026', user_name: 'Zoë Ñúñez',
  data: { 'applicant.data.completename.data.name': 'Zoë', note: 'riga 1\nriga 2 "citata" \\ \u2028 🙂' },
});

const event = (data: Record<string, unknown>, projected: ApplicationDoc | null): NewEvent => ({
  event_id: 'e1', tenant_id: 't1', type: 'application.snapshot', subject: 'a1', event_version: 1, event_created_at: 0, app_id: 'x', data,
  ...(projected ? { projection: { kind: 'application' as const, doc: projected, mode: 'newer' as const } } : {}),
});

test("an event's data is written as JSON.stringify writes it, the snapshot's doc once", () => {
  const d = doc();
  // The snapshot's own shape: its data is the doc alone, written around the doc's JSON.
  assert.equal(dataJson(event({ application: d }, d)), JSON.stringify({ application: d }));
  // Twice the same doc: the same text (its JSON is kept, not made again).
  assert.equal(dataJson(event({ application: d }, d)), JSON.stringify({ application: d }));
  // Anything else is JSON.stringify itself: more keys beside the doc, another doc, no projection.
  assert.equal(dataJson(event({ application: d, from: 2000, to: 4000, message: null }, d)), JSON.stringify({ application: d, from: 2000, to: 4000, message: null }));
  assert.equal(dataJson(event({ application: doc() }, d)), JSON.stringify({ application: doc() }));
  assert.equal(dataJson(event({ service: { id: 's1' } }, null)), '{"service":{"id":"s1"}}');
});
