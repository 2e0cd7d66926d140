/** Loading data from the API with explicit loading / error / data states. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
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
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(path !== null);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  const lastPath = useRef<string | null>(null);

  useEffect(() => {
    if (path === null) return;
    const ac = new AbortController();
    // A new path starts from empty; a reload of the same one keeps what is shown.
    if (lastPath.current !== path) {
      setData(null);
      setLoading(true);
      lastPath.current = path;
    }
    call<T>(path, { signal: ac.signal }).then(
      (d) => {
        setData(d);
        setError(null);
        setLoading(false);
      },
      (err) => {
        if ((err as Error).name === 'AbortError') return;
        setError(err);
        setLoading(false);
      },
    );
    return () => ac.abort();
  }, [path, tick, ...(opts.deps ?? [])]);

  useEffect(() => {
    if (!opts.refreshMs || path === null) return;
    const timer = setInterval(reload, opts.refreshMs);
    return () => clearInterval(timer);
  }, [opts.refreshMs, path]);

  return { data, error, loading, reload, setData };
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
