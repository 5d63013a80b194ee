/**
 * A bounded time series in columns (a ring of Float64Arrays): `push` is O(1) and allocation-free, the
 * oldest point goes when it is full, `columns()` copies out the points in time order for a chart.
 * NaN marks a missing value (uPlot draws a gap; `columns` maps it to null).
 */
export class Series {
  private cols: Float64Array[];
  private start = 0;
  private count = 0;
  /** Changes on every push: charts redraw only when it moved. */
  revision = 0;

  constructor(
    readonly width: number,
    private capacity: number,
  ) {
    this.cols = Array.from({ length: width + 1 }, () => new Float64Array(capacity));
  }

  get length(): number {
    return this.count;
  }

  /** Time of the newest point, or -Infinity. */
  get lastTime(): number {
    return this.count === 0 ? -Infinity : this.cols[0]![(this.start + this.count - 1) % this.capacity]!;
  }

  /** Appends a point (`values.length === width`); a point not after the newest one replaces its values. */
  push(t: number, values: readonly number[]): void {
    this.revision++;
    let i: number;
    let time = t;
    if (this.count > 0 && t <= this.lastTime) {
      i = (this.start + this.count - 1) % this.capacity;
      time = this.cols[0]![i]!;
    } else if (this.count < this.capacity) i = (this.start + this.count++) % this.capacity;
    else {
      i = this.start;
      this.start = (this.start + 1) % this.capacity;
    }
    this.cols[0]![i] = time;
    for (let c = 0; c < this.width; c++) this.cols[c + 1]![i] = values[c] ?? Number.NaN;
  }

  /** The newest value of column `c` (0-based, without time), or NaN. */
  last(c: number): number {
    return this.count === 0 ? Number.NaN : this.cols[c + 1]![(this.start + this.count - 1) % this.capacity]!;
  }

  /** Keeps the points and makes room for `capacity` (never shrinks). */
  grow(capacity: number): void {
    if (capacity <= this.capacity) return;
    const next = Array.from({ length: this.width + 1 }, () => new Float64Array(capacity));
    for (let k = 0; k < this.count; k++) {
      const from = (this.start + k) % this.capacity;
      for (let c = 0; c <= this.width; c++) next[c]![k] = this.cols[c]![from]!;
    }
    this.cols = next;
    this.capacity = capacity;
    this.start = 0;
  }

  /** `[times, ...columns]` in time order, NaN as null (uPlot's AlignedData). */
  columns(): [number[], ...(number | null)[][]] {
    const out: [number[], ...(number | null)[][]] = [Array.from({ length: this.count }, () => 0)];
    for (let c = 0; c < this.width; c++) out.push(Array.from({ length: this.count }, (): number | null => null));
    for (let k = 0; k < this.count; k++) {
      const i = (this.start + k) % this.capacity;
      out[0][k] = this.cols[0]![i]!;
      for (let c = 1; c <= this.width; c++) {
        const v = this.cols[c]![i]!;
        out[c]![k] = Number.isNaN(v) ? null : v;
      }
    }
    return out;
  }
}

/** A bounded list, newest first by index (`at(0)` is the newest). */
export class Ring<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.items = Array.from({ length: capacity }, (): T | undefined => undefined);
  }

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    this.head = (this.head + 1) % this.capacity;
    this.items[this.head] = item;
    if (this.count < this.capacity) this.count++;
  }

  /** The i-th newest item. */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.count) return undefined;
    return this.items[(this.head - i + this.capacity) % this.capacity];
  }

  /** Items, newest first, that pass `keep`. */
  filter(keep: (item: T) => boolean): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.count; i++) {
      const item = this.at(i)!;
      if (keep(item)) out.push(item);
    }
    return out;
  }

  clear(): void {
    this.items.fill(undefined);
    this.count = 0;
  }
}
