import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { normalizeApplication } from './application.js';
import { renderPayload } from './payload.js';

// DESIGN.md's reference bodies (copies kept in test/fixtures).
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../../test/fixtures/${name}`, import.meta.url), 'utf8'));

describe('renderPayload', () => {
  const reference = fixture('webhook-opencity-v2.example.json');
  const app = fixture('application-v2.example.json');
  const event = {
    event_id: reference.event_id, type: 'application.status_changed', tenant_id: app.tenant, subject: app.id, event_version: 2,
    event_created_at: Date.parse(reference.event_created_at), app_id: 'core:2.15.0',
    data: { application: normalizeApplication(app), from: 3000, to: 4000 },
  };

  it('renders the opencity body of DESIGN.md: the application at the webhook version plus four event keys', () => {
    const out = renderPayload(event, { format: 'opencity', version: 2 });
    assert.equal(out.contentType, 'application/json');
    assert.deepEqual(JSON.parse(out.body), reference);
    assert.deepEqual(Object.keys(JSON.parse(out.body)), Object.keys(reference), 'in the platform order');
    const v1 = JSON.parse(renderPayload(event, { format: 'opencity', version: 1 }).body);
    assert.deepEqual(v1.data, fixture('application-v1.example.json').data);
  });

  it('renders Standard Webhooks and CloudEvents envelopes with where the status came from', () => {
    const std = JSON.parse(renderPayload(event, { format: 'standard', version: 2 }).body);
    assert.equal(std.type, 'application.status_changed');
    assert.equal(std.timestamp, '2025-11-20T10:45:00.000Z');
    assert.equal(std.data.previous_status, 3000);
    assert.equal(std.data.event_id, reference.event_id);
    const ce = renderPayload(event, { format: 'cloudevents', version: 2 });
    assert.equal(ce.contentType, 'application/cloudevents+json');
    const body = JSON.parse(ce.body);
    assert.deepEqual([body.specversion, body.id, body.type, body.subject], ['1.0', reference.event_id, 'application.status_changed', app.id]);
    assert.equal(body.data.status, 4000);
  });
});
