/**
 * SQLite's WAL checkpoint off the event loop. By default the connection that commits past
 * 1,000 WAL pages copies them into the database file inside that COMMIT, with two fsyncs: in the
 * one-process topology that stalled the HTTP event loop, and was 40 % of COMMIT's CPU on
 * single-POST ingest (the pages of a random index are written to the WAL and again to the file
 * every other commit). A worker thread with its own connection checkpoints on a timer instead,
 * PASSIVE, beside the writer. It cannot always catch up with a busy writer (the WAL restarts only
 * once every frame is copied), so the writer keeps an autocheckpoint of its own, at
 * BACKSTOP_PAGES: the WAL never grows past that.
 */
import { Worker } from 'node:worker_threads';

/**
 * How often the checkpointer runs. Bench, ingest alone at ~1,200 events/s (17 WAL pages each):
 * every 200 ms the p99 of the 201 was 101–111 ms (61–65 ms without the thread), every 50 ms
 * 62–65 ms: a large checkpoint's fsync stalls the writer's next WAL writes. Shorter copies more
 * pages twice: CPU 4.0 s → 4.4 s for 5,000 events, still under the 4.4–4.7 s without it.
 */
export const CHECKPOINT_INTERVAL_MS = 50;
/** The writer's own autocheckpoint when a checkpointer runs (32 MiB of 4 KiB pages). */
export const BACKSTOP_PAGES = 8000;

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startCheckpointer(path: string): Checkpointer {
  const worker = new Worker(new URL('./sqlite-checkpoint-worker.js', import.meta.url), {
    workerData: { path, intervalMs: CHECKPOINT_INTERVAL_MS },
    // A few MB of heap are plenty: it holds no data, only a connection and a timer.
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
  });
  // It never keeps the process alive; should it fail, the writer's autocheckpoint does its work.
  worker.unref();
  worker.on('error', () => undefined);
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      // Held until it has closed its connection: unref'd, the process could end meanwhile.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
