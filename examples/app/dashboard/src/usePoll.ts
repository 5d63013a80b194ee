import { useCallback, useEffect, useRef, useState } from 'react';
import { apiGet, errorText } from './api';

export interface PollResult<T> {
  readonly data: T | null;
  readonly error: string | null;
  readonly loading: boolean;
  /** Asks again now. */
  readonly refresh: () => void;
}

/**
 * `GET path` now and every `intervalMs` after each answer (or once, with `intervalMs` null); the last
 * good answer stays on screen while a later request fails, and the failure is reported beside it.
 */
export function usePoll<T>(path: string | null, intervalMs: number | null): PollResult<T> {
  const [state, setState] = useState<{ data: T | null; error: string | null; loading: boolean; path: string | null }>({ data: null, error: null, loading: path !== null, path });
  const [tick, setTick] = useState(0);
  const refresh = useCallback(() => setTick((t) => t + 1), []);
  const pathRef = useRef(path);
  pathRef.current = path;

  useEffect(() => {
    if (path === null) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const controller = new AbortController();
    const run = async () => {
      try {
        const data = await apiGet<T>(path, controller.signal);
        if (!stopped) setState({ data, error: null, loading: false, path });
      } catch (error) {
        if (stopped) return;
        setState((s) => ({ data: s.path === path ? s.data : null, error: errorText(error), loading: false, path }));
      }
      if (!stopped && intervalMs !== null) timer = setTimeout(run, intervalMs);
    };
    setState((s) => (s.path === path ? s : { data: null, error: null, loading: true, path }));
    void run();
    return () => {
      stopped = true;
      controller.abort();
      clearTimeout(timer);
    };
  }, [path, intervalMs, tick]);

  return { data: state.path === path ? state.data : null, error: state.path === path ? state.error : null, loading: state.loading, refresh };
}
