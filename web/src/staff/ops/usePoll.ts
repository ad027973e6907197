import { useCallback, useEffect, useRef, useState } from 'react';

/**
 * Runs `load` now, every `ms` while the tab is visible, and at once when it becomes visible again (a dashboard left
 * in a background tab costs the API nothing). Returns when it last succeeded, the last error, and a refresh.
 */
export function usePoll(load: () => Promise<void>, ms: number) {
  const latest = useRef(load);
  latest.current = load;
  const [updatedAt, setUpdatedAt] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const running = useRef(false);
  const again = useRef(false);

  /** One load at a time; a refresh asked for during a load runs once more after it, so it sees the state now. */
  const refresh = useCallback(async () => {
    if (running.current) {
      again.current = true;
      return;
    }
    running.current = true;
    do {
      again.current = false;
      try {
        await latest.current();
        setUpdatedAt(new Date().toISOString());
        setError(null);
      } catch (err) {
        setError(err);
      }
    } while (again.current);
    running.current = false;
  }, []);

  useEffect(() => {
    void refresh();
    const timer = setInterval(() => !document.hidden && void refresh(), ms);
    const onVisible = () => !document.hidden && void refresh();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [ms, refresh]);

  return { updatedAt, error, refresh };
}
