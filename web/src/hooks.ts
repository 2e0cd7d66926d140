/** Loading data from the API with explicit loading / error / data states. */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { call } from './api.js';

export interface Loaded<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
  setData: (d: T | null) => void;
}

/**
 * GETs path (null: nothing yet) and again whenever it changes. `refreshMs` polls while the page
 * is open, keeping the data shown between polls, so lists update without flicker.
 */
export function useApi<T>(path: string | null, opts: { refreshMs?: number | null; deps?: unknown[] } = {}): Loaded<T> {
  // Data and error are kept with the path they answer: the render that follows a change of path
  // (a search, a filter) shows "loading", never the previous path's rows for a frame.
  const [got, setGot] = useState<{ path: string; data: T | null; error: unknown } | null>(null);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((n) => n + 1), []);

  useEffect(() => {
    if (path === null) return;
    const ac = new AbortController();
    call<T>(path, { signal: ac.signal }).then(
      (d) => setGot({ path, data: d, error: null }),
      (err) => {
        if ((err as Error).name === 'AbortError') return;
        setGot((g) => ({ path, data: g?.path === path ? g.data : null, error: err }));
      },
    );
    return () => ac.abort();
  }, [path, tick, ...(opts.deps ?? [])]);

  useEffect(() => {
    if (!opts.refreshMs || path === null) return;
    const timer = setInterval(reload, opts.refreshMs);
    return () => clearInterval(timer);
  }, [opts.refreshMs, path]);

  const current = got !== null && got.path === path ? got : null;
  const setData = useCallback((d: T | null) => {
    if (path !== null) setGot({ path, data: d, error: null });
  }, [path]);
  return { data: current?.data ?? null, error: current?.error ?? null, loading: path !== null && current === null, reload, setData };
}

/** Runs an action, keeping its pending state and its problem for the form that started it. */
export function useAction<A extends unknown[], R>(fn: (...args: A) => Promise<R>) {
  const [pending, setPending] = useState(false);
  const [problem, setProblem] = useState<unknown>(null);
  const run = async (...args: A): Promise<R | undefined> => {
    setPending(true);
    setProblem(null);
    try {
      return await fn(...args);
    } catch (err) {
      setProblem(err);
      return undefined;
    } finally {
      setPending(false);
    }
  };
  return { run, pending, problem, setProblem };
}

/**
 * A cursor-paged list: the first page (polled when refreshMs is set) plus pages loaded with
 * "load more". Polling stops once more pages are shown, so rows do not shift under the reader.
 */
export function usePaged<T>(path: string | null, opts: { refreshMs?: number | null } = {}) {
  const [more, setMore] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreProblem, setMoreProblem] = useState<unknown>(null);
  const first = useApi<{ items: T[]; next_cursor: string | null }>(path, { refreshMs: more.length ? null : opts.refreshMs });
  useEffect(() => {
    setMore([]);
    setCursor(undefined);
    setMoreProblem(null);
  }, [path]);
  const next = cursor === undefined ? first.data?.next_cursor ?? null : cursor;
  const loadMore = async () => {
    if (!path || !next) return;
    setLoadingMore(true);
    setMoreProblem(null);
    try {
      const p = await call<{ items: T[]; next_cursor: string | null }>(`${path}${path.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(next)}`);
      setMore((m) => [...m, ...p.items]);
      setCursor(p.next_cursor);
    } catch (err) {
      setMoreProblem(err);
    } finally {
      setLoadingMore(false);
    }
  };
  const reload = () => {
    setMore([]);
    setCursor(undefined);
    first.reload();
  };
  return {
    items: first.data ? [...first.data.items, ...more] : null,
    error: first.error, loading: first.loading, reload, next, loadMore, loadingMore, moreProblem,
  };
}
