import { useEffect, useState } from 'preact/hooks';

export type Loaded<T> = { state: 'loading' } | { state: 'error'; message: string } | { state: 'ok'; data: T };

/** Loads once per change of `deps`, and again every `refreshMs` when given. */
export function useLoad<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: readonly unknown[],
  refreshMs = 0,
): [Loaded<T>, () => void] {
  const [value, setValue] = useState<Loaded<T>>({ state: 'loading' });
  const [nonce, setNonce] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    load(ctl.signal).then(
      (data) => setValue({ state: 'ok', data }),
      (e: unknown) => {
        if (!ctl.signal.aborted)
          setValue({ state: 'error', message: e instanceof Error ? e.message : String(e) });
      },
    );
    const timer = refreshMs > 0 ? setTimeout(() => setNonce((n) => n + 1), refreshMs) : undefined;
    return () => {
      ctl.abort();
      clearTimeout(timer);
    };
  }, [...deps, nonce]);
  return [value, () => setNonce((n) => n + 1)];
}
