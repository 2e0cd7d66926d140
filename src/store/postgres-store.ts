/** PostgreSQL store: arrives with the scale-out issue. */
import type { Store } from './store.js';

export async function openPostgresStore(_url: string): Promise<Store> {
  throw new Error('postgres:// is not supported yet: use sqlite:<path>');
}
