import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { APPLICATION_FIELDS, applyTransition, createApplication, normalizeApplication, normalizeAuthentication, renderApplication, type ApplicationDoc } from './application.js';

const reference = (name: string) => JSON.parse(readFileSync(new URL(`../../../test/fixtures/opencity-reference/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
const withoutEventKeys = (body: Record<string, unknown>) => {
  const out = { ...body };
  for (const k of ['event_id', 'event_created_at', 'event_version', 'app_version']) delete out[k];
  return out;
};

const SERVICE = { id: 'svc-1', slug: 'iscrizione-asilo-nido', name: "Iscrizione all'asilo nido", group_name: 'Scuola' };
const APP_URL = 'https://messo.example/api/applications/app-1';
const T0 = Date.UTC(2025, 2, 10, 8, 0, 0);

describe('normalizeApplication and renderApplication', () => {
  it('keep the core producer post and give back the API representation at both versions', () => {
    const doc = normalizeApplication(reference('producer-applications-2000.json'));
    assert.equal(doc.status, 2000, 'a number inside messo (the stores index it)');
    assert.equal(doc.application_url, 'https://www.comune.bugliano.pi.it/lang/api/applications/5a0e3b2c-8f41-4c8e-9a57-2f1d7c3e9b10');
    assert.deepEqual(renderApplication(doc, 1), withoutEventKeys(reference('webhook-opencity-v1-2000.json')));
    assert.deepEqual(renderApplication(doc, 2), withoutEventKeys(reference('webhook-opencity-v2-2000.json')));
    assert.deepEqual(Object.keys(renderApplication(doc, 2)), [...APPLICATION_FIELDS]);
  });

  it('render an older stored document (nested data, no url) in the new shape', () => {
    // A document as older messo stored it: nested data, a numeric status, fields missing.
    const old: ApplicationDoc = {
      id: 'app-0', tenant: 't', service_id: 's', status: 4000, status_name: 'status_pending',
      data: { applicant: { data: { completename: { data: { name: 'Mario' } } } }, anni: { 0: { x: 1 } } },
      links: [], authentication: null, payment_data: null, creation_time: 1741593600,
    };
    const v1 = renderApplication(old, 1);
    assert.equal(v1.status, '4000');
    assert.deepEqual(v1.data, { 'applicant.data.completename.data.name': 'Mario', 'anni.0.x': 1 });
    assert.deepEqual(renderApplication(old, 2).data, { applicant: { completename: { name: 'Mario' } }, anni: [{ x: 1 }] });
    assert.deepEqual(v1.payment_data, []);
    assert.deepEqual(Object.keys(v1.authentication as object).length, 9);
    assert.equal(v1.outcome_protocol_numbers, null, 'null, not a list, when there is no outcome file');
  });

  it('write an empty form and empty payment data as the core does: []', () => {
    const doc = normalizeApplication({ id: 'a', tenant: 't', service_id: 's', status: '1000', data: [], payment_data: {} });
    for (const v of [1, 2] as const) {
      const out = renderApplication(doc, v);
      assert.deepEqual([out.data, out.payment_data, out.links, out.status, out.status_name], [[], [], [], '1000', 'status_draft']);
    }
  });

  it('give an unknown status the name the core sent, or the empty string the core would write', () => {
    assert.equal(renderApplication(normalizeApplication({ id: 'a', status: '1234', status_name: 'status_custom' }), 1).status_name, 'status_custom');
    assert.equal(renderApplication(normalizeApplication({ id: 'a', status: 1234 }), 1).status_name, '');
  });
});

describe('untrusted keys in an application', () => {
  it('never reach Object.prototype, whatever field they come in, and render safely', () => {
    for (const text of [
      '{"data":{"__proto__.hasOwnProperty":1}}',
      '{"data":{"__proto__.authorization":"Bearer x"},"backoffice_data":{"constructor.prototype.isAdmin":true}}',
      '{"data":{"__proto__":{"authorization":"Bearer y"}},"__proto__":{"status":1},"payment_data":{"__proto__":{"polluted":1}}}',
      '{"data":{"a":{"constructor":{"prototype":{"polluted":2}}}},"authentication":{"__proto__":{"polluted":3}}}',
    ]) {
      const doc = normalizeApplication({ id: 'a', tenant: 't', service_id: 's', status: 2000, ...JSON.parse(text) });
      const moved = applyTransition(doc, { to: 4000, nowMs: T0 });
      for (const v of [1, 2] as const) {
        const out = renderApplication(moved, v);
        assert.doesNotThrow(() => JSON.stringify({ ...out }));
        assert.ok(!/hasOwnProperty|authorization|isAdmin/.test(JSON.stringify(out.data) + JSON.stringify(out.backoffice_data)), text);
      }
      const probe: Record<string, unknown> = {};
      assert.equal(typeof probe.hasOwnProperty, 'function');
      assert.deepEqual([probe.authorization, probe.isAdmin, probe.polluted, probe.status], [undefined, undefined, undefined, undefined]);
    }
  });
});

describe('normalizeAuthentication', () => {
  it('always has the nine keys in the core order, values as strings or null', () => {
    assert.deepEqual(normalizeAuthentication(null), {
      authentication_method: null, session_id: null, spid_code: null, spid_level: null, certificate_issuer: null,
      certificate_subject: null, certificate: null, instant: null, session_index: null,
    });
    const a = normalizeAuthentication({ authenticationMethod: 'cie', session_id: 42, spid_code: '', spid_level: '0', certificate: false, extra: 'x' });
    assert.deepEqual(Object.keys(a), ['authentication_method', 'session_id', 'spid_code', 'spid_level', 'certificate_issuer', 'certificate_subject', 'certificate', 'instant', 'session_index']);
    assert.deepEqual([a.authentication_method, a.session_id, a.spid_code, a.spid_level, a.certificate], ['cie', '42', null, null, null]);
  });
});

describe('createApplication and applyTransition', () => {
  const created = createApplication({
    id: 'app-1', tenantId: 't', service: SERVICE, status: 2000, nowMs: T0, applicationUrl: APP_URL,
    fields: { data: { applicant: { data: { name: 'Mario' } } }, authentication: { authentication_method: 'spid' } },
  });

  it('create an application with the links of its status, at the url it is served at', () => {
    const v2 = renderApplication(created, 2);
    assert.deepEqual(v2.links, [
      { action: 'register', description: 'Register Application', url: `${APP_URL}/transition/register?version=2` },
      { action: 'assign', description: 'Assign Application', url: `${APP_URL}/transition/assign?version=2` },
    ]);
    assert.deepEqual(renderApplication(created, 1).data, { 'applicant.data.name': 'Mario' });
    assert.deepEqual(v2.data, { applicant: { name: 'Mario' } });
    assert.equal((v2.authentication as Record<string, unknown>).authentication_method, 'spid');
  });

  it('follow the service settings the core reads', () => {
    const noProtocol = createApplication({
      id: 'app-2', tenantId: 't', service: { ...SERVICE, protocol_required: false, allow_reopening: true }, status: 2000, nowMs: T0, applicationUrl: APP_URL, fields: {},
    });
    assert.deepEqual(Object.keys(renderApplication(noProtocol, 1).links as object), ['1', '2']);
    const moved = applyTransition(noProtocol, { to: 7000, nowMs: T0 + 1000 });
    assert.deepEqual((renderApplication(moved, 1).links as { action: string }[]).map((l) => l.action), ['withdraw'], 'the settings stay with the document');
  });

  it('move the links on with the status, and keep times and outcome as before', () => {
    const taken = applyTransition(created, { to: 4000, nowMs: T0 + 60_000 });
    assert.deepEqual((renderApplication(taken, 1).links as { action: string }[]).map((l) => l.action), ['request-integration', 'accept', 'reject']);
    assert.equal(taken.latest_status_change_time, (T0 + 60_000) / 1000);
    const accepted = applyTransition(taken, { to: 7000, nowMs: T0 + 120_000, outcome_motivation: 'ok' });
    assert.deepEqual([accepted.outcome, accepted.outcome_motivation, renderApplication(accepted, 2).links], [true, 'ok', []]);
    const reopened = applyTransition(accepted, { to: 4000, nowMs: T0 + 180_000 });
    assert.deepEqual([reopened.outcome, reopened.outcome_motivation], [null, null]);
    assert.equal(created.status, 2000, 'the input document is not changed');
  });

  it('give links to an older document that did not know its url, from the one the caller passes', () => {
    const old = normalizeApplication({ id: 'app-3', tenant: 't', service_id: 's', status: 2000 });
    assert.equal(old.application_url, null);
    const moved = applyTransition(old, { to: 4000, nowMs: T0, applicationUrl: APP_URL });
    assert.equal((renderApplication(moved, 2).links as { url: string }[])[0].url, `${APP_URL}/transition/request-integration?version=2`);
  });
});
