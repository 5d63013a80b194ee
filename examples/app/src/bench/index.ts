import type { Benchmark } from './harness';
import { envBenchmarks } from './env.bench';
import { orderbookBenchmarks } from './orderbook.bench';
import { simBenchmarks } from './sim.bench';

/** Every registered benchmark, in run order. */
export const allBenchmarks: readonly Benchmark[] = [...orderbookBenchmarks, ...envBenchmarks, ...simBenchmarks];
