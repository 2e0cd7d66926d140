import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ACTIONS_BY_STATUS, applicationLinks, applicationUrlFrom, DEFAULT_LINK_SETTINGS, TRANSITION_DESCRIPTIONS } from './links.js';
import { phpJsonEncode } from './php-json.js';
import { STATUS_CODES } from './statuses.js';

const URL_BASE = 'https://servizi.comune.example.it/lang/api/applications/5a0e3b2c-8f41-4c8e-9a57-2f1d7c3e9b10';
const actions = (links: unknown) => (Array.isArray(links) ? links : Object.values(links as object)).map((l: { action: string }) => l.action);

describe('applicationLinks', () => {
  // With every setting on, the core's TRANSITIONS_MAPPING as it is; other statuses offer nothing.
  const EVERYTHING = { protocol_required: true, allow_reopening: true };
  const EXPECTED: Record<number, string[]> = {
    1000: ['submit'], 2000: ['register', 'assign', 'withdraw'], 3000: ['assign', 'withdraw'],
    4000: ['request-integration', 'accept', 'reject', 'withdraw'], 4100: ['register-integration-request'],
    4200: ['accept-integration', 'withdraw'], 4300: ['register-integration-answer'], 7000: ['withdraw'], 9000: ['withdraw'],
  };

  it('lists the actions of every status, with the core descriptions and urls', () => {
    for (const status of STATUS_CODES) {
      for (const version of [1, 2]) {
        const links = applicationLinks(status, URL_BASE, version, EVERYTHING);
        assert.ok(Array.isArray(links), `${status}: a list when nothing is removed`);
        assert.deepEqual(actions(links), EXPECTED[status] ?? [], String(status));
        for (const l of links) {
          assert.deepEqual(Object.keys(l), ['action', 'description', 'url']);
          assert.equal(l.description, TRANSITION_DESCRIPTIONS[l.action]);
          assert.equal(l.url, `${URL_BASE}/transition/${l.action}?version=${version}`);
        }
      }
    }
    assert.deepEqual(Object.keys(ACTIONS_BY_STATUS).map(Number).sort(), Object.keys(EXPECTED).map(Number).sort());
  });

  it('follows the core defaults: protocol required, no reopening, so no withdraw anywhere', () => {
    assert.deepEqual(DEFAULT_LINK_SETTINGS, { protocol_required: true, allow_reopening: false });
    for (const status of STATUS_CODES) {
      const links = applicationLinks(status, URL_BASE, 1);
      assert.ok(!actions(links).includes('withdraw'), String(status));
      assert.ok(Array.isArray(links), `${status}: withdraw is always last, so a list stays a list`);
    }
    assert.deepEqual(actions(applicationLinks(2000, URL_BASE, 1)), ['register', 'assign'], 'the reference pratica');
    assert.deepEqual(applicationLinks(7000, URL_BASE, 1), []);
  });

  it('becomes an object keyed by position when register, the first entry, is removed (PHP unset)', () => {
    const noProtocol = applicationLinks(2000, URL_BASE, 2, { protocol_required: false, allow_reopening: true });
    assert.ok(!Array.isArray(noProtocol));
    assert.deepEqual(Object.keys(noProtocol), ['1', '2']);
    assert.match(phpJsonEncode(noProtocol), /^\{"1":\{"action":"assign",.*\},"2":\{"action":"withdraw",/);
    const only = applicationLinks(2000, URL_BASE, 1, { protocol_required: false, allow_reopening: false });
    assert.equal(phpJsonEncode(only), `{"1":{"action":"assign","description":"Assign Application","url":${JSON.stringify(`${URL_BASE}/transition/assign?version=1`).replace(/\//g, '\\/')}}}`);
    assert.deepEqual(actions(applicationLinks(3000, URL_BASE, 1, { protocol_required: false, allow_reopening: false })), ['assign'], 'register is not offered at 3000 anyway');
  });

  it('concatenates onto nothing when no url is known, as the core would', () => {
    assert.equal((applicationLinks(1000, null, 1) as { url: string }[])[0].url, '/transition/submit?version=1');
  });
});

describe('applicationUrlFrom', () => {
  it('reads the application url off links, compiled modules, the outcome file or attachments', () => {
    assert.equal(applicationUrlFrom({ links: [{ url: `${URL_BASE}/transition/assign?version=1` }] }), URL_BASE);
    assert.equal(applicationUrlFrom({ links: { 1: { url: `${URL_BASE}/transition/assign?version=1` } } }), URL_BASE);
    assert.equal(applicationUrlFrom({ links: [], compiled_modules: [{ url: `${URL_BASE}/attachments/x?version=1` }] }), URL_BASE);
    assert.equal(applicationUrlFrom({ outcome_file: { url: `${URL_BASE}/attachments/y?version=2` } }), URL_BASE);
    assert.equal(applicationUrlFrom({ links: [], attachments: [{ url: 'https://elsewhere.example/file.pdf' }] }), null);
    assert.equal(applicationUrlFrom({}), null);
  });
});
