/** The core's trigger rules (WebhookApplicationListener) and the snapshot rule that feeds them. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ApplicationDoc } from './application.js';
import { matches, type Subscription } from './matching.js';
import { classifySnapshot } from './snapshot.js';

const SERVICE = 'svc-1';
const hook = (trigger: string, filters: Subscription['filters'] = 'all'): Subscription => ({ active: true, trigger, events: [], filters });
const app = (status: number, time = 1000) => ({ id: 'a1', service_id: SERVICE, status, latest_status_change_time: time });
const created = (status: number) => ({ type: 'application.created', data: { application: app(status) } });
const moved = (from: number, to: number) => ({ type: 'application.status_changed', data: { application: app(to), from, to, message: null } });
const updated = { type: 'application.updated', data: { application: app(4000) } };
const message = { type: 'message.created', data: { message: { id: 'm1' }, service_id: SERVICE, application_status: 4000 } };

describe('trigger rules as the core', () => {
  it('all: every status change, creation and same-status included, and every new message; not a plain update', () => {
    for (const e of [created(2000), moved(2000, 4000), moved(4000, 4000), message]) assert.equal(matches(hook('all'), e), true, e.type);
    assert.equal(matches(hook('all'), updated), false);
  });

  it('a status code: each time the status is set to it, same-status included; never a message', () => {
    assert.equal(matches(hook('4000'), moved(2000, 4000)), true);
    assert.equal(matches(hook('4000'), moved(4000, 4000)), true);
    assert.equal(matches(hook('2000'), created(2000)), true);
    assert.equal(matches(hook('4000'), moved(4000, 7000)), false);
    assert.equal(matches(hook('4000'), message), false);
    assert.equal(matches(hook('4000'), updated), false);
  });

  it('message_created: every new message, nothing else', () => {
    assert.equal(matches(hook('message_created'), message), true);
    for (const e of [created(2000), moved(2000, 4000), moved(4000, 4000), updated]) assert.equal(matches(hook('message_created'), e), false, e.type);
  });

  it('the service filter applies to all of them, messages included', () => {
    assert.equal(matches(hook('all', [SERVICE]), message), true);
    assert.equal(matches(hook('all', ['other']), message), false);
    assert.equal(matches(hook('message_created', ['other']), message), false);
    assert.equal(matches(hook('4000', ['other']), moved(4000, 4000)), false);
  });
});

describe('a snapshot that sets the same status again', () => {
  const doc = (status: number, time: number | null) => ({ id: 'a1', status, latest_status_change_time: time }) as unknown as ApplicationDoc;

  it('is a status change when latest_status_change_time moved forward', () => {
    const c = classifySnapshot(doc(4000, 1000), doc(4000, 1060));
    assert.equal(c.type, 'application.status_changed');
    assert.equal(c.data.from, 4000);
    assert.equal(c.data.to, 4000);
  });

  it('is an update when the time did not move (or went back, or is missing)', () => {
    assert.equal(classifySnapshot(doc(4000, 1000), doc(4000, 1000)).type, 'application.updated');
    assert.equal(classifySnapshot(doc(4000, 1000), doc(4000, 900)).type, 'application.updated');
    assert.equal(classifySnapshot(doc(4000, 1000), doc(4000, null)).type, 'application.updated');
  });
});
