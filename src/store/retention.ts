/**
 * Retention: events, rendered payloads, finished deliveries and attempts older than the
 * configured age are removed in small batches, each its own short statement, so no lock is
 * held for long and the API and dispatchers go on meanwhile. Deliveries still pending or being
 * sent are never removed, nor the payloads and events they need. Rows are visited in `seq`
 * order, which is also their age order, so each batch finds its rows at the start of the
 * primary key.
 */
import type { Db } from './db.js';
import { STATUS } from './sql.js';

export interface PurgeResult {
  attempts: number;
  deliveries: number;
  payloads: number;
  events: number;
}

export async function purgeOlderThan(db: Db, cutoff: number, batch = 1000, pauseMs = 5): Promise<PurgeResult> {
  const result: PurgeResult = { attempts: 0, deliveries: 0, payloads: 0, events: 0 };
  const steps: [keyof PurgeResult, string][] = [
    ['attempts', 'DELETE FROM attempts WHERE seq IN (SELECT seq FROM attempts WHERE started_at < ? ORDER BY seq LIMIT ?)'],
    ['deliveries', `DELETE FROM deliveries WHERE seq IN (SELECT seq FROM deliveries WHERE created_at < ?
       AND status IN (${STATUS.succeeded}, ${STATUS.failed}, ${STATUS.cancelled}) ORDER BY seq LIMIT ?)`],
    ['payloads', `DELETE FROM payloads WHERE id IN (SELECT p.id FROM payloads p WHERE p.created_at < ?
       AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.payload_id = p.id) LIMIT ?)`],
    // An event stays while any of its deliveries does: the delivery list finds a delivery by its
    // event (delivery-filter.ts), and shows it.
    ['events', `DELETE FROM events WHERE seq IN (SELECT seq FROM events e WHERE recorded_at < ?
       AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq) ORDER BY seq LIMIT ?)`],
  ];
  for (const [name, sql] of steps) {
    for (;;) {
      const n = await db.execute(sql, [cutoff, batch]);
      result[name] += n;
      if (n < batch) break;
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
  return result;
}
