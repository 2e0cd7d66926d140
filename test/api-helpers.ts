/**
 * Small steps the API tests share: make a service or an application through the real API,
 * walk an application to a status by a legal path, and read what was written (so a test can
 * prove a refused request wrote nothing).
 */
import assert from 'node:assert/strict';
import { CREATABLE_STATUSES, TRANSITIONS } from '../src/domain/statuses.js';
import { createTenant, type Client, type TestServer } from './harness.js';

let tenants = 0;

/** A tenant with a unique name (the slug is derived from it) and a client holding its key. */
export function newTenant(server: TestServer) {
  return createTenant(server, `Comune di Prova ${++tenants} ${process.pid}`);
}

export async function createService(client: Client, body: Record<string, unknown> = {}): Promise<{ id: string; slug: string }> {
  const r = await client.post('/api/services', { name: 'Iscrizione asilo nido', slug: `asilo-${Math.random().toString(36).slice(2, 10)}`, ...body });
  assert.equal(r.status, 201, r.text);
  return r.body;
}

export async function createApplication(client: Client, serviceId: string, body: Record<string, unknown> = {}): Promise<any> {
  const r = await client.post('/api/applications', { service_id: serviceId, ...body });
  assert.equal(r.status, 201, r.text);
  return r.body;
}

export async function transition(client: Client, id: string, status: number, extra: Record<string, unknown> = {}) {
  return client.post(`/api/applications/${id}/transitions`, { status, ...extra });
}

/** Shortest legal path to every status reachable from a creatable one: [first status, ...moves]. */
export function pathsToStatuses(): Map<number, number[]> {
  const paths = new Map<number, number[]>();
  const queue: number[][] = CREATABLE_STATUSES.map((s) => [s]);
  for (const p of queue) paths.set(p[0], p);
  while (queue.length > 0) {
    const path = queue.shift()!;
    for (const next of TRANSITIONS[path[path.length - 1]] ?? []) {
      if (paths.has(next)) continue;
      const longer = [...path, next];
      paths.set(next, longer);
      queue.push(longer);
    }
  }
  return paths;
}

const PATHS = pathsToStatuses();

/** A new application brought to `status` through the API by a legal path. */
export async function applicationIn(client: Client, serviceId: string, status: number): Promise<any> {
  const path = PATHS.get(status);
  assert.ok(path, `status ${status} is reachable`);
  let app = await createApplication(client, serviceId, { status: path[0] });
  for (const to of path.slice(1)) {
    const r = await transition(client, app.id, to);
    assert.equal(r.status, 200, `${app.status} → ${to}: ${r.text}`);
    app = r.body;
  }
  assert.equal(app.status, String(status), 'the representation says the status as a string');
  return app;
}

/** Every event of the calling tenant, all pages. */
export async function allEvents(client: Client): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  do {
    const r: { status: number; text: string; body: any } = await client.get(`/api/events?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200, r.text);
    out.push(...r.body.items);
    cursor = r.body.next_cursor;
  } while (cursor);
  return out;
}

/** Asserts a problem+json answer with this status, and this field when one is named. */
export function assertProblem(r: { status: number; headers: Headers; body: any; text: string }, status: number, field?: string): void {
  assert.equal(r.status, status, r.text);
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(r.body.status, status);
  assert.ok(typeof r.body.type === 'string' && typeof r.body.title === 'string' && typeof r.body.detail === 'string', r.text);
  assert.ok(!/\bat .+\.(js|ts):\d+/.test(r.text), 'no stack trace reaches the client');
  if (field !== undefined) assert.equal(r.body.field, field, r.text);
}
