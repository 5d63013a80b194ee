import { generateCapture, resolveSimConfig } from '@kflow/sim';
import type { Benchmark } from './harness';

export const simBenchmarks: readonly Benchmark[] = [
  {
    name: 'sim.framesPerSec',
    description: "Simulator frames per second as fast as possible: 'informed', 8 markets × 10 min, each frame serialized to its JSON line",
    better: 'higher',
    target: 200_000,
    runs: 5,
    run: () => {
      const config = resolveSimConfig('informed', { seed: 1, markets: 8, durationMs: 10 * 60_000 });
      let bytes = 0;
      const t0 = process.hrtime.bigint();
      const { frames } = generateCapture(config, {
        onFrame: (line) => {
          bytes += line.length;
        },
      });
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (bytes === 0) throw new Error('no frames');
      return frames / seconds;
    },
  },
];
