/** Percentiles of the latest `capacity` samples (a ring buffer: recording never allocates). */
export class LatencyWindow {
  private readonly samples: Float64Array;
  private next = 0;
  private filled = 0;
  private maxSeen = 0;

  constructor(capacity = 65_536) {
    this.samples = new Float64Array(capacity);
  }

  record(value: number): void {
    this.samples[this.next] = value;
    this.next = (this.next + 1) % this.samples.length;
    if (this.filled < this.samples.length) this.filled++;
    if (value > this.maxSeen) this.maxSeen = value;
  }

  get count(): number {
    return this.filled;
  }

  /** Nearest-rank percentiles of the window (NaN when empty) and the largest value ever recorded. */
  summary(): { readonly p50: number; readonly p99: number; readonly max: number } {
    if (this.filled === 0) return { p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
    const sorted = this.samples.slice(0, this.filled).sort();
    const at = (q: number) => sorted[Math.min(this.filled - 1, Math.ceil(q * this.filled) - 1)]!;
    return { p50: at(0.5), p99: at(0.99), max: this.maxSeen };
  }
}
