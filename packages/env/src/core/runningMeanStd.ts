import { envError } from './errors';

/** A serializable snapshot of `RunningMeanStd` (e.g. to save observation normalization in a checkpoint). */
export interface RunningMeanStdState {
  readonly count: number;
  readonly mean: readonly number[];
  /** Sum of squared deviations from the mean (Welford's M2), per element. */
  readonly m2: readonly number[];
}

/**
 * Per-element running mean and population variance (Welford's algorithm: numerically stable, O(size)
 * per update, no allocation).
 *
 * @example
 * const rms = new RunningMeanStd(2);
 * rms.update([1, 10]); rms.update([3, 30]);
 * rms.mean; // Float64Array [2, 20]
 * rms.variance(0); // 1
 */
export class RunningMeanStd {
  readonly size: number;
  /** Running mean per element. Do not mutate. */
  readonly mean: Float64Array;
  private readonly m2: Float64Array;
  private n = 0;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw envError('INVALID_ARGUMENT', `RunningMeanStd size must be a positive integer, got ${size}`);
    this.size = size;
    this.mean = new Float64Array(size);
    this.m2 = new Float64Array(size);
  }

  /** Samples seen. */
  get count(): number {
    return this.n;
  }

  /** Adds one sample of `size` elements. */
  update(x: ArrayLike<number>): void {
    if (x.length !== this.size) throw envError('INVALID_ARGUMENT', `RunningMeanStd expects ${this.size} elements, got ${x.length}`);
    this.n++;
    const n = this.n;
    for (let i = 0; i < this.size; i++) {
      const v = x[i]!;
      const delta = v - this.mean[i]!;
      this.mean[i]! += delta / n;
      this.m2[i]! += delta * (v - this.mean[i]!);
    }
  }

  /** Population variance of element `i` (1 before any sample, as Gymnasium's initial value). */
  variance(i: number): number {
    return this.n === 0 ? 1 : this.m2[i]! / this.n;
  }

  /** A plain-data copy of the statistics (restore it with `restore`). */
  snapshot(): RunningMeanStdState {
    return { count: this.n, mean: Array.from(this.mean), m2: Array.from(this.m2) };
  }

  /** Restores a `snapshot()` of a tracker of the same size. */
  restore(state: RunningMeanStdState): void {
    if (state.mean.length !== this.size || state.m2.length !== this.size || !(state.count >= 0)) {
      throw envError('INVALID_ARGUMENT', `RunningMeanStd state does not fit size ${this.size}`);
    }
    this.n = state.count;
    this.mean.set(state.mean);
    this.m2.set(state.m2);
  }
}
