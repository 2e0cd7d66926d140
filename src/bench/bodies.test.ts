import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applicationTerms } from '../domain/search.js';
import { ingestFeed } from './bodies.js';

test('the bench\'s pratiche are citizens of their own: names drawn from common ones, a codice fiscale each', () => {
  const feed = ingestFeed('single', { tenantId: 't', key: 'k', ingestToken: null, services: ['s1', 's2'] }, 300);
  const apps = feed.shots.map((s) => (JSON.parse(s.body) as { data: { application: Record<string, unknown> & { data: Record<string, string> } } }).data.application);
  const field = (k: string) => new Set(apps.map((a) => a.data[`applicant.data.${k}`]));
  assert.equal(field('fiscal_code.data.fiscal_code').size, 300);
  for (const cf of field('fiscal_code.data.fiscal_code')) assert.match(cf!, /^[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]$/);
  assert.ok(field('completename.data.surname').size >= 30, 'surnames repeat, as in a comune, but many');
  assert.ok(field('completename.data.name').size >= 20);
  // What messo indexes: the short id, the subject's words, the name, the surname and the codice fiscale.
  const a = apps[0];
  const terms = applicationTerms(a);
  const words = (v: string) => v.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
  for (const w of [...words(a.data['applicant.data.completename.data.surname']), a.data['applicant.data.fiscal_code.data.fiscal_code'].toLowerCase()]) {
    assert.ok(terms.includes(w), `${w} in ${terms.join(' ')}`);
  }
  assert.equal(a.user_name, `${a.data['applicant.data.completename.data.name']} ${a.data['applicant.data.completename.data.surname']}`);
});

test('the core\'s own producer bodies (--ingest opencity) are citizens of their own too', () => {
  const feed = ingestFeed('opencity', { tenantId: 't', key: 'k', ingestToken: 'tok', services: ['s1'] }, 100);
  const apps = feed.shots.map((s) => JSON.parse(s.body) as { id: string; user_name: string; data: Record<string, string> });
  assert.equal(new Set(apps.map((a) => a.data['applicant.data.fiscal_code.data.fiscal_code'])).size, 100);
  assert.equal(new Set(apps.map((a) => a.id)).size, 100);
  assert.equal(feed.path, '/ingest/opencity/tok/applications');
  // The fixture's other fields stay: what the core's producer sends.
  assert.equal(apps[0].data['child.data.name'], 'Giulia');
});
