import { useEffect, useState } from 'preact/hooks';

/** The current path and query, following pushState navigation and the back button. */
export function useLocation(): { path: string; search: string } {
  const read = () => ({ path: location.pathname, search: location.search });
  const [loc, setLoc] = useState(read);
  useEffect(() => {
    const on = () => setLoc(read());
    addEventListener('popstate', on);
    addEventListener('pharos:navigate', on);
    return () => {
      removeEventListener('popstate', on);
      removeEventListener('pharos:navigate', on);
    };
  }, []);
  return loc;
}

export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  dispatchEvent(new Event('pharos:navigate'));
}

/** A link that navigates inside the page instead of loading it again. */
export function onLinkClick(e: MouseEvent): void {
  const a = (e.currentTarget as HTMLAnchorElement | null) ?? null;
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  navigate(a.getAttribute('href') ?? '/');
}
