// The workload of the probes (probe.js, sql-stats.js): messo from a built checkout, in this
// process (the test harness's server, SQLite), with a tenant, a service and one opencity webhook,
// and the bench's single-POST bodies (one pratica snapshot per POST), 32 in flight: `warm` of
// them first, then `measured`.
//   ingest: the dispatcher off, the webhook at a port nothing listens on (never sent to).
//   e2e:    the dispatcher on, the webhook at a loopback receiver in this process; each phase
//           ends once all its events have arrived.
// `reset`: every POST on a connection of its own, as a PHP core sends them.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** `import` of a module of the checkout at `dir`. */
export const fromCheckout = (dir) => (p) => import(pathToFileURL(resolve(dir, p)).href);

export async function startWorkload(mode, dir, { warm, measured, reset = false }) {
  const from = fromCheckout(dir);
  const { startTestServer, createTenant, startReceiver, waitUntil } = await from('dist/test/harness.js');
  const { ingestFeed } = await from('dist/src/bench/bodies.js');
  const { request } = await from('node_modules/undici/index.js');

  const server = await startTestServer({ MESSO_DISPATCHER: mode === 'e2e' ? 'true' : 'false' });
  const receiver = mode === 'e2e' ? await startReceiver() : null;
  const tenant = await createTenant(server, 'Probe');
  const api = server.api.as(tenant.key);
  const service = await api.post('/api/services', { name: 'Servizio' });
  const endpoint = receiver ? `${receiver.url}/hook` : 'http://127.0.0.1:9/hook';
  const webhook = await api.post('/api/webhooks', { title: 'probe', endpoint, format: 'opencity', version: 1 });
  if (webhook.status !== 201) throw new Error(`webhook: ${webhook.status} ${webhook.text}`);
  const feed = ingestFeed('single', { tenantId: tenant.id, key: tenant.key, services: [service.body.id] }, warm + measured);

  /** Sends `shots`, 32 in flight, then waits until the first `until` events have all arrived (e2e). */
  async function send(shots, until, timeoutMs) {
    let next = 0;
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next < shots.length) {
        const shot = shots[next++];
        const res = await request(server.url + feed.path, { method: 'POST', headers: feed.headers, body: shot.body, reset });
        await res.body.text();
        if (res.statusCode >= 300) throw new Error(`POST answered ${res.statusCode}`);
      }
    }));
    if (receiver) await waitUntil(() => receiver.requests.length >= until, timeoutMs, `${until} events delivered`);
  }

  return {
    delivers: receiver !== null,
    warmUp: () => send(feed.shots.slice(0, warm), warm, 30_000),
    measure: () => send(feed.shots.slice(warm), warm + measured, 120_000),
    async close() {
      await receiver?.close();
      await server.close();
    },
  };
}
