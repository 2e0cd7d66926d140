/**
 * LISTEN/NOTIFY wake-ups on PostgreSQL: a transaction that queues deliveries (or makes them due
 * again) sends `NOTIFY` on the installation's channel; every dispatcher process listens on its
 * own connection and claims at once instead of waiting for its poll. Notifications are only a
 * hint — the slow poll stays as the safety net — so a lost one costs latency, never an event.
 * The listening connection reconnects by itself (server restart, network), and wakes the
 * dispatcher after reconnecting, since notifications sent meanwhile were lost.
 */
import pg from 'pg';
import type { PgDb } from './pg-db.js';

/** One channel per schema, so installations sharing a database do not wake each other. */
export function wakeChannel(schema: string | null): string {
  return `messo_wake_${(schema ?? 'public').toLowerCase()}`.slice(0, 63);
}

export interface Listener {
  close(): Promise<void>;
}

export function listenForWake(db: PgDb, onWake: () => void, onError: (err: Error) => void): Listener {
  const channel = wakeChannel(db.schema);
  let client: pg.Client | null = null;
  let closed = false;
  let retryMs = 250;
  let timer: NodeJS.Timeout | null = null;

  const connect = async () => {
    if (closed) return;
    const c = new pg.Client(db.pool.options);
    client = c;
    c.on('notification', () => onWake());
    c.on('error', (err) => {
      onError(err);
      reconnect(c);
    });
    c.on('end', () => reconnect(c));
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
      retryMs = 250;
      onWake();
    } catch (err) {
      onError(err as Error);
      reconnect(c);
    }
  };

  const reconnect = (c: pg.Client) => {
    if (closed || client !== c || timer) return;
    client = null;
    c.removeAllListeners('end');
    c.end().catch(() => undefined);
    timer = setTimeout(() => {
      timer = null;
      void connect();
    }, retryMs);
    retryMs = Math.min(retryMs * 2, 5000);
  };

  void connect();
  return {
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = null;
      if (c) {
        c.removeAllListeners('end');
        await c.end().catch(() => undefined);
      }
    },
  };
}
