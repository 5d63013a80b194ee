/** Hash routes (`#/markets`, `#/market/<ticker>`, ...): the server serves index.html at `/` only. */
import { useSyncExternalStore } from 'react';

export const VIEWS = ['markets', 'market', 'actions', 'portfolio', 'models', 'training', 'sessions'] as const;
export type ViewName = (typeof VIEWS)[number];

export interface Route {
  readonly view: ViewName;
  /** The market (`market`), or the episode id (`sessions`). */
  readonly arg: string | null;
}

function parse(hash: string): Route {
  const [, view = 'markets', ...rest] = hash.replace(/^#/, '').split('/');
  const arg = rest.length > 0 ? decodeURIComponent(rest.join('/')) : null;
  return (VIEWS as readonly string[]).includes(view) ? { view: view as ViewName, arg } : { view: 'markets', arg: null };
}

let cached: { hash: string; route: Route } = { hash: '', route: { view: 'markets', arg: null } };

function snapshot(): Route {
  if (cached.hash !== location.hash) cached = { hash: location.hash, route: parse(location.hash) };
  return cached.route;
}

export function useRoute(): Route {
  return useSyncExternalStore((l) => {
    addEventListener('hashchange', l);
    return () => removeEventListener('hashchange', l);
  }, snapshot);
}

export function href(view: ViewName, arg?: string | number | null): string {
  return arg === undefined || arg === null ? `#/${view}` : `#/${view}/${encodeURIComponent(String(arg))}`;
}

export function navigate(view: ViewName, arg?: string | number | null): void {
  location.hash = href(view, arg);
}
