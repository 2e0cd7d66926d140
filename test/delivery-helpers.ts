/** Shared set-up of the delivery tests: a delivering server, a tenant, a service, a receiver. */
import { createTenant, startReceiver, startTestServer, waitUntil, type Client, type Receiver, type TestServer } from './harness.js';

export interface DeliveryEnv {
  server: TestServer;
  client: Client;
  tenantId: string;
  serviceId: string;
  receiver: Receiver;
  close(): Promise<void>;
}

export async function deliveryEnv(env: Record<string, string> = {}): Promise<DeliveryEnv> {
  const server = await startTestServer({ MESSO_DISPATCHER: 'true', MESSO_RETRY_SCHEDULE: '0,0.3,0.3', ...env });
  const { id: tenantId, client } = await createTenant(server);
  const service = await client.post('/api/services', { name: 'Iscrizione asilo nido' });
  const receiver = await startReceiver();
  return {
    server, client, tenantId, serviceId: service.body.id, receiver,
    async close() {
      await receiver.close();
      await server.close();
    },
  };
}

let hookCount = 0;

/** A webhook with its own path on the receiver, so tests never see each other's requests. */
export async function createWebhook(e: DeliveryEnv, body: Record<string, unknown>): Promise<{ id: string; secret: string; path: string }> {
  const path = `/hook/${++hookCount}`;
  const r = await e.client.post('/api/webhooks', { title: 'test', endpoint: `${e.receiver.url}${path}`, ...body });
  if (r.status !== 201) throw new Error(`webhook: ${r.status} ${r.text}`);
  return { ...r.body, path: new URL(r.body.endpoint).pathname };
}

/** Requests received on one path. */
export const on = (e: DeliveryEnv, path: string) => e.receiver.requests.filter((r) => r.url === path);

export async function waitForPath(e: DeliveryEnv, path: string, count: number, timeoutMs = 10_000) {
  await waitUntil(() => on(e, path).length >= count, timeoutMs, `${count} requests on ${path} (got ${on(e, path).length})`);
  return on(e, path);
}

export async function createApplication(e: DeliveryEnv, status = 1900, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await e.client.post('/api/applications', { service_id: e.serviceId, status, user_name: 'Mario Rossi', data: { 'applicant.data.name': 'Mario' }, ...extra });
  if (r.status !== 201) throw new Error(`application: ${r.status} ${r.text}`);
  return r.body.id;
}

export async function move(e: DeliveryEnv, id: string, status: number): Promise<void> {
  const r = await e.client.post(`/api/applications/${id}/transitions`, { status });
  if (r.status !== 200) throw new Error(`transition to ${status}: ${r.status} ${r.text}`);
}

/** Waits until a delivery reaches one of the given statuses and returns it with its attempts. */
export async function waitForDelivery(e: DeliveryEnv, filter: string, statuses: string[], timeoutMs = 10_000): Promise<any> {
  let found: any = null;
  await waitUntil(async () => {
    const list = await e.client.get(`/api/deliveries?${filter}`);
    const d = list.body.items.find((x: any) => statuses.includes(x.status));
    if (!d) return false;
    found = (await e.client.get(`/api/deliveries/${d.id}`)).body;
    return true;
  }, timeoutMs, `a delivery (${filter}) in ${statuses.join('/')}`);
  return found;
}
