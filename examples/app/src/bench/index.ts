import type { Benchmark } from './harness';
import { actorBenchmarks } from './actor.bench';
import { agentsBenchmarks } from './agents.bench';
import { envBenchmarks } from './env.bench';
import { featuresBenchmarks } from './features.bench';
import { ingestBenchmarks } from './ingest.bench';
import { jobsBenchmarks } from './jobs.bench';
import { orderbookBenchmarks } from './orderbook.bench';
import { paperBenchmarks } from './paper.bench';
import { simBenchmarks } from './sim.bench';

/** Every registered benchmark, in run order. */
export const allBenchmarks: readonly Benchmark[] = [...orderbookBenchmarks, ...featuresBenchmarks, ...paperBenchmarks, ...envBenchmarks, ...simBenchmarks, ...agentsBenchmarks, ...ingestBenchmarks, ...actorBenchmarks, ...jobsBenchmarks];
