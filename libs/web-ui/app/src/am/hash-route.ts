import { useEffect, useState } from 'preact/hooks';

/**
 * Alertmanager's UI routes after the hash (`/#/alerts`, `/#/silences/new?filter=...`), and its
 * notifications link there: the same routes here keep those links working.
 */
export function useHashRoute(): { path: string; params: URLSearchParams } {
  const read = () => {
    const h = location.hash.replace(/^#/, '') || '/alerts';
    const [path, q = ''] = h.split('?', 2);
    return { path, params: new URLSearchParams(q) };
  };
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}
