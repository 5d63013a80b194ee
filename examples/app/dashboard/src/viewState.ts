import { type Dispatch, type SetStateAction, useState } from 'react';

const kept = new Map<string, unknown>();

/** `useState` whose value outlives the view: filters and sorting are where they were when you come back. */
export function useViewState<T>(key: string, initial: T): [T, Dispatch<SetStateAction<T>>] {
  const [value, setValue] = useState<T>(() => (kept.has(key) ? (kept.get(key) as T) : initial));
  const set: Dispatch<SetStateAction<T>> = (next) =>
    setValue((prev) => {
      const v = typeof next === 'function' ? (next as (p: T) => T)(prev) : next;
      kept.set(key, v);
      return v;
    });
  return [value, set];
}
