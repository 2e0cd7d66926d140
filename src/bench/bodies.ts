/**
 * What the load generator sends. A "shot" is one HTTP request and the ids of the pratiche it
 * carries (one for single and OpenCity ingest, up to 1,000 for a batch; each bench event is a
 * pratica of its own, and an opencity body opens with its id, while the body's event_id is the
 * delivery's own and names nothing the bench sent); a "feed" is the shots of a phase and where
 * they go. The plain loop is given the very same shots, so the ceiling and messo differ
 * only in what answers them.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { renderApplication } from '../domain/application.js';
import { sampleApplication } from '../domain/sample.js';
import type { IngestMode } from './options.js';

export interface Shot {
  body: string;
  ids: string[];
}

export interface Feed {
  path: string;
  headers: Record<string, string>;
  shots: Shot[];
}

/** Where a tenant's events go: its id, its API key, the OpenCity ingest token, its services. */
export interface TenantTarget {
  tenantId: string;
  key: string;
  ingestToken: string | null;
  services: string[];
}

/**
 * The application as an OpenCity core would snapshot it, with the fields it has a value for:
 * 988 bytes of JSON in an /api/events body (the full document with its empty fields is
 * 1.65 KB; messo fills those in itself). The issue asks for ~1 KiB.
 */
function coreSnapshot(tenantId: string, serviceId: string): Record<string, unknown> {
  const doc = sampleApplication(tenantId, Date.now()) as unknown as Record<string, unknown>;
  doc.service_id = serviceId;
  return Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== null && !(Array.isArray(v) && v.length === 0)));
}

const opencityFixture = (): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL('../../../test/fixtures/opencity/application-2000-submitted.json', import.meta.url), 'utf8'));

/**
 * `n` events of one tenant, spread over its services, as shots of the given ingest mode.
 * `batchSize` only matters for `batch` (1,000 in the closed loop, a tick's worth in the open loop).
 */
export function ingestFeed(mode: IngestMode, t: TenantTarget, n: number, batchSize = 1000): Feed {
  const json = { 'content-type': 'application/json' };
  const auth = { ...json, authorization: `Bearer ${t.key}` };
  const service = (i: number) => t.services[i % t.services.length];
  if (mode === 'opencity') {
    if (!t.ingestToken) throw new Error('opencity ingest needs an ingest token');
    // The core's producer body: the entity JSON with the envelope keys beside it (2000 = submitted).
    const base = opencityFixture();
    const shots = Array.from({ length: n }, (_, i) => {
      const id = randomUUID();
      const body = { ...base, id, service_id: service(i), tenant: t.tenantId, tenant_id: t.tenantId, event_id: randomUUID(), event_created_at: new Date().toISOString() };
      return { body: JSON.stringify(body), ids: [id] };
    });
    return { path: `/ingest/opencity/${t.ingestToken}/applications`, headers: json, shots };
  }
  const events = Array.from({ length: n }, (_, i) => ({ event_id: randomUUID(), type: 'application.snapshot', data: { application: coreSnapshot(t.tenantId, service(i)) } }));
  const pratica = (e: (typeof events)[number]) => String(e.data.application.id);
  if (mode === 'single') return { path: '/api/events', headers: auth, shots: events.map((e) => ({ body: JSON.stringify(e), ids: [pratica(e)] })) };
  const shots: Shot[] = [];
  for (let i = 0; i < n; i += batchSize) {
    const batch = events.slice(i, i + batchSize);
    shots.push({ body: JSON.stringify({ events: batch }), ids: batch.map(pratica) });
  }
  return { path: '/api/events/batch', headers: auth, shots };
}

/** The bodies messo itself POSTs to a webhook (opencity format, version 1), for the plain delivery loop. */
export function deliveryBodies(n: number): string[] {
  return Array.from({ length: n }, () => JSON.stringify({ ...renderApplication(sampleApplication(randomUUID(), Date.now()), 1), event_id: randomUUID() }));
}

/** Mean body size in bytes, reported beside each rate so a reader knows what was sent. */
export const meanBytes = (feed: Feed): number => Math.round(feed.shots.reduce((s, x) => s + Buffer.byteLength(x.body), 0) / Math.max(1, feed.shots.length));
