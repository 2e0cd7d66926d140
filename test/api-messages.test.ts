/**
 * Messages on an application: each is a message.created event with the platform's message
 * JSON, listed oldest first and page by page.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './harness.js';
import { allEvents, assertProblem, createApplication, createService, newTenant } from './api-helpers.js';

/** The core's 15 keys, in its order (reference/webhook-opencity-message-v1.json). */
const MESSAGE_KEYS = ['id', 'message', 'subject', 'author', 'application', 'visibility', 'email', 'created_at', 'sent_at', 'read_at',
  'clicked_at', 'attachments', 'protocol_required', 'protocolled_at', 'protocol_number'];

let server: TestServer;
before(async () => { server = await startTestServer(); });
after(async () => { await server.close(); });

describe('application messages', () => {
  it('records message.created with the fields of DESIGN.md and lists messages page by page', async () => {
    const { client } = await newTenant(server);
    const svc = await createService(client);
    const app = await createApplication(client, svc.id, { status: 2000 });
    const sent = [];
    for (let i = 0; i < 5; i++) {
      const r = await client.post(`/api/applications/${app.id}/messages`, {
        message: `Messaggio ${i}`, subject: `Oggetto ${i}`, author: 'Operatore', visibility: 'internal', email: 'mario.rossi@example.it',
      });
      assert.equal(r.status, 201, r.text);
      assert.deepEqual(Object.keys(r.body), MESSAGE_KEYS);
      assert.equal(r.body.subject, `Oggetto ${i}`);
      assert.equal(r.body.email, 'mario.rossi@example.it');
      assert.equal(r.body.application, app.id);
      assert.match(r.body.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0[12]:00$/);
      sent.push(r.body);
    }
    const events = (await allEvents(client)).filter((e) => e.type === 'message.created');
    assert.deepEqual(events.map((e) => e.data.message.id), sent.map((m) => m.id));
    assert.ok(events.every((e) => e.subject === app.id && e.data.service_id === svc.id));
    const seen = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: { status: number; text: string; body: any } = await client.get(`/api/applications/${app.id}/messages?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(r.status, 200, r.text);
      seen.push(...r.body.items);
      cursor = r.body.next_cursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, sent, 'every message once, oldest first');
    assert.equal((await client.get(`/api/applications/${app.id}/messages`)).body.items.length, 5);
  });

  it('refuses a bad message and writes nothing', async () => {
    const { client } = await newTenant(server);
    const svc = await createService(client);
    const app = await createApplication(client, svc.id);
    const before = await allEvents(client);
    assertProblem(await client.post(`/api/applications/${app.id}/messages`, {}), 400, 'message');
    assertProblem(await client.post(`/api/applications/${app.id}/messages`, { message: 'x', protocol_required: 'yes' }), 400, 'protocol_required');
    assertProblem(await client.get(`/api/applications/${app.id}/messages?limit=0`), 400, 'limit');
    assert.deepEqual(await allEvents(client), before);
  });
});
