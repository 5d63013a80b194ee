/** A named figure measured by `kflow bench`. */
export interface Benchmark {
  /** Dotted name ending in the unit, e.g. `orderbook.applyDelta.nsPerOp`. */
  readonly name: string;
  readonly description: string;
  /** Whether lower or higher figures are better (used for the target check). */
  readonly better: 'lower' | 'higher';
  /** The figure the issue asks for, if any. */
  readonly target?: number;
  /** Another benchmark's name: the ratio `figure / baseline` is printed as `<name>.vs.<baseline>`. */
  readonly baseline?: string;
  /** The ratio to `baseline` the issue asks for, if any (compared in the direction of `better`). */
  readonly baselineTarget?: number;
  readonly warmupRuns?: number;
  readonly runs?: number;
  /** A reason to skip (e.g. no DATABASE_URL), or undefined to run. */
  skip?(): string | undefined;
  /** Prepares state outside the timed runs; its result is passed to `run`. */
  setup?(): unknown;
  /** One timed run; returns the figure. */
  run(state: unknown): number | Promise<number>;
  teardown?(state: unknown): void | Promise<void>;
}

export interface BenchResult {
  readonly name: string;
  readonly median: number;
  readonly samples: readonly number[];
  readonly target?: number;
  readonly met?: boolean;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Runs each benchmark (warm-up runs, then several timed runs) and reports the median. A benchmark whose
 * `baseline` is also selected runs interleaved with it (run i of the baseline, then run i of each benchmark
 * measured against it), so load changes on a shared machine hit both alike and their ratio stays fair.
 */
export async function runBenchmarks(
  benchmarks: readonly Benchmark[],
  onResult: (result: BenchResult) => void = () => {},
): Promise<{ results: BenchResult[]; skipped: Record<string, string> }> {
  const results: BenchResult[] = [];
  const skipped: Record<string, string> = {};
  const runnable = benchmarks.filter((b) => {
    const reason = b.skip?.();
    if (reason !== undefined) skipped[b.name] = reason;
    return reason === undefined;
  });
  const names = new Set(runnable.map((b) => b.name));
  for (const b of runnable) {
    if (b.baseline !== undefined && names.has(b.baseline)) continue; // runs in its baseline's group
    const group = [b, ...runnable.filter((d) => d.baseline === b.name)];
    const states: unknown[] = [];
    try {
      for (const g of group) states.push(await g.setup?.());
      for (const [k, g] of group.entries()) for (let i = 0; i < (g.warmupRuns ?? 2); i++) await g.run(states[k]);
      const samples = group.map((): number[] => []);
      const rounds = Math.max(...group.map((g) => g.runs ?? 5));
      for (let i = 0; i < rounds; i++) {
        for (const [k, g] of group.entries()) if (i < (g.runs ?? 5)) samples[k]!.push(await g.run(states[k]));
      }
      for (const [k, g] of group.entries()) {
        const m = median(samples[k]!);
        const result: BenchResult =
          g.target === undefined
            ? { name: g.name, median: m, samples: samples[k]! }
            : { name: g.name, median: m, samples: samples[k]!, target: g.target, met: g.better === 'lower' ? m <= g.target : m >= g.target };
        results.push(result);
        onResult(result);
      }
    } finally {
      for (const [k, g] of group.entries()) if (k < states.length) await g.teardown?.(states[k]);
    }
  }
  return { results, skipped };
}

/**
 * Flattens results into one object of named figures, adding `<name>.vs.<baseline>` ratios: the median of
 * the run-by-run ratios when both ran interleaved with the same number of runs, else the ratio of medians.
 */
export function toFigures(benchmarks: readonly Benchmark[], results: readonly BenchResult[]): Record<string, number> {
  const byName = new Map(results.map((r) => [r.name, r]));
  const figures: Record<string, number> = {};
  for (const r of results) {
    figures[r.name] = round(r.median);
    const base = benchmarks.find((b) => b.name === r.name)?.baseline;
    const baseResult = base === undefined ? undefined : byName.get(base);
    if (base === undefined || baseResult === undefined) continue;
    const paired = baseResult.samples.length === r.samples.length;
    const ratio = paired ? median(r.samples.map((x, i) => x / baseResult.samples[i]!)) : r.median / baseResult.median;
    figures[`${r.name}.vs.${base}`] = round(ratio);
  }
  return figures;
}

function round(x: number): number {
  return Math.abs(x) >= 100 ? Math.round(x) : Math.round(x * 1000) / 1000;
}

/** Nanoseconds per call of `fn` over `iterations` calls. */
export function nsPerOp(iterations: number, fn: (i: number) => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn(i);
  return Number(process.hrtime.bigint() - t0) / iterations;
}

/** Seconds elapsed while running `fn`. */
export async function seconds(fn: () => unknown): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
