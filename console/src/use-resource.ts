import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import type { Api } from './api';
import { ApiError } from './api';

/** The signed-in API client, provided by the app shell. */
export const ApiContext = createContext<Api | undefined>(undefined);

/** The signed-in API client. */
export function useApi(): Api {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi outside a signed-in console');
  return api;
}

/** What a page knows about one thing it loads from the API. */
export interface Resource<T> {
  readonly data: T | undefined;
  readonly error: ApiError | undefined;
  readonly loading: boolean;
  reload(): void;
}

/** Turns anything thrown into an ApiError, so pages have one thing to show. */
export function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError(0, 'CONSOLE', err instanceof Error ? err.message : String(err));
}

/**
 * Runs page actions (create, delete, drain …): `run(work)` clears the last error, keeps the
 * error `work` throws for the page to show, and calls `after` (usually reloads) either way.
 */
export function useAction(after: () => void): {
  readonly error: ApiError | undefined;
  readonly run: (work: () => Promise<unknown>) => Promise<void>;
} {
  const [error, setError] = useState<ApiError | undefined>();
  const run = async (work: () => Promise<unknown>): Promise<void> => {
    setError(undefined);
    try {
      await work();
    } catch (err) {
      setError(asApiError(err));
    }
    after();
  };
  return { error, run };
}

/**
 * Loads `load(api)` now, again on `reload()`, and every `refreshMs` when given (for live
 * pages). A later answer never overwrites a newer one.
 */
export function useResource<T>(
  load: (api: Api) => Promise<T>,
  options: { refreshMs?: number; key?: string } = {},
): Resource<T> {
  const api = useApi();
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean }>({
    loading: true,
  });
  const serial = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const reload = useCallback(() => {
    const mine = ++serial.current;
    setState((s) => ({ ...s, loading: true }));
    loadRef.current(api).then(
      (data) => {
        if (mine === serial.current) setState({ data, loading: false });
      },
      (err: unknown) => {
        if (mine === serial.current)
          setState((s) => ({ ...s, error: asApiError(err), loading: false }));
      },
    );
  }, [api]);
  useEffect(() => {
    reload();
    if (!options.refreshMs) return undefined;
    const timer = window.setInterval(reload, options.refreshMs);
    return () => window.clearInterval(timer);
  }, [reload, options.refreshMs, options.key]);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}
