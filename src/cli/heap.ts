/**
 * How far V8 lets the old generation grow past what its last full collection kept. V8 picks
 * the factor itself, up to 4×, and a busy messo process keeps little alive (27–35 MB after a
 * full GC under the bench's open loop at 1,000 events/s): the old space still grew to
 * 105–132 MB of promoted garbage before V8 collected it, and the one-process server peaked at
 * 202–277 MB of RSS. At 25 % it peaked at 177–191 MB, CPU within the noise (BENCHMARKS.md,
 * "The old generation's growth bounded"). The store holds the data, not the heap, so a small factor
 * costs a few more full collections of a small heap. Where much is alive at once it costs more:
 * 32 bulk batches of 1,000 events in flight took 10–20 % more CPU for half the RSS (350–366
 * against 557–801 MB); such a deployment can start Node with --heap-growing-percent=0 (V8's).
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_PERCENT = 25;

/**
 * Sets V8's heap growing factor for a long-running process (serve, worker), unless whoever
 * started Node chose one (`node --heap-growing-percent=N`, or in NODE_OPTIONS). V8 reads the
 * flag at each full collection, so setting it once the process runs takes effect from the next.
 */
export function boundHeapGrowth(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  const chosen = [...execArgv, ...nodeOptions.split(/\s+/)].some((a) => /^--heap[-_]growing[-_]percent\b/.test(a));
  if (chosen) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
