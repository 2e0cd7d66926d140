/**
 * The application JSON of DESIGN.md in both versions, as the core's API shows it: every field
 * present in the core's order (nulls included), `status` a string, version 1 with the core's flat
 * form paths, version 2 nested without the `data` segments; Rome-offset dates without
 * milliseconds; links to the transitions of the status; the version chosen by `?version=` or
 * `X-Accept-Version`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startTestServer, type Client, type TestServer } from './harness.js';
import { assertProblem, createApplication, createService, newTenant, transition } from './api-helpers.js';

// The core's own webhook bodies (test/fixtures/opencity-reference), without the four event keys.
const EVENT_KEYS = ['event_id', 'event_created_at', 'event_version', 'app_version'];
const reference = (v: number) => Object.fromEntries(Object.entries(JSON.parse(readFileSync(
  new URL(`../../test/fixtures/opencity-reference/webhook-opencity-v${v}-2000.json`, import.meta.url), 'utf8'))).filter(([k]) => !EVENT_KEYS.includes(k)));
const REFERENCE_KEYS = Object.keys(reference(1));
const ROME_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0[12]:00$/;
const TIME_PAIRS = [
  ['creation_time', 'created_at'], ['submission_time', 'submitted_at'], ['latest_status_change_time', 'latest_status_change_at'],
  ['protocol_time', 'protocolled_at'], ['outcome_protocol_time', 'outcome_protocolled_at'],
] as const;

const FLAT = {
  'applicant.data.completename.data.name': 'Mario',
  'applicant.data.completename.data.surname': 'Rossi',
  'applicant.data.email_address': 'mario.rossi@example.org',
  'child.data.name': 'Giulia',
  nursery: 'Asilo nido Il Girasole',
};
/** The same data posted nested: flattened to the same paths. */
const NESTED = {
  applicant: { data: { completename: { data: { name: 'Mario', surname: 'Rossi' } }, email_address: 'mario.rossi@example.org' } },
  child: { data: { name: 'Giulia' } },
  nursery: 'Asilo nido Il Girasole',
};
/** Version 2: nested, every `data` segment dropped. */
const V2 = {
  applicant: { completename: { name: 'Mario', surname: 'Rossi' }, email_address: 'mario.rossi@example.org' },
  child: { name: 'Giulia' },
  nursery: 'Asilo nido Il Girasole',
};

let server: TestServer;
let client: Client;
let app: any;
let service: { id: string; slug: string };
before(async () => {
  server = await startTestServer();
  ({ client } = await newTenant(server));
  service = await createService(client, { name: "Iscrizione all'asilo nido", group_name: 'Scuola' });
  app = await createApplication(client, service.id, { status: 1900, data: FLAT, user_name: 'Mario Rossi', subject: 'Iscrizione asilo nido' });
  for (const [to, extra] of [[2000, {}], [3000, { protocol_number: '2025/0012345', protocol_document_id: 'DOC-88231' }], [4000, {}]] as const) {
    assert.equal((await transition(client, app.id, to, extra)).status, 200);
  }
});
after(async () => { await server.close(); });

function assertShape(body: Record<string, unknown>): void {
  assert.deepEqual(Object.keys(body), REFERENCE_KEYS, 'every field of DESIGN.md, in the platform order, nothing else');
  for (const [unix, iso] of TIME_PAIRS) {
    if (body[unix] === null) {
      assert.equal(body[iso], null, `${iso} is null with ${unix}`);
      continue;
    }
    assert.ok(Number.isInteger(body[unix]), `${unix} is a Unix integer`);
    assert.match(String(body[iso]), ROME_DATE, `${iso} has the Rome offset and no milliseconds`);
    assert.equal(Date.parse(String(body[iso])) / 1000, body[unix], `${iso} and ${unix} are the same instant`);
  }
}

describe('application representation', () => {
  it('answers version 1 by default: every field, nulls included, flat data keys', async () => {
    const r = await client.get(`/api/applications/${app.id}`);
    assert.equal(r.status, 200);
    assertShape(r.body);
    assert.deepEqual(r.body.data, FLAT);
    for (const k of ['user', 'backoffice_data', 'outcome', 'outcome_motivation', 'flow_changed_at', 'protocol_folder_number', 'outcome_protocol_numbers']) {
      assert.ok(k in r.body && r.body[k] === null, `${k} is present as null`);
    }
    for (const k of ['compiled_modules', 'attachments', 'outcome_attachments', 'meetings', 'integrations', 'payment_data']) {
      assert.deepEqual(r.body[k], [], `${k} is an empty list`);
    }
    assert.deepEqual(Object.values(r.body.authentication), Array(9).fill(null), 'authentication: the nine keys, null when unknown');
    const url = `${server.config.publicUrl}/api/applications/${app.id}`;
    assert.deepEqual(r.body.links, ['request-integration', 'accept', 'reject'].map((action) => ({
      action, description: { 'request-integration': 'Request integration', accept: 'Accept Application', reject: 'Reject Application' }[action],
      url: `${url}/transition/${action}?version=1`,
    })), 'the transitions of 4000 with the core defaults (protocol required, no reopening)');
    assert.equal(r.body.status, '4000');
    assert.equal(r.body.status_name, 'status_pending');
    assert.equal(r.body.service, service.slug);
    assert.equal(r.body.service_id, service.id);
    assert.equal(r.body.service_name, "Iscrizione all'asilo nido");
    assert.equal(r.body.service_group_name, 'Scuola');
    assert.equal(r.body.protocol_number, '2025/0012345');
    assert.equal(r.body.protocol_document_id, 'DOC-88231');
    assert.ok(r.body.protocol_time !== null && r.body.submission_time !== null);
    const types = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v]));
    const ref = types(reference(1));
    const got = types(r.body);
    for (const k of REFERENCE_KEYS) if (ref[k] !== 'null' && got[k] !== 'null') assert.equal(got[k], ref[k], `${k} has the reference's type`);
  });

  it('answers version 2 with nested data, by query or by header', async () => {
    for (const r of [
      await client.get(`/api/applications/${app.id}?version=2`),
      await client.get(`/api/applications/${app.id}`, { 'x-accept-version': '2' }),
    ]) {
      assert.equal(r.status, 200, r.text);
      assertShape(r.body);
      assert.deepEqual(r.body.data, V2);
    }
    const v1 = (await client.get(`/api/applications/${app.id}`, { 'x-accept-version': '1' })).body;
    const v2 = (await client.get(`/api/applications/${app.id}?version=2`)).body;
    assert.deepEqual({ ...v1, data: null, links: null }, { ...v2, data: null, links: null }, 'only data and the link urls differ between versions');
    assert.ok(v2.links.every((l: { url: string }) => l.url.endsWith('?version=2')));
    assert.deepEqual(Object.keys(v2), Object.keys(reference(2)));
  });

  it('takes nested data in and renders it flat in version 1', async () => {
    const created = await createApplication(client, service.id, { data: NESTED });
    assert.deepEqual(created.data, FLAT);
    assertShape(created);
    assert.equal(created.status, '1000');
    assert.deepEqual(created.links.map((l: { action: string }) => l.action), ['submit']);
    assert.equal(created.submission_time, null, 'a draft is not submitted');
    const v2 = await client.post('/api/applications?version=2', { service_id: service.id, data: FLAT });
    assert.equal(v2.status, 201);
    assert.deepEqual(v2.body.data, V2);
  });

  it('uses the requested version in lists and transition answers', async () => {
    const list = await client.get(`/api/applications?version=2&service_id=${service.id}&status=4000`);
    assert.equal(list.status, 200);
    assert.equal(list.body.items.length, 1);
    assertShape(list.body.items[0]);
    assert.deepEqual(list.body.items[0].data, V2);
    const other = await createApplication(client, service.id, { status: 2000, data: FLAT });
    const moved = await client.post(`/api/applications/${other.id}/transitions`, { status: 4000 }, { 'x-accept-version': '2' });
    assert.equal(moved.status, 200);
    assertShape(moved.body);
    assert.deepEqual(moved.body.data, V2);
  });

  it('refuses a version other than 1 or 2 with 400 naming where it came from', async () => {
    for (const v of ['3', '0', 'abc', '1.5']) {
      assertProblem(await client.get(`/api/applications/${app.id}?version=${v}`), 400, 'version');
      assertProblem(await client.get(`/api/applications/${app.id}`, { 'x-accept-version': v }), 400, 'X-Accept-Version');
      assertProblem(await client.get(`/api/applications?version=${v}`), 400, 'version');
    }
    const before = (await client.get('/api/applications?limit=500')).body.items.length;
    assertProblem(await client.post('/api/applications?version=7', { service_id: service.id }), 400, 'version');
    assert.equal((await client.get('/api/applications?limit=500')).body.items.length, before, 'nothing created');
  });
});
