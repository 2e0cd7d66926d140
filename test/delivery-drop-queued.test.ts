/**
 * Regression (issue 12, item 2): when one webhook answers 410, or is auto-disabled, while other
 * webhooks' deliveries to the same origin wait in the endpoint's queue, the dispatcher drops
 * only that webhook's work and keeps the rest as claims. It used to push delivery ids where
 * claims belong, so the next pump threw and the worker stopped. Through real HTTP: one origin
 * (one receiver), concurrency 1 so the queue fills, and the dispatcher must go on delivering.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { waitUntil } from './harness.js';
import { describeOnPg, freshPgSchema, type PgSchema } from './pg.js';
import { createApplication, createWebhook, deliveryEnv, move, on, waitForPath, type DeliveryEnv } from './delivery-helpers.js';

const OTHERS = 4;
const APPS = 6;

async function fanOut(e: DeliveryEnv, apps: number): Promise<void> {
  const ids: string[] = [];
  for (let i = 0; i < apps; i++) ids.push(await createApplication(e, 1900));
  // Moved one after the other: each move makes 1 + OTHERS deliveries to the same origin.
  for (const id of ids) await move(e, id, 2000);
}

function suite(store: string, env: () => Promise<Record<string, string>>): void {
  describe(`a webhook answering 410 while others wait on the same origin (${store})`, () => {
    let e: DeliveryEnv;
    before(async () => { e = await deliveryEnv({ ...(await env()), MESSO_ENDPOINT_CONCURRENCY: '1', MESSO_RETRY_SCHEDULE: '0,0.2,0.2' }); });
    after(async () => { await e.close(); });

    it('disables that webhook only, and delivers every other delivery', async () => {
      const gone = await createWebhook(e, { trigger: '2000', title: 'gone' });
      const others = [];
      for (let i = 0; i < OTHERS; i++) others.push(await createWebhook(e, { trigger: '2000', title: `other ${i}` }));
      // Slow answers keep the endpoint's queue full while the 410 comes back.
      e.receiver.handler = (r) => (r.url === gone.path ? { status: 410, delayMs: 30 } : { status: 200, delayMs: 30 });
      await fanOut(e, APPS);
      for (const o of others) await waitForPath(e, o.path, APPS, 20_000);
      await waitUntil(async () => (await e.client.get(`/api/webhooks/${gone.id}`)).body.active === false, 10_000, 'the 410 webhook disabled');
      assert.equal(on(e, gone.path).length >= 1, true);
      // The worker is still running: a new change is delivered.
      await fanOut(e, 1);
      for (const o of others) await waitForPath(e, o.path, APPS + 1, 10_000);
      assert.equal((await e.server.api.get('/healthz')).status, 200);
      const stuck = (await e.client.get('/api/deliveries?status=pending&limit=500')).body.items
        .filter((d: { webhook_id: string }) => d.webhook_id !== gone.id);
      assert.equal(stuck.length, 0, 'no other delivery left behind');
    });
  });

  describe(`a webhook auto-disabled while others wait on the same origin (${store})`, () => {
    let e: DeliveryEnv;
    before(async () => {
      e = await deliveryEnv({ ...(await env()), MESSO_ENDPOINT_CONCURRENCY: '1', MESSO_AUTO_DISABLE_AFTER_SEC: '1', MESSO_RETRY_SCHEDULE: '0,0.3,0.3,0.3,0.3,0.3,0.3' });
    });
    after(async () => { await e.close(); });

    it('disables that webhook only, and delivers every other delivery', async () => {
      const failing = await createWebhook(e, { trigger: '2000', title: 'failing' });
      const others = [];
      for (let i = 0; i < OTHERS; i++) others.push(await createWebhook(e, { trigger: '2000', title: `other ${i}` }));
      e.receiver.handler = (r) => (r.url === failing.path ? { status: 500 } : { status: 200, delayMs: 80 });
      await fanOut(e, APPS);
      await waitUntil(async () => (await e.client.get(`/api/webhooks/${failing.id}`)).body.active === false, 15_000, 'auto-disable');
      assert.match((await e.client.get(`/api/webhooks/${failing.id}`)).body.disabled_reason, /no successful delivery/);
      for (const o of others) await waitForPath(e, o.path, APPS, 20_000);
      await fanOut(e, 1);
      for (const o of others) await waitForPath(e, o.path, APPS + 1, 10_000);
      assert.equal((await e.server.api.get('/healthz')).status, 200);
    });
  });
}

suite('SQLite', async () => ({}));
const schemas: PgSchema[] = [];
await describeOnPg('on PostgreSQL', () => {
  suite('PostgreSQL', async () => {
    const schema = await freshPgSchema();
    schemas.push(schema);
    return { MESSO_DATABASE_URL: schema.url };
  });
  after(async () => { for (const s of schemas) await s.drop(); });
});
