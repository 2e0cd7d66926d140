/** What the OpenCity ingest tests share: the core's fixtures and a server with a tenant and an ingest token. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createLogger } from '../src/logger.js';
import type { StartOptions } from '../src/server.js';
import { createTenant, startTestServer, type Client, type TestServer } from './harness.js';

export type Body = Record<string, any>;

export const fixture = (name: string): Body =>
  JSON.parse(readFileSync(new URL(`../../test/fixtures/opencity/${name}.json`, import.meta.url), 'utf8'));

export const CORE_TENANT = 'c3d2e1f0-1111-4a2b-9c3d-4e5f6a7b8c9d';
export const SERVICE_ID = '7e6d5c4b-2222-4b3c-8d4e-5f6a7b8c9d0e';
export const APP_ID = '5a0e3b2c-8f41-4c8e-9a57-2f1d7c3e9b10';
export const ENVELOPE = ['tenant_id', 'event_id', 'event_created_at', 'event_version', 'app_version'];

/** The entity the core published, without its envelope keys. */
export const entityOf = (body: Body): Body => Object.fromEntries(Object.entries(body).filter(([k]) => !ENVELOPE.includes(k)));

/** The fixtures' form data at version 1: the core's form paths. */
export const FLAT_DATA = {
  'applicant.data.completename.data.name': 'Mario',
  'applicant.data.completename.data.surname': 'Rossi',
  'applicant.data.fiscal_code.data.fiscal_code': 'RSSMRA80A01L378Y',
  'applicant.data.email_address': 'mario.rossi@example.org',
  'child.data.name': 'Giulia',
  nursery: 'Asilo nido Il Girasole',
};

/** The same at version 2: nested, every `data` segment dropped. */
export const NESTED_V2 = {
  applicant: { completename: { name: 'Mario', surname: 'Rossi' }, fiscal_code: { fiscal_code: 'RSSMRA80A01L378Y' }, email_address: 'mario.rossi@example.org' },
  child: { name: 'Giulia' },
  nursery: 'Asilo nido Il Girasole',
};

/** What the core shows at version 2 for an entity it published (at version 1). */
export const atVersion2 = (entity: Body): Body => ({
  ...entity, data: NESTED_V2, links: entity.links.map((l: Body) => ({ ...l, url: l.url.replace('?version=1', '?version=2') })),
});

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export interface Setup {
  server: TestServer;
  logs: string[];
  tenant: { id: string; key: string; client: Client };
  token: string;
  /** POSTs a body to `/ingest/opencity/<token>/<topic>` as the core does: no auth header. */
  send(topic: string, body: unknown, token?: string): Promise<{ status: number; body: any; text: string; contentType: string | null }>;
  countEvents(tenantId?: string): Promise<number>;
}

export async function setup(env: Record<string, string> = {}, engine?: StartOptions['engine']): Promise<Setup> {
  const logs: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => { logs.push(line); } });
  const server = await startTestServer(env, { logger, engine });
  const tenant = await createTenant(server, 'Comune di Bugliano');
  const patched = await server.adminApi.patch(`/api/tenants/${tenant.id}`, { external_id: CORE_TENANT });
  assert.equal(patched.status, 200, patched.text);
  const created = await tenant.client.post('/api/ingest-tokens', { name: 'core bugliano' });
  assert.equal(created.status, 201, created.text);
  return {
    server, logs, tenant, token: created.body.token,
    async send(topic, body, token = created.body.token) {
      const r = await server.api.post(`/ingest/opencity/${token}/${topic}`, body);
      return { status: r.status, body: r.body, text: r.text, contentType: r.headers.get('content-type') };
    },
    async countEvents(tenantId = tenant.id) {
      return (await server.store.listEvents(tenantId, {}, { limit: 500 })).items.length;
    },
  };
}

