/** Why a long-running command stops: a signal, the end of `--duration`, or its package-manager wrapper going away. */
export type StopReason = 'SIGINT' | 'SIGTERM' | 'duration' | 'parent-exit';

/** What {@link untilSignal} returns. */
export interface StopSignals {
  /** Resolves with the first reason to stop. */
  readonly done: Promise<StopReason>;
  /**
   * Hands every later SIGINT or SIGTERM (a second Ctrl-C while shutting down) to `handler` instead of
   * ignoring it. Until `dispose()`, Node's default of dying at once never applies.
   */
  onRepeat(handler: (signal: NodeJS.Signals) => void): void;
  /** Removes the signal handlers, the timer and the parent watch. */
  dispose(): void;
}

/** How often the parent is checked: a few times a second costs nothing. */
const PARENT_POLL_MS = 500;

/**
 * Resolves on Ctrl-C (SIGINT), SIGTERM, after `ms` (when given), or, when a package-manager script
 * started this process (`pnpm kflow ...`), once that wrapper is gone: pnpm and the shell it starts do not
 * pass a SIGTERM on, so without this the command would keep running orphaned. Only the wrapper's exit
 * counts (this process then gets a new parent); a command started directly (`kflow`, `node`) may outlive
 * the shell that started it, as `nohup` expects.
 */
export function untilSignal(ms?: number): StopSignals {
  let stopped = false;
  let repeat: ((signal: NodeJS.Signals) => void) | undefined;
  let finish: (reason: StopReason) => void = () => {};
  const done = new Promise<StopReason>((resolve) => (finish = resolve));
  const first = (reason: StopReason) => {
    if (stopped) return false;
    stopped = true;
    finish(reason);
    return true;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (!first(signal === 'SIGINT' ? 'SIGINT' : 'SIGTERM')) repeat?.(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const timer = ms === undefined ? undefined : setTimeout(() => first('duration'), ms);
  const parent = process.ppid;
  // A terminal's Ctrl-C also ends the wrapper; after the first reason that is no second request.
  const watch = process.env.npm_lifecycle_event === undefined ? undefined : setInterval(() => process.ppid !== parent && first('parent-exit'), PARENT_POLL_MS);
  watch?.unref();
  return {
    done,
    onRepeat(handler) {
      repeat = handler;
    },
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      clearTimeout(timer);
      clearInterval(watch);
    },
  };
}
