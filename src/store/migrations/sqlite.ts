/**
 * SQLite schema, in numbered steps. Each step runs in one transaction that also records its id
 * in schema_migrations; a store refuses to open a schema newer than the steps it knows.
 * Times are integer milliseconds since the epoch; JSON is stored as text; booleans as 0/1
 * (the same shapes as the PostgreSQL schema, so one SQL store serves both).
 */
import type { Migration } from './index.js';

export const sqliteMigrations: Migration[] = [
  {
    id: 1,
    name: 'foundation',
    sql: `
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE tenants (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  slug TEXT NOT NULL UNIQUE,
  external_id TEXT UNIQUE,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER,
  last_used_at INTEGER
);
CREATE INDEX api_keys_tenant ON api_keys(tenant_id, seq);

CREATE TABLE services (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  slug TEXT NOT NULL,
  name TEXT NOT NULL,
  group_name TEXT,
  description TEXT,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (tenant_id, slug)
);
CREATE INDEX services_tenant ON services(tenant_id, seq);

CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  type TEXT NOT NULL,
  subject TEXT,
  event_version INTEGER NOT NULL,
  event_created_at INTEGER NOT NULL,
  app_id TEXT NOT NULL,
  data TEXT NOT NULL,
  recorded_at INTEGER NOT NULL
);
CREATE INDEX events_tenant ON events(tenant_id, seq);
CREATE INDEX events_subject ON events(tenant_id, subject, seq);

CREATE TABLE applications (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  service_id TEXT NOT NULL,
  status INTEGER NOT NULL,
  doc TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_event_seq INTEGER NOT NULL,
  last_event_at INTEGER NOT NULL
);
CREATE INDEX applications_tenant ON applications(tenant_id, last_event_seq);

CREATE TABLE webhooks (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  title TEXT NOT NULL,
  description TEXT,
  endpoint TEXT NOT NULL,
  method TEXT NOT NULL,
  trigger TEXT,
  events TEXT NOT NULL,
  filters TEXT NOT NULL,
  headers TEXT NOT NULL,
  version INTEGER NOT NULL,
  format TEXT NOT NULL,
  active INTEGER NOT NULL,
  ordering TEXT NOT NULL,
  max_concurrency INTEGER,
  rate_limit REAL,
  secret TEXT NOT NULL,
  previous_secret TEXT,
  previous_secret_expires_at INTEGER,
  disabled_reason TEXT,
  disabled_at INTEGER,
  failing_since INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  deleted_at INTEGER
);
CREATE INDEX webhooks_tenant ON webhooks(tenant_id, seq);

-- Rendered bodies live apart from the delivery rows: a delivery row is updated at every claim
-- and attempt, and keeping kilobytes of body out of it keeps those writes small. Webhooks of
-- one event with the same format and version share one payload.
CREATE TABLE payloads (
  id TEXT PRIMARY KEY,
  body TEXT NOT NULL,
  content_type TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  webhook_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  subject TEXT,
  order_key TEXT,
  endpoint_key TEXT NOT NULL,
  status TEXT NOT NULL,
  payload_id TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  lease_until INTEGER,
  lease_owner TEXT,
  last_status_code INTEGER,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  completed_at INTEGER
);
CREATE INDEX deliveries_due ON deliveries(next_attempt_at, seq) WHERE status = 'pending';
CREATE INDEX deliveries_sending ON deliveries(lease_until) WHERE status = 'sending';
CREATE INDEX deliveries_tenant ON deliveries(tenant_id, seq);
CREATE INDEX deliveries_webhook ON deliveries(webhook_id, seq);
CREATE INDEX deliveries_event ON deliveries(event_id);
CREATE INDEX deliveries_order ON deliveries(webhook_id, order_key, seq) WHERE order_key IS NOT NULL AND status IN ('pending', 'sending');

CREATE TABLE attempts (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  delivery_id TEXT NOT NULL,
  webhook_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  url TEXT NOT NULL,
  outcome TEXT NOT NULL,
  status_code INTEGER,
  response_headers TEXT,
  response_body TEXT,
  response_truncated INTEGER NOT NULL DEFAULT 0,
  error_class TEXT,
  error_message TEXT,
  next_attempt_at INTEGER
);
CREATE INDEX attempts_delivery ON attempts(delivery_id, seq);
CREATE INDEX attempts_webhook ON attempts(webhook_id, started_at);
`,
  },
  {
    id: 2,
    name: 'delivery',
    sql: `
CREATE TABLE endpoints (
  endpoint_key TEXT PRIMARY KEY,
  blocked_until INTEGER,
  slowdowns INTEGER NOT NULL DEFAULT 0,
  owner TEXT,
  owner_until INTEGER,
  updated_at INTEGER NOT NULL
);

ALTER TABLE webhooks ADD COLUMN next_send_at INTEGER;

CREATE INDEX deliveries_failed ON deliveries(webhook_id, created_at) WHERE status = 'failed';
CREATE INDEX deliveries_payload ON deliveries(payload_id);
CREATE INDEX payloads_created ON payloads(created_at);
`,
  },
  {
    id: 3,
    name: 'inspector',
    sql: `
-- Request-inspector bins. tenant_id is NULL for an anonymous bin (MESSO_INSPECTOR_PUBLIC).
-- A deleted bin gets expires_at = 0: it answers 404 at once and the sweep removes its captures
-- in small batches, then the row. hits counts requests since the responses were last set.
CREATE TABLE inspector_bins (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT,
  name TEXT,
  secret TEXT,
  responses TEXT,
  max_requests INTEGER NOT NULL,
  hits INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX inspector_bins_tenant ON inspector_bins(tenant_id, seq);
CREATE INDEX inspector_bins_expiry ON inspector_bins(expires_at);

-- One captured request. seq orders a bin's captures and is the SSE event id. body is text when
-- the bytes are valid UTF-8 without NUL (PostgreSQL TEXT cannot hold NUL), base64 otherwise.
-- headers is a JSON array of [name, value] pairs in arrival order, repeats kept.
CREATE TABLE inspector_captures (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  bin_id TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  query TEXT NOT NULL,
  http_version TEXT NOT NULL,
  headers TEXT NOT NULL,
  content_type TEXT,
  body TEXT NOT NULL,
  body_encoding TEXT NOT NULL,
  size INTEGER NOT NULL,
  client_ip TEXT,
  received_at INTEGER NOT NULL,
  response_status INTEGER NOT NULL,
  signature TEXT
);
CREATE INDEX inspector_captures_bin ON inspector_captures(bin_id, seq);
`,
  },
  {
    id: 4,
    name: 'ingest_tokens',
    sql: `
-- Secrets an OpenCity core puts in its KAFKA_URL: only a hash and a display prefix are kept.
CREATE TABLE ingest_tokens (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER,
  last_used_at INTEGER
);
CREATE INDEX ingest_tokens_tenant ON ingest_tokens(tenant_id, seq);
`,
  },
  {
    id: 100,
    name: 'webhook_follow_redirects',
    sql: `
-- Per-webhook opt-in to follow redirects (issue 11): 0 = a 3xx is the answer (default).
ALTER TABLE webhooks ADD COLUMN follow_redirects INTEGER NOT NULL DEFAULT 0;
`,
  },
  {
    id: 110,
    name: 'ids_per_tenant',
    sql: `
-- Ids sent by a tenant's core (service, application, event_id) belong to that tenant: another
-- tenant may use the same ones (issue 12, item 7). SQLite cannot drop a UNIQUE or change a
-- primary key, so the three tables are rebuilt, keeping every row and seq.
CREATE TABLE services_110 (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  slug TEXT NOT NULL,
  name TEXT NOT NULL,
  group_name TEXT,
  description TEXT,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (tenant_id, id),
  UNIQUE (tenant_id, slug)
);
INSERT INTO services_110 (seq, id, tenant_id, slug, name, group_name, description, status, created_at, updated_at)
  SELECT seq, id, tenant_id, slug, name, group_name, description, status, created_at, updated_at FROM services;
-- AUTOINCREMENT never hands out a seq again, even one retention removed: carry the counter.
DELETE FROM sqlite_sequence WHERE name = 'services_110';
INSERT INTO sqlite_sequence (name, seq) SELECT 'services_110', seq FROM sqlite_sequence WHERE name = 'services';
DROP TABLE services;
ALTER TABLE services_110 RENAME TO services;
CREATE INDEX services_tenant ON services(tenant_id, seq);

CREATE TABLE events_110 (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  type TEXT NOT NULL,
  subject TEXT,
  event_version INTEGER NOT NULL,
  event_created_at INTEGER NOT NULL,
  app_id TEXT NOT NULL,
  data TEXT NOT NULL,
  recorded_at INTEGER NOT NULL,
  UNIQUE (tenant_id, event_id)
);
INSERT INTO events_110 (seq, event_id, tenant_id, type, subject, event_version, event_created_at, app_id, data, recorded_at)
  SELECT seq, event_id, tenant_id, type, subject, event_version, event_created_at, app_id, data, recorded_at FROM events;
-- AUTOINCREMENT never hands out a seq again, even one retention removed: carry the counter.
DELETE FROM sqlite_sequence WHERE name = 'events_110';
INSERT INTO sqlite_sequence (name, seq) SELECT 'events_110', seq FROM sqlite_sequence WHERE name = 'events';
DROP TABLE events;
ALTER TABLE events_110 RENAME TO events;
CREATE INDEX events_tenant ON events(tenant_id, seq);
CREATE INDEX events_subject ON events(tenant_id, subject, seq);

CREATE TABLE applications_110 (
  id TEXT NOT NULL,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  service_id TEXT NOT NULL,
  status INTEGER NOT NULL,
  doc TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_event_seq INTEGER NOT NULL,
  last_event_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
INSERT INTO applications_110 (id, tenant_id, service_id, status, doc, version, created_at, updated_at, last_event_seq, last_event_at)
  SELECT id, tenant_id, service_id, status, doc, version, created_at, updated_at, last_event_seq, last_event_at FROM applications;
DROP TABLE applications;
ALTER TABLE applications_110 RENAME TO applications;
CREATE INDEX applications_tenant ON applications(tenant_id, last_event_seq);
`,
  },
  {
    id: 140,
    name: 'operator_console',
    sql: `
-- Search by what an operator knows (applicant, codice fiscale, subject, protocol number, the
-- short id): one row per normalised word of a pratica ([a-z0-9] only, see domain/search.ts),
-- found by prefix with a range on the primary key. Rebuilt with every projection change.
CREATE TABLE application_terms (
  tenant_id TEXT NOT NULL,
  term TEXT NOT NULL,
  application_id TEXT NOT NULL,
  PRIMARY KEY (tenant_id, term, application_id)
);
CREATE INDEX application_terms_app ON application_terms(tenant_id, application_id, term);
CREATE INDEX applications_tenant_desc ON applications(tenant_id, last_event_seq DESC);
CREATE INDEX deliveries_subject ON deliveries(tenant_id, subject, seq);
-- Deliveries finished per minute (the overview counts deliveries, not attempts).
CREATE INDEX deliveries_completed ON deliveries(tenant_id, completed_at);

-- Attempt numbers go on across manual resends: attempt_offset holds the attempts made before
-- the last resend (attempts restarts at 0 for the retry schedule); manual_attempts lists the
-- numbers of attempts an operator asked for, as ",5,9".
ALTER TABLE deliveries ADD COLUMN attempt_offset INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN manual_attempts TEXT NOT NULL DEFAULT '';

-- Events that matched a webhook while it was disabled: counted on its page, and turned into
-- deliveries by "re-enable and recover".
CREATE TABLE webhook_skips (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  webhook_id TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (webhook_id, event_id)
);
`,
  },
  {
    id: 150,
    name: 'fanout_jobs_claim_lanes',
    sql: `
-- Fan-outs too large for their event's transaction (MESSO_FANOUT_CHUNK deliveries at most per
-- transaction): the event commits with this row, its promise of deliveries, and the engine
-- writes them in bounded transactions, webhook by webhook in seq order. done_webhook_seq: the
-- webhooks up to it are written; upto_webhook_seq: the tenant's newest webhook when the event
-- came (one created later is not this event's). Per tenant, strictly in seq order (ordering),
-- between tenants, in turns (turn_at: when the job's tenant was last served).
CREATE TABLE fanout_jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id TEXT NOT NULL,
  event_seq INTEGER NOT NULL,
  done_webhook_seq INTEGER NOT NULL DEFAULT 0,
  upto_webhook_seq INTEGER NOT NULL,
  turn_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX fanout_jobs_tenant ON fanout_jobs(tenant_id, seq);

-- Claims go lane by lane (a lane: one tenant at one receiver origin, limits.ts laneKey): the lanes
-- with pending deliveries are found by a skip scan of this index, one seek each, and each lane's
-- due deliveries by a range of it. A claim walking one due index in time order passed every row
-- of a full or paused lane first: 300 ms a claim behind one tenant's 300,000 queued deliveries.
CREATE INDEX deliveries_lane ON deliveries((tenant_id || ' ' || endpoint_key), next_attempt_at, seq) WHERE status = 'pending';
`,
  },
  {
    id: 160,
    name: 'application_terms_by_event',
    sql: `
-- Search rows that cost one shared page, not random ones. A WAL probe of single-POST ingest found
-- the search index the costliest write: 8.8 of the 19.1 pages each event put in SQLite's WAL.
-- (1) A word's rows sort as they were written: the key goes on with the seq of the event whose
-- projection wrote them (event_seq), before the pratica's id. Keyed by the random id, every
-- insert of a common word (a first name, a service's words) landed on a random leaf.
-- (2) A pratica's own terms live on its row (applications.terms, space-separated, and
-- terms_seq, the event_seq of its rows), returned by the projection when it writes the row. The
-- index by pratica that served those reads, keyed by a random id too, goes.
-- A pratica whose terms are NULL is not indexed yet: the store indexes those at start.
ALTER TABLE applications ADD COLUMN terms TEXT;
ALTER TABLE applications ADD COLUMN terms_seq INTEGER;
CREATE TABLE application_terms_160 (
  tenant_id TEXT NOT NULL,
  term TEXT NOT NULL,
  event_seq INTEGER NOT NULL,
  application_id TEXT NOT NULL,
  PRIMARY KEY (tenant_id, term, event_seq, application_id)
) WITHOUT ROWID;
INSERT INTO application_terms_160 (tenant_id, term, event_seq, application_id)
  SELECT t.tenant_id, t.term, a.last_event_seq, t.application_id
  FROM application_terms t JOIN applications a ON a.tenant_id = t.tenant_id AND a.id = t.application_id;
UPDATE applications SET terms_seq = last_event_seq,
  terms = (SELECT group_concat(t.term, ' ') FROM application_terms t WHERE t.tenant_id = applications.tenant_id AND t.application_id = applications.id)
  WHERE EXISTS (SELECT 1 FROM application_terms t WHERE t.tenant_id = applications.tenant_id AND t.application_id = applications.id);
DROP TABLE application_terms;
ALTER TABLE application_terms_160 RENAME TO application_terms;
CREATE INDEX applications_unindexed ON applications(tenant_id) WHERE terms IS NULL;
`,
  },
  {
    id: 170,
    name: 'deliveries_failed_by_tenant',
    sql: `
-- The delivery list filtered by a rare status walked the tenant's deliveries newest first until it
-- had a page: with none failed, 7.3 ms at 20,000 deliveries on SQLite, growing with the tenant.
-- Failed is what an operator looks for first: its rows by tenant, newest first, one entry each.
-- The list names the status as a literal (delivery-filter.ts): a PostgreSQL generic plan knows no
-- bound value, and only a literal matches this index's WHERE there.
CREATE INDEX deliveries_tenant_failed ON deliveries(tenant_id, seq) WHERE status = 'failed';
`,
  },
  {
    id: 180,
    name: 'lz4_large_text',
    sql: `
-- PostgreSQL only (its large values compressed with lz4): SQLite stores text as given.
`,
  },
  {
    id: 190,
    name: 'drop_applications_tenant_desc',
    sql: `
-- applications_tenant (tenant_id, last_event_seq) serves the pratiche list in either order: both
-- stores read an index backwards (the plans of listApplications are the same without this one,
-- checked with EXPLAIN on both). Each snapshot wrote an entry in both.
DROP INDEX applications_tenant_desc;
`,
  },
  {
    id: 200,
    name: 'deliveries_completed_only',
    sql: `
-- The per-minute overview reads deliveries_completed by completed_at >= ?, which only finished
-- deliveries meet. Every delivery had an entry from its insert on (completed_at NULL), and on
-- PostgreSQL a fresh one at its claim too (the claim's UPDATE changes indexed columns, so it
-- writes an entry in every index): only finished ones have one now.
DROP INDEX deliveries_completed;
CREATE INDEX deliveries_completed ON deliveries(tenant_id, completed_at) WHERE completed_at IS NOT NULL;
`,
  },
  {
    id: 210,
    name: 'search_row_per_pratica',
    sql: `
-- The search index as one FTS5 row per pratica (store/search.ts), not a B-tree row per word: a
-- word's row landed on a random leaf once the store held a few thousand pratiche (2.7 of a new
-- store's 10.4 WAL pages a bench event, 5.9 of 16.8 after 20,000); FTS5 writes a transaction's
-- words as one new segment and merges segments as it goes (0.08 pages an event). Contentless
-- (the words are not stored twice) with deletes by rowid, the rowid the pratica's terms_seq; the
-- pratica's id kept (contentless_unindexed) for the query to answer. Each word is the tenant's
-- key (its id's bytes in hex, then 'z') followed by the word: a tenant's prefix reads its own
-- words only.
CREATE VIRTUAL TABLE application_search USING fts5(
  application_id UNINDEXED, terms,
  content = '', contentless_delete = 1, contentless_unindexed = 1, tokenize = 'ascii', detail = none
);
INSERT INTO application_search (rowid, application_id, terms)
  SELECT terms_seq, id, lower(hex(tenant_id)) || 'z' || replace(terms, ' ', ' ' || lower(hex(tenant_id)) || 'z')
  FROM applications WHERE terms IS NOT NULL AND terms <> '';
DROP TABLE application_terms;
`,
  },
  {
    id: 220,
    name: 'deliveries_by_event_seq',
    sql: `
-- The delivery list's filters by event (event_id), by pratica (subject) and by words go through
-- the event: its seq, kept on each delivery, is appended to as events come. The indexes on the
-- delivery's event_id (the core's random UUIDs) and subject (a pratica's) put each new delivery
-- on a random leaf of each: 1.6 of the 7.5 WAL pages a bench event wrote to a SQLite store that
-- held 20,000 (BENCHMARKS.md). A delivery whose event retention already removed keeps a NULL
-- event_seq; retention now keeps an event while any of its deliveries is kept (retention.ts).
DROP INDEX deliveries_subject;
DROP INDEX deliveries_event;
ALTER TABLE deliveries ADD COLUMN event_seq INTEGER;
UPDATE deliveries SET event_seq = (SELECT e.seq FROM events e WHERE e.tenant_id = deliveries.tenant_id AND e.event_id = deliveries.event_id);
CREATE INDEX deliveries_event_seq ON deliveries(event_seq);
`,
  },
];
