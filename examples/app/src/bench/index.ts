import type { Benchmark } from './harness';
import { orderbookBenchmarks } from './orderbook.bench';

/** Every registered benchmark, in run order. */
export const allBenchmarks: readonly Benchmark[] = [...orderbookBenchmarks];
