/**
 * Resolves on Ctrl-C (SIGINT), SIGTERM or after `ms` (when given), whichever comes first; `dispose()`
 * removes the handlers and the timer.
 */
export function untilSignal(ms: number | undefined): { done: Promise<void>; dispose(): void } {
  let finish = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  process.once('SIGINT', finish);
  process.once('SIGTERM', finish);
  const timer = ms === undefined ? undefined : setTimeout(finish, ms);
  return {
    done,
    dispose() {
      process.off('SIGINT', finish);
      process.off('SIGTERM', finish);
      clearTimeout(timer);
    },
  };
}
