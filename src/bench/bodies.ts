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

const FIRST_NAMES = ['Mario', 'Giulia', 'Luca', 'Francesca', 'Marco', 'Chiara', 'Andrea', 'Sara', 'Giuseppe', 'Elena', 'Paolo',
  'Martina', 'Alessandro', 'Anna', 'Matteo', 'Laura', 'Davide', 'Valentina', 'Stefano', 'Federica', 'Roberto', 'Silvia',
  'Simone', 'Alessia', 'Antonio', 'Elisa', 'Giovanni', 'Paola', 'Lorenzo', 'Roberta', 'Riccardo', 'Ilaria', 'Fabio', 'Monica',
  'Daniele', 'Cristina', 'Nicola', 'Barbara', 'Emanuele', 'Sofia'];
const SURNAMES = ['Rossi', 'Russo', 'Ferrari', 'Esposito', 'Bianchi', 'Romano', 'Colombo', 'Ricci', 'Marino', 'Greco', 'Bruno',
  'Gallo', 'Conti', 'De Luca', 'Mancini', 'Costa', 'Giordano', 'Rizzo', 'Lombardi', 'Moretti', 'Barbieri', 'Fontana',
  'Santoro', 'Mariani', 'Rinaldi', 'Caruso', 'Ferrara', 'Galli', 'Martini', 'Leone', 'Longo', 'Gentile', 'Martinelli',
  'Vitale', 'Lombardo', 'Serra', 'Coppola', 'De Santis', "D'Angelo", 'Marchetti', 'Parisi', 'Villa', 'Conte', 'Ferraro',
  'Ferri', 'Fabbri', 'Bianco', 'Marini', 'Grasso', 'Valentini', 'Messina', 'Sala', 'De Angelis', 'Gatti', 'Pellegrini',
  'Palumbo', 'Sanna', 'Farina', 'Rizzi', 'Monti'];
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)];
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const letters = (k: number) => Array.from({ length: k }, () => LETTERS[Math.floor(Math.random() * LETTERS.length)]).join('');
const digits = (k: number) => Array.from({ length: k }, () => Math.floor(Math.random() * 10)).join('');

/**
 * The application as an OpenCity core would snapshot it, with the fields it has a value for
 * (messo fills in the empty ones itself): 1.78 KB of JSON, 1.87 KB the whole POST body. Each
 * pratica is a citizen of its own, as in a comune: a name and surname drawn from common ones,
 * a codice fiscale of its own. Until the eighteenth session every bench pratica was Mario
 * Rossi, RSSMRA80A01L378Y: six of its seven search words were shared, so their index rows went
 * to the same few pages, and messo wrote 1.4 WAL pages an event fewer than for real citizens on
 * a new store, 3.6 fewer on one of 20,000 events (BENCHMARKS.md).
 */
function coreSnapshot(tenantId: string, serviceId: string): Record<string, unknown> {
  const doc = asCitizen(sampleApplication(tenantId, Date.now()) as unknown as Record<string, unknown>);
  doc.service_id = serviceId;
  return Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== null && !(Array.isArray(v) && v.length === 0)));
}

/** The pratica `doc` filed by a citizen of its own: its applicant's fields, its user name and subject. */
function asCitizen(doc: Record<string, unknown>): Record<string, unknown> {
  const name = pick(FIRST_NAMES);
  const surname = pick(SURNAMES);
  const full = `${name} ${surname}`;
  return {
    ...doc,
    user_name: full,
    subject: `Iscrizione asilo nido - ${full}`,
    data: {
      ...(doc.data as Record<string, unknown>),
      'applicant.data.completename.data.name': name,
      'applicant.data.completename.data.surname': surname,
      'applicant.data.fiscal_code.data.fiscal_code': `${letters(6)}${digits(2)}${letters(1)}${digits(2)}${letters(1)}${digits(3)}${letters(1)}`,
      'applicant.data.email_address': `${name}.${surname.replace(/[^A-Za-z]/g, '')}${digits(3)}@example.org`.toLowerCase(),
    },
  };
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
      const body = { ...asCitizen(base), id, service_id: service(i), tenant: t.tenantId, tenant_id: t.tenantId, event_id: randomUUID(), event_created_at: new Date().toISOString() };
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
