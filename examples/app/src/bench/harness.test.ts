import { describe, expect, it } from 'vitest';
import { type Benchmark, runBenchmarks, toFigures } from './harness';

/** A fake benchmark that logs its calls and returns the given figures in turn. */
function fake(name: string, figures: number[], log: string[], extra: Partial<Benchmark> = {}): Benchmark {
  let i = 0;
  return {
    name,
    description: name,
    better: 'higher',
    warmupRuns: 1,
    runs: figures.length - 1,
    setup: () => log.push(`${name}:setup`),
    run: () => {
      log.push(`${name}:run`);
      return figures[i++]!;
    },
    teardown: () => void log.push(`${name}:teardown`),
    ...extra,
  };
}

describe('bench harness', () => {
  it('reports the median of the timed runs (warm-ups excluded) and checks the target', async () => {
    const log: string[] = [];
    const { results } = await runBenchmarks([fake('a', [1000, 3, 1, 2], log, { target: 2 })]);
    expect(results).toEqual([{ name: 'a', median: 2, samples: [3, 1, 2], target: 2, met: true }]);
    expect(log).toEqual(['a:setup', 'a:run', 'a:run', 'a:run', 'a:run', 'a:teardown']);
  });

  it('interleaves a benchmark with its baseline and reports the median run-by-run ratio', async () => {
    const log: string[] = [];
    // Load shifts between rounds: the run-by-run ratio is 0.5 in 4 of 5 rounds, the ratio of medians is 5.
    const base = fake('base', [0, 100, 100, 10, 10, 10], log);
    const dependent = fake('dep', [0, 50, 50, 50, 5, 5], log, { baseline: 'base', baselineTarget: 0.6 });
    const unrelated = fake('other', [0, 7], log, { skip: () => 'not today' });
    const { results, skipped } = await runBenchmarks([dependent, unrelated, base]);
    expect(skipped).toEqual({ other: 'not today' });
    expect(log.filter((l) => l.endsWith(':run')).slice(2)).toEqual(Array.from({ length: 5 }, () => ['base:run', 'dep:run']).flat());
    const figures = toFigures([dependent, unrelated, base], results);
    expect(figures).toEqual({ base: 10, dep: 50, 'dep.vs.base': 0.5 });
  });
});
