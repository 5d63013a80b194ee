/**
 * Dark by default (or the system's preference), light on demand; the choice is remembered in
 * localStorage. `index.html` applies it before the first paint; charts read the palette from the CSS
 * variables and rebuild when the theme changes.
 */
import { useSyncExternalStore } from 'react';

export type Theme = 'dark' | 'light';

const KEY = 'kflow.theme';
const listeners = new Set<() => void>();

function current(): Theme {
  return document.documentElement.dataset.theme === 'light' ? 'light' : 'dark';
}

export function setTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
  try {
    localStorage.setItem(KEY, theme);
  } catch {
    // not remembered: fine
  }
  for (const l of listeners) l();
}

export function useTheme(): Theme {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    current,
  );
}

/** A palette color (a CSS variable of the current theme), for canvases. */
export function cssColor(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(`--${name}`).trim() || '#888';
}
