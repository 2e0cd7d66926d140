/**
 * Request-inspector storage: bins and the requests captured in them (filled in by the
 * inspector work; see issue 4).
 */
import type { Db } from './db.js';

// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface InspectorStore {}

export class SqlInspectorStore implements InspectorStore {
  constructor(protected readonly db: Db) {}
}
