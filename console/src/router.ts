import { useEffect, useState } from 'react';

/** Where the edge serves the console; every client route lives under it. */
export const BASE = '/console';

/** The route part of the current URL, e.g. `/connectors` (`/` for the overview). */
function currentRoute(): string {
  const path = window.location.pathname;
  const route = path.startsWith(BASE) ? path.slice(BASE.length) : path;
  return route === '' ? '/' : route;
}

/** Moves to a client route without reloading, and tells every usePath hook. */
export function navigate(route: string): void {
  window.history.pushState(null, '', BASE + route);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

/** The current client route; re-renders on navigation and on back/forward. */
export function usePath(): string {
  const [path, setPath] = useState(currentRoute);
  useEffect(() => {
    const update = (): void => setPath(currentRoute());
    window.addEventListener('popstate', update);
    return () => window.removeEventListener('popstate', update);
  }, []);
  return path;
}
