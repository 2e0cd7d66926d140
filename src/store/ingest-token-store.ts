/**
 * Ingest tokens: per-tenant secrets that an OpenCity core puts in the URL it posts to
 * (filled in by the OpenCity ingest work; see issue 6).
 */
import type { Db } from './db.js';

// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface IngestTokenStore {}

export class SqlIngestTokenStore implements IngestTokenStore {
  constructor(protected readonly db: Db) {}
}
