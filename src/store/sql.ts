/**
 * Small SQL helpers shared by the store's modules (claims, deliveries, outbox…). Kept apart so
 * those modules import it and not one another.
 */
import type { Db } from './db.js';

export const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/**
 * PostgreSQL: claims, attempt outcomes and lease renewals commit without waiting for the WAL
 * flush. Should the database crash in the next few ms, what is lost is a claim or an outcome,
 * and the delivery is simply sent again (at least once, never zero); events themselves are
 * always committed synchronously. Measured: the dispatcher waited on fsync most of its time.
 */
export async function relaxedCommit(t: Db): Promise<void> {
  if (t.dialect === 'postgres') await t.execute('SET LOCAL synchronous_commit = off');
}
