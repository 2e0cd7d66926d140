/**
 * The opencity body against the core's own: test/fixtures/opencity-reference holds what the
 * core's producer posts for a pratica and what its webhooks send for it (see the README there).
 * Feeding the producer body must give the webhook bodies byte for byte, the delivery's event_id
 * and the event's time put in the places the core puts them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { normalizeApplication, type ApplicationDoc } from './application.js';
import { parseTime } from './dates.js';
import { renderPayload, type RenderTarget } from './payload.js';

const text = (name: string) => readFileSync(new URL(`../../../test/fixtures/opencity-reference/${name}`, import.meta.url), 'utf8').trim();
const json = (name: string) => JSON.parse(text(name)) as Record<string, unknown>;

/** What the opencity ingest keeps of a producer post: the document, and the event around it. */
function eventFromProducer(name: string) {
  const body = json(name);
  return {
    event_id: String(body.event_id), type: 'application.created', tenant_id: 'tenant-1', subject: String(body.id),
    event_version: 1, event_created_at: parseTime(body.event_created_at)!, app_id: `opencity:${String(body.app_version)}`,
    data: { application: normalizeApplication(body) as ApplicationDoc },
  };
}

function assertSameBody(actual: string, expectedFile: string): void {
  const expected = text(expectedFile);
  const [a, e] = [JSON.parse(actual), JSON.parse(expected)];
  assert.deepEqual(Object.keys(a), Object.keys(e), 'the same keys in the same order');
  for (const k of Object.keys(e)) assert.deepEqual(a[k], e[k], k);
  assert.equal(actual, expected, 'the same bytes');
}

const opencity = (version: 1 | 2): RenderTarget => ({ format: 'opencity', version });

describe('opencity application bodies from the core producer post', () => {
  for (const [producer, v1, v2] of [
    ['producer-applications-2000.json', 'webhook-opencity-v1-2000.json', 'webhook-opencity-v2-2000.json'],
    ['producer-applications-2000-lists.json', 'webhook-opencity-v1-2000-lists.json', 'webhook-opencity-v2-2000-lists.json'],
  ]) {
    it(`${producer} → version 1 and 2 bodies as the core's webhooks send them`, () => {
      const event = eventFromProducer(producer);
      for (const [version, file] of [[1, v1], [2, v2]] as const) {
        const expected = json(file);
        const out = renderPayload(event, opencity(version), { eventId: String(expected.event_id) });
        assert.equal(out.contentType, 'application/json');
        assertSameBody(out.body, file);
      }
    });
  }

  it('puts the delivery event_id, not the event one, and leaves both event keys out for a test send', () => {
    const event = eventFromProducer('producer-applications-2000.json');
    const a = JSON.parse(renderPayload(event, opencity(2), { eventId: '11111111-1111-4111-8111-111111111111' }).body);
    assert.equal(a.event_id, '11111111-1111-4111-8111-111111111111');
    assert.notEqual(a.event_id, event.event_id);
    assert.equal(a.event_created_at, '2025-03-10T09:06:00+01:00');
    const test = JSON.parse(renderPayload(event, opencity(1), { eventId: null }).body);
    assert.ok(!('event_id' in test) && !('event_created_at' in test), "the core's test button sends neither");
    assert.deepEqual(Object.keys(test).slice(-2), ['event_version', 'app_version']);
    assert.equal(test.event_version, '1.0');
  });
});

describe('opencity message bodies', () => {
  for (const file of ['webhook-opencity-message-v1.json', 'webhook-opencity-message-v2-lists.json']) {
    it(`${file}: the core's fifteen keys plus the four event keys`, () => {
      const expected = json(file);
      const record: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(expected)) if (!['event_id', 'event_created_at', 'event_version', 'app_version'].includes(k)) record[k] = v;
      const event = {
        event_id: 'a-messo-event-id', type: 'message.created', tenant_id: 't', subject: String(record.application), event_version: 1,
        event_created_at: parseTime(expected.event_created_at)!, app_id: `opencity:${String(expected.app_version)}`,
        data: { message: record, service_id: 's', application_status: 2000 },
      };
      const version = expected.event_version === '2.0' ? 2 : 1;
      assertSameBody(renderPayload(event, opencity(version), { eventId: String(expected.event_id) }).body, file);
    });
  }

  it('fills what an older record lacks (subject, email) with null, in the core order', () => {
    const event = {
      event_id: 'e', type: 'message.created', tenant_id: 't', subject: 'app', event_version: 1, event_created_at: Date.UTC(2025, 0, 2), app_id: 'messo:0.1.0',
      data: { message: { id: 'm', message: 'Ciao', author: null, application: 'app', visibility: 'applicant', created_at: '2025-01-02T01:00:00+01:00', attachments: [], protocol_required: false } },
    };
    const body = JSON.parse(renderPayload(event, opencity(2), { eventId: 'x' }).body);
    assert.deepEqual(Object.keys(body), [
      'id', 'message', 'subject', 'author', 'application', 'visibility', 'email', 'created_at', 'sent_at', 'read_at', 'clicked_at',
      'attachments', 'protocol_required', 'protocolled_at', 'protocol_number', 'event_id', 'event_created_at', 'event_version', 'app_version',
    ]);
    assert.deepEqual([body.subject, body.email, body.sent_at, body.event_version, body.app_version], [null, null, null, '2.0', '0.1.0']);
  });
});

describe('standard and cloudevents bodies', () => {
  const event = { ...eventFromProducer('producer-applications-2000.json'), type: 'application.status_changed' };
  event.data = { ...event.data, from: 1900, to: 2000 } as typeof event.data;

  it('wrap the same application representation, with where the status came from', () => {
    const std = JSON.parse(renderPayload(event, { format: 'standard', version: 2 }, { eventId: 'ignored' }).body);
    assert.equal(std.type, 'application.status_changed');
    assert.equal(std.timestamp, '2025-03-10T08:06:00.000Z');
    assert.equal(std.data.previous_status, 1900);
    assert.equal(std.data.event_id, event.event_id, 'the event id: these formats identify the event');
    assert.deepEqual(std.data.data, json('webhook-opencity-v2-2000.json').data);
    const ce = renderPayload(event, { format: 'cloudevents', version: 1 }, { eventId: 'ignored' });
    assert.equal(ce.contentType, 'application/cloudevents+json');
    const body = JSON.parse(ce.body);
    assert.deepEqual([body.specversion, body.id, body.type, body.subject], ['1.0', event.event_id, 'it.opencity.application.status_changed', event.subject]);
    assert.equal(body.data.status, '2000');
    assert.deepEqual(body.data.data, json('webhook-opencity-v1-2000.json').data);
  });
});
