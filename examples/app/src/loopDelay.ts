// The collector's event-loop delay, measured one way by `kflow collect`, the ingest bench and the fault suite.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Sampling interval, ms: an idle loop reads about this, a loop held for d ms reads about this + d. */
export const LOOP_DELAY_RESOLUTION_MS = 10;

/** The bound on a collector's p99 at maximum speed, ms. */
export const LOOP_DELAY_P99_TARGET_MS = 20;

/** A disabled monitor of this thread's event loop (`enable()` to start sampling). */
export function loopDelayMonitor(): IntervalHistogram {
  return monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
}

/** p50, p99 and max in ms to 0.1 ms; undefined when nothing was sampled. */
export function loopDelayFigures(h: IntervalHistogram): { p50: number; p99: number; max: number } | undefined {
  if (h.count === 0) return undefined;
  const ms = (ns: number) => Math.round(ns / 1e5) / 10;
  return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
}
