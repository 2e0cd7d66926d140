/**
 * The WAL checkpointer of a SQLite store, on a thread of its own (sqlite-checkpoint.ts starts
 * it): a connection of its own copies the WAL's pages into the database file every
 * `intervalMs`, PASSIVE (it never waits for, nor blocks, the writer or the readers).
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const conn = new Database(path);
const timer = setInterval(() => {
  try {
    conn.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or closing: the next turn tries again, and the writer's own autocheckpoint backs this up.
  }
}, intervalMs);

parentPort?.once('message', () => {
  clearInterval(timer);
  conn.close();
  parentPort?.close();
});
