/**
 * Timer functions, injected so tests can drive time. Handles are opaque. The defaults are the
 * process timers, unref'd: background batching and reconnect timers never keep a process alive.
 */
export interface Timers {
  /** Calls `fn` once after `ms` milliseconds; returns a handle for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a pending `setTimeout` (ignores handles that already fired). */
  clearTimeout(handle: unknown): void;
}

/** The process timers, unref'd so that background timers never keep a process alive. */
export const systemTimers: Timers = {
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

/** Resolves after `ms` on the given timers. */
export function sleep(timers: Timers, ms: number): Promise<void> {
  return new Promise((resolve) => timers.setTimeout(resolve, ms));
}

/**
 * Keeps the process alive until the returned release function is called. Background timers are
 * unref'd, so without this a `close()` waiting out a database outage (only timers pending, no socket)
 * would let Node exit with the rows still in memory.
 */
export function holdProcessOpen(): () => void {
  const handle = setInterval(() => {}, 1 << 30);
  return () => clearInterval(handle);
}
