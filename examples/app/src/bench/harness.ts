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

/** Runs each benchmark (warm-up runs, then several timed runs) and reports the median. */
export async function runBenchmarks(
  benchmarks: readonly Benchmark[],
  onResult: (result: BenchResult) => void = () => {},
): Promise<{ results: BenchResult[]; skipped: Record<string, string> }> {
  const results: BenchResult[] = [];
  const skipped: Record<string, string> = {};
  for (const b of benchmarks) {
    const reason = b.skip?.();
    if (reason !== undefined) {
      skipped[b.name] = reason;
      continue;
    }
    const state = await b.setup?.();
    try {
      for (let i = 0; i < (b.warmupRuns ?? 2); i++) await b.run(state);
      const samples: number[] = [];
      for (let i = 0; i < (b.runs ?? 5); i++) samples.push(await b.run(state));
      const m = median(samples);
      const result: BenchResult =
        b.target === undefined
          ? { name: b.name, median: m, samples }
          : { name: b.name, median: m, samples, target: b.target, met: b.better === 'lower' ? m <= b.target : m >= b.target };
      results.push(result);
      onResult(result);
    } finally {
      await b.teardown?.(state);
    }
  }
  return { results, skipped };
}

/** Flattens results into one object of named figures, adding `<name>.vs.<baseline>` ratios. */
export function toFigures(benchmarks: readonly Benchmark[], results: readonly BenchResult[]): Record<string, number> {
  const byName = new Map(results.map((r) => [r.name, r.median]));
  const figures: Record<string, number> = {};
  for (const r of results) {
    figures[r.name] = round(r.median);
    const base = benchmarks.find((b) => b.name === r.name)?.baseline;
    const baseValue = base === undefined ? undefined : byName.get(base);
    if (base !== undefined && baseValue !== undefined) figures[`${r.name}.vs.${base}`] = round(r.median / baseValue);
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
