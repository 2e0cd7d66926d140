/**
 * Request-inspector storage: bins and the requests captured in them (issue 4).
 *
 * A bin lives until `expires_at`; an expired bin is invisible (every read filters on it) and a
 * periodic sweep deletes its captures in small batches, then the bin row. Deleting a bin only
 * sets `expires_at = 0`, so a bin of 500 × 10 MiB captures disappears in one cheap UPDATE and
 * the heavy deletion happens in the background, a batch at a time.
 *
 * Captures are ordered by `seq` (ever increasing, never reused: it is the SSE event id). The
 * per-bin cap is enforced on every insert, in the same transaction: the oldest go first.
 *
 * The SQL is dialect-neutral (`?` placeholders, integer ms times, JSON as TEXT, RETURNING,
 * SUBSTR/LENGTH/LOWER/LIKE … ESCAPE), so the same code runs on SQLite and PostgreSQL.
 */
import { openOrPlain, seal, type Keyring } from '../domain/encryption.js';
import type { Db, SqlValue } from './db.js';
import { decodeCursor, encodeCursor } from './rows.js';
import { sqlStates } from './sql.js';
import type { Page } from './types.js';

/** One step of a bin's scripted answers; `times` absent means "from here on, always". */
export interface ResponseStep {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  delay_ms?: number;
  times?: number;
}

export interface Bin {
  id: string;
  /** null for an anonymous bin (public inspector). */
  tenant_id: string | null;
  name: string | null;
  secret: string | null;
  responses: ResponseStep[] | null;
  max_requests: number;
  /** Requests answered since `responses` was last set: the position in the sequence. */
  hits: number;
  created_at: number;
  updated_at: number;
  expires_at: number;
  /** Captures currently kept (filled by reads that ask for it). */
  request_count?: number;
}

/** How a captured body is kept: as text when it is valid UTF-8, else as base64. */
export const BODY_ENCODING = { utf8: 'utf8', base64: 'base64' } as const;
export type BodyEncoding = (typeof BODY_ENCODING)[keyof typeof BODY_ENCODING];

export interface NewCapture {
  id: string;
  bin_id: string;
  method: string;
  path: string;
  query: string;
  http_version: string;
  /** [name, value] in arrival order, repeats kept, names as sent. */
  headers: [string, string][];
  content_type: string | null;
  body: string;
  body_encoding: BodyEncoding;
  size: number;
  client_ip: string | null;
  received_at: number;
  response_status: number;
  /** The Standard Webhooks verdict at capture time (JSON), when the bin had a secret. */
  signature: unknown;
}

export interface Capture extends NewCapture {
  seq: number;
  /** True when `body` is only the first `previewChars` characters of the stored body. */
  body_truncated: boolean;
}

export interface CaptureFilter {
  /** Case-insensitive substring of headers, body (text bodies), path or query. */
  q?: string;
  method?: string;
  since?: number;
  until?: number;
  order?: 'asc' | 'desc';
}

/** Who may see a bin: one tenant, or (null) nobody but the anonymous capability holder. */
export type BinOwner = string | null;

export interface InspectorStore {
  createBin(bin: Omit<Bin, 'hits' | 'updated_at' | 'request_count'>): Promise<Bin>;
  /** A live (not expired) bin of this owner, with its request count. */
  getBin(owner: BinOwner, id: string, now?: number): Promise<Bin | null>;
  /** A live bin whoever owns it: the capture endpoint's lookup. */
  findLiveBin(id: string, now?: number): Promise<Bin | null>;
  listBins(tenantId: string, page: { limit: number; cursor?: string | null }, now?: number): Promise<Page<Bin>>;
  /** A tenant's live bins and the bytes their captures hold (the inspector quotas). */
  usage(tenantId: string, now?: number): Promise<{ bins: number; bytes: number }>;
  /** Setting `responses` restarts the sequence (hits = 0). */
  updateBin(owner: BinOwner, id: string, patch: Partial<Pick<Bin, 'name' | 'secret' | 'responses' | 'max_requests'>>, now?: number): Promise<Bin | null>;
  /** Makes the bin disappear at once; the sweep removes its captures later. */
  deleteBin(owner: BinOwner, id: string, now?: number): Promise<boolean>;
  /** Counts one request against a live bin and returns it (with the new `hits`), or null. */
  hitBin(id: string, now?: number): Promise<Bin | null>;
  /** Stores a capture and drops the oldest beyond `maxRequests`, in one transaction. */
  addCapture(capture: NewCapture, maxRequests: number): Promise<Capture>;
  /**
   * What the capture endpoint does, in one transaction: counts the request against the live
   * bin, lets `make` build the capture from the bin (its position in the response sequence),
   * stores it and applies the cap. Null when the bin is unknown or expired.
   */
  recordCapture(binId: string, now: number, make: (bin: Bin) => NewCapture): Promise<{ bin: Bin; capture: Capture } | null>;
  listCaptures(binId: string, filter: CaptureFilter, page: { limit: number; cursor?: string | null }, previewChars: number): Promise<Page<Capture>>;
  /** Captures after `afterSeq`, oldest first: what a live stream sends next. */
  capturesAfter(binId: string, afterSeq: number, limit: number, previewChars: number): Promise<Capture[]>;
  /** The newest seq of a bin (0 when empty): where a stream without Last-Event-ID starts. */
  lastSeq(binId: string): Promise<number>;
  getCapture(binId: string, id: string): Promise<Capture | null>;
  deleteCapture(binId: string, id: string): Promise<boolean>;
  /** Deletes every capture of a bin, in batches; returns how many. */
  clearCaptures(binId: string): Promise<number>;
  /**
   * One sweep step: for up to `bins` expired bins, deletes up to `batch` captures each, and the
   * bin rows left empty. Returns what it deleted; call again while it deletes anything.
   */
  purgeExpired(now?: number, opts?: { bins?: number; batch?: number }): Promise<{ bins: number; captures: number }>;
}

const ENCODING = sqlStates(BODY_ENCODING);

type Row = Record<string, unknown>;

const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const parse = <T>(v: unknown): T | null => (v === null || v === undefined ? null : (JSON.parse(String(v)) as T));

const toBin = (r: Row, ring: Keyring): Bin => ({
  id: String(r.id),
  tenant_id: strOrNull(r.tenant_id),
  name: strOrNull(r.name),
  // Sealed at rest (issue 12, item 8); a row from before the migration pass is still plaintext.
  secret: r.secret == null ? null : openOrPlain(ring, String(r.secret)),
  responses: parse<ResponseStep[]>(r.responses),
  max_requests: Number(r.max_requests),
  hits: Number(r.hits),
  created_at: Number(r.created_at),
  updated_at: Number(r.updated_at),
  expires_at: Number(r.expires_at),
  ...(r.request_count === undefined ? {} : { request_count: Number(r.request_count) }),
});

const toCapture = (r: Row): Capture => ({
  seq: Number(r.seq),
  id: String(r.id),
  bin_id: String(r.bin_id),
  method: String(r.method),
  path: String(r.path),
  query: String(r.query),
  http_version: String(r.http_version),
  headers: JSON.parse(String(r.headers)) as [string, string][],
  content_type: strOrNull(r.content_type),
  body: String(r.body),
  body_encoding: String(r.body_encoding) as BodyEncoding,
  body_truncated: r.body_length !== undefined && Number(r.body_length) > String(r.body).length,
  size: Number(r.size),
  client_ip: strOrNull(r.client_ip),
  received_at: Number(r.received_at),
  response_status: Number(r.response_status),
  signature: parse(r.signature),
});

const BIN_COLUMNS = 'b.*, (SELECT COUNT(*) FROM inspector_captures c WHERE c.bin_id = b.id) AS request_count';
/** Everything but the body, which is read as a preview (SUBSTR) with its full length. */
const CAPTURE_PREVIEW_COLUMNS = 'seq, id, bin_id, method, path, query, http_version, headers, content_type, '
  + 'SUBSTR(body, 1, ?) AS body, LENGTH(body) AS body_length, body_encoding, size, client_ip, received_at, '
  + 'response_status, signature';

function ownerClause(owner: BinOwner): { sql: string; params: SqlValue[] } {
  return owner === null ? { sql: 'tenant_id IS NULL', params: [] } : { sql: 'tenant_id = ?', params: [owner] };
}

/** `%`, `_` and the escape itself are literal in a search: `q=100%` finds "100%". */
export function likePattern(q: string): string {
  return `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Inserts a capture and drops the bin's oldest beyond the cap; run inside a transaction. */
async function insertCapture(db: Db, c: NewCapture, maxRequests: number): Promise<Capture> {
  const rows = await db.query(
    `INSERT INTO inspector_captures (id, bin_id, method, path, query, http_version, headers, content_type, body,
       body_encoding, size, client_ip, received_at, response_status, signature)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
    [c.id, c.bin_id, c.method, c.path, c.query, c.http_version, JSON.stringify(c.headers), c.content_type, c.body,
      c.body_encoding, c.size, c.client_ip, c.received_at, c.response_status,
      c.signature === null || c.signature === undefined ? null : JSON.stringify(c.signature)],
  );
  // Normally deletes one row (the cap was reached by the previous insert); at most the number
  // the cap was lowered by.
  await db.execute(
    `DELETE FROM inspector_captures WHERE bin_id = ? AND seq <= (
       SELECT seq FROM inspector_captures WHERE bin_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)`,
    [c.bin_id, c.bin_id, maxRequests],
  );
  return { ...c, seq: Number(rows[0].seq), body_truncated: false };
}

export class SqlInspectorStore implements InspectorStore {
  constructor(protected readonly db: Db, private readonly ring: Keyring) {}

  async createBin(bin: Omit<Bin, 'hits' | 'updated_at' | 'request_count'>): Promise<Bin> {
    const rows = await this.db.query(
      `INSERT INTO inspector_bins (id, tenant_id, name, secret, responses, max_requests, hits, created_at, updated_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?) RETURNING *`,
      [bin.id, bin.tenant_id, bin.name, bin.secret === null ? null : seal(this.ring, bin.secret), bin.responses ? JSON.stringify(bin.responses) : null,
        bin.max_requests, bin.created_at, bin.created_at, bin.expires_at],
    );
    return { ...toBin(rows[0], this.ring), request_count: 0 };
  }

  async getBin(owner: BinOwner, id: string, now = Date.now()): Promise<Bin | null> {
    const o = ownerClause(owner);
    const rows = await this.db.query(
      `SELECT ${BIN_COLUMNS} FROM inspector_bins b WHERE b.id = ? AND b.${o.sql} AND b.expires_at > ?`,
      [id, ...o.params, now],
    );
    return rows[0] ? toBin(rows[0], this.ring) : null;
  }

  async findLiveBin(id: string, now = Date.now()): Promise<Bin | null> {
    const rows = await this.db.query('SELECT * FROM inspector_bins WHERE id = ? AND expires_at > ?', [id, now]);
    return rows[0] ? toBin(rows[0], this.ring) : null;
  }

  async usage(tenantId: string, now = Date.now()): Promise<{ bins: number; bytes: number }> {
    const rows = await this.db.query(
      `SELECT COUNT(*) AS bins, COALESCE(SUM((SELECT COALESCE(SUM(c.size), 0) FROM inspector_captures c WHERE c.bin_id = b.id)), 0) AS bytes
       FROM inspector_bins b WHERE b.tenant_id = ? AND b.expires_at > ?`,
      [tenantId, now],
    );
    return { bins: Number(rows[0].bins), bytes: Number(rows[0].bytes) };
  }

  async listBins(tenantId: string, page: { limit: number; cursor?: string | null }, now = Date.now()): Promise<Page<Bin>> {
    const after = decodeCursor(page.cursor) ?? 0;
    const rows = await this.db.query(
      `SELECT ${BIN_COLUMNS} FROM inspector_bins b WHERE b.tenant_id = ? AND b.expires_at > ? AND b.seq > ? ORDER BY b.seq LIMIT ?`,
      [tenantId, now, after, page.limit + 1],
    );
    const items = rows.slice(0, page.limit);
    const next_cursor = rows.length > page.limit ? encodeCursor(Number(items[items.length - 1].seq)) : null;
    return { items: items.map((r) => toBin(r, this.ring)), next_cursor };
  }

  async updateBin(owner: BinOwner, id: string, patch: Partial<Pick<Bin, 'name' | 'secret' | 'responses' | 'max_requests'>>, now = Date.now()): Promise<Bin | null> {
    const sets: string[] = ['updated_at = ?'];
    const params: SqlValue[] = [now];
    if (patch.name !== undefined) { sets.push('name = ?'); params.push(patch.name); }
    if (patch.secret !== undefined) { sets.push('secret = ?'); params.push(patch.secret === null ? null : seal(this.ring, patch.secret)); }
    if (patch.max_requests !== undefined) { sets.push('max_requests = ?'); params.push(patch.max_requests); }
    if (patch.responses !== undefined) {
      sets.push('responses = ?', 'hits = 0');
      params.push(patch.responses === null ? null : JSON.stringify(patch.responses));
    }
    const o = ownerClause(owner);
    const changed = await this.db.execute(
      `UPDATE inspector_bins SET ${sets.join(', ')} WHERE id = ? AND ${o.sql} AND expires_at > ?`,
      [...params, id, ...o.params, now],
    );
    return changed > 0 ? this.getBin(owner, id, now) : null;
  }

  async deleteBin(owner: BinOwner, id: string, now = Date.now()): Promise<boolean> {
    const o = ownerClause(owner);
    const changed = await this.db.execute(
      `UPDATE inspector_bins SET expires_at = 0, updated_at = ? WHERE id = ? AND ${o.sql} AND expires_at > ?`,
      [now, id, ...o.params, now],
    );
    return changed > 0;
  }

  async hitBin(id: string, now = Date.now()): Promise<Bin | null> {
    // One statement, so two concurrent requests never read the same position in the sequence.
    const rows = await this.db.query(
      'UPDATE inspector_bins SET hits = hits + 1 WHERE id = ? AND expires_at > ? RETURNING *',
      [id, now],
    );
    return rows[0] ? toBin(rows[0], this.ring) : null;
  }

  async recordCapture(binId: string, now: number, make: (bin: Bin) => NewCapture): Promise<{ bin: Bin; capture: Capture } | null> {
    // The UPDATE locks the bin row until commit (PostgreSQL), so one bin's captures take their
    // seq and commit in the same order: a live stream reading "after seq N" never skips one
    // that commits late. (On SQLite every write transaction is serial anyway.)
    return this.db.tx(async (db) => {
      const rows = await db.query('UPDATE inspector_bins SET hits = hits + 1 WHERE id = ? AND expires_at > ? RETURNING *', [binId, now]);
      if (!rows[0]) return null;
      const bin = toBin(rows[0], this.ring);
      const capture = await insertCapture(db, make(bin), bin.max_requests);
      return { bin, capture };
    });
  }

  async addCapture(c: NewCapture, maxRequests: number): Promise<Capture> {
    return this.db.tx((db) => insertCapture(db, c, maxRequests));
  }

  async listCaptures(binId: string, filter: CaptureFilter, page: { limit: number; cursor?: string | null }, previewChars: number): Promise<Page<Capture>> {
    const desc = filter.order !== 'asc';
    const where = ['bin_id = ?'];
    const params: SqlValue[] = [previewChars, binId];
    const after = decodeCursor(page.cursor);
    if (after !== null) { where.push(desc ? 'seq < ?' : 'seq > ?'); params.push(after); }
    if (filter.method) { where.push('method = ?'); params.push(filter.method.toUpperCase()); }
    if (filter.since !== undefined) { where.push('received_at >= ?'); params.push(filter.since); }
    if (filter.until !== undefined) { where.push('received_at <= ?'); params.push(filter.until); }
    if (filter.q) {
      const p = likePattern(filter.q);
      where.push(`(LOWER(headers) LIKE ? ESCAPE '\\' OR (body_encoding = ${ENCODING.utf8} AND LOWER(body) LIKE ? ESCAPE '\\')
        OR LOWER(path) LIKE ? ESCAPE '\\' OR LOWER(query) LIKE ? ESCAPE '\\')`);
      params.push(p, p, p, p);
    }
    params.push(page.limit + 1);
    const rows = await this.db.query(
      `SELECT ${CAPTURE_PREVIEW_COLUMNS} FROM inspector_captures WHERE ${where.join(' AND ')}
       ORDER BY seq ${desc ? 'DESC' : 'ASC'} LIMIT ?`,
      params,
    );
    const items = rows.slice(0, page.limit).map(toCapture);
    const next_cursor = rows.length > page.limit ? encodeCursor(items[items.length - 1].seq) : null;
    return { items, next_cursor };
  }

  async capturesAfter(binId: string, afterSeq: number, limit: number, previewChars: number): Promise<Capture[]> {
    const rows = await this.db.query(
      `SELECT ${CAPTURE_PREVIEW_COLUMNS} FROM inspector_captures WHERE bin_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
      [previewChars, binId, afterSeq, limit],
    );
    return rows.map(toCapture);
  }

  async lastSeq(binId: string): Promise<number> {
    const rows = await this.db.query<{ seq: unknown }>('SELECT MAX(seq) AS seq FROM inspector_captures WHERE bin_id = ?', [binId]);
    return numOrNull(rows[0]?.seq) ?? 0;
  }

  async getCapture(binId: string, id: string): Promise<Capture | null> {
    const rows = await this.db.query('SELECT * FROM inspector_captures WHERE bin_id = ? AND id = ?', [binId, id]);
    return rows[0] ? toCapture(rows[0]) : null;
  }

  async deleteCapture(binId: string, id: string): Promise<boolean> {
    return (await this.db.execute('DELETE FROM inspector_captures WHERE bin_id = ? AND id = ?', [binId, id])) > 0;
  }

  async clearCaptures(binId: string): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.deleteBatch(binId, 500);
      total += n;
      if (n < 500) return total;
    }
  }

  /** Deletes up to `batch` of a bin's oldest captures: short statements, short locks. */
  private deleteBatch(binId: string, batch: number): Promise<number> {
    return this.db.execute(
      'DELETE FROM inspector_captures WHERE seq IN (SELECT seq FROM inspector_captures WHERE bin_id = ? ORDER BY seq LIMIT ?)',
      [binId, batch],
    );
  }

  async purgeExpired(now = Date.now(), opts: { bins?: number; batch?: number } = {}): Promise<{ bins: number; captures: number }> {
    const batch = opts.batch ?? 500;
    const expired = await this.db.query<{ id: string }>(
      'SELECT id FROM inspector_bins WHERE expires_at <= ? ORDER BY expires_at LIMIT ?',
      [now, opts.bins ?? 20],
    );
    let bins = 0;
    let captures = 0;
    for (const { id } of expired) {
      const n = await this.deleteBatch(id, batch);
      captures += n;
      if (n < batch) {
        // Only once empty: a capture that raced past the expiry check is swept next time.
        bins += await this.db.execute(
          'DELETE FROM inspector_bins WHERE id = ? AND expires_at <= ? AND NOT EXISTS (SELECT 1 FROM inspector_captures WHERE bin_id = ?)',
          [id, now, id],
        );
      }
    }
    return { bins, captures };
  }
}
