/** Loading state for one request, with reload; a stale answer never overwrites a newer one. */
import { useCallback, useEffect, useRef, useState } from 'react';

export type Load<T> = {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
};

export function useLoad<T>(fn: () => Promise<T>, deps: readonly unknown[]): Load<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const seq = useRef(0);
  const run = useCallback(fn, deps);
  const reload = useCallback(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    run().then(
      (data) => {
        if (mine === seq.current) setState({ data, loading: false });
      },
      (error: unknown) => {
        if (mine === seq.current)
          setState({ error: error instanceof Error ? error : new Error(String(error)), loading: false });
      },
    );
  }, [run]);
  useEffect(() => {
    reload();
  }, [reload]);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}
