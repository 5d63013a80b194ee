import { type Rng, createRng } from '@kflow/orderbook';
import { envError } from './errors';

/** Which kind of space; lets code narrow a `Space` without `instanceof`. */
export type SpaceKind = 'discrete' | 'box' | 'multiDiscrete';
/** Element types of `Box` values. */
export type BoxDtype = 'float32' | 'float64';
/** Element type of a space's values (`Discrete` values are plain numbers that fit in int32). */
export type SpaceDtype = BoxDtype | 'int32';
/** The typed array that holds a `Box<D>` value. */
export type BoxArray<D extends BoxDtype> = D extends 'float64' ? Float64Array : Float32Array;

/**
 * A set of valid values (observations or actions), Gymnasium style.
 *
 * Sampling is seeded: `sample(rng)` draws from the given `Rng`; `sample()` draws from the space's own
 * generator, set with `seed(n)` (an unseeded space behaves as if seeded with 0, so runs stay reproducible).
 *
 * @example
 * const space = new Discrete(3);
 * space.seed(7);
 * const a = space.sample(); // 0, 1 or 2
 * space.contains(a); // true
 */
export interface Space<T = unknown> {
  readonly kind: SpaceKind;
  /** Shape of one value (`[]` for `Discrete`). */
  readonly shape: readonly number[];
  readonly dtype: SpaceDtype;
  /** Reseeds the space's own generator used by `sample()` without an argument. */
  seed(seed: number): void;
  /** A random member of the space (a fresh value; never shared with later samples). */
  sample(rng?: Rng): T;
  /** Whether `x` is a member (exact runtime type, shape and bounds). */
  contains(x: unknown): x is T;
  /** Same kind, shape, dtype and bounds. */
  equals(other: Space): boolean;
  /** A short description, e.g. `Box(float32, [4])`. */
  toString(): string;
}

/** The value type of a space: `SpaceValue<Discrete>` is `number`, `SpaceValue<Box>` is `Float32Array`. */
export type SpaceValue<S> = S extends Space<infer T> ? T : never;

/** Every concrete space of this package (a discriminated union on `kind`). */
export type AnySpace = Discrete | Box<BoxDtype> | MultiDiscrete;

function checkInteger(value: number, what: string, min: number): void {
  if (!Number.isInteger(value) || value < min || value > 0x7fffffff) {
    throw envError('INVALID_SPACE', `${what} must be an integer in [${min}, 2^31), got ${value}`);
  }
}

/**
 * `{start, ..., start + n - 1}`: one of `n` discrete actions, as a plain number.
 *
 * @example
 * const actions = new Discrete(2); // CartPole: 0 = push left, 1 = push right
 * actions.sampleMasked(new Uint8Array([0, 1]), createRng(1)); // always 1
 */
export class Discrete implements Space<number> {
  readonly kind = 'discrete' as const;
  readonly shape: readonly number[] = [];
  readonly dtype = 'int32' as const;
  readonly n: number;
  readonly start: number;
  private rng: Rng = createRng(0);

  constructor(n: number, start = 0) {
    checkInteger(n, 'Discrete n', 1);
    if (!Number.isInteger(start) || Math.abs(start) > 0x7fffffff || Math.abs(start + n) > 0x80000000) {
      throw envError('INVALID_SPACE', `Discrete start must be an integer keeping values in int32, got ${start}`);
    }
    this.n = n;
    this.start = start;
  }

  seed(seed: number): void {
    this.rng = createRng(seed);
  }

  sample(rng: Rng = this.rng): number {
    return this.start + rng.int(this.n);
  }

  /**
   * A uniform sample among the actions whose mask entry is 1 (`mask[i]` refers to action `start + i`).
   * Throws `INVALID_ACTION_MASK` if the mask has the wrong length or allows nothing: an env that offers
   * no legal action is broken, and silently picking one would hide it.
   */
  sampleMasked(mask: Uint8Array, rng: Rng = this.rng): number {
    const allowed = countAllowed(mask, this.n);
    let k = rng.int(allowed);
    for (let i = 0; i < this.n; i++) {
      if (mask[i] === 1 && k-- === 0) return this.start + i;
    }
    /* c8 ignore next */
    throw envError('INVALID_ACTION_MASK', 'unreachable: mask changed while sampling');
  }

  contains(x: unknown): x is number {
    return typeof x === 'number' && Number.isInteger(x) && x >= this.start && x < this.start + this.n;
  }

  equals(other: Space): boolean {
    return other instanceof Discrete && other.n === this.n && other.start === this.start;
  }

  toString(): string {
    return this.start === 0 ? `Discrete(${this.n})` : `Discrete(${this.n}, start=${this.start})`;
  }
}

/**
 * Validates an action mask against `n` actions and returns how many actions it allows.
 * Throws `INVALID_ACTION_MASK` on a wrong length, a value other than 0/1, or an all-zero mask.
 *
 * @example
 * countAllowed(Uint8Array.of(1, 0, 1), 3); // 2
 */
export function countAllowed(mask: Uint8Array, n: number): number {
  if (!(mask instanceof Uint8Array) || mask.length !== n) {
    throw envError('INVALID_ACTION_MASK', `action mask must be a Uint8Array of length ${n}, got ${describeValue(mask)}`);
  }
  let allowed = 0;
  for (let i = 0; i < n; i++) {
    const m = mask[i]!;
    if (m > 1) throw envError('INVALID_ACTION_MASK', `action mask values must be 0 or 1, got ${m} at index ${i}`);
    allowed += m;
  }
  if (allowed === 0) throw envError('INVALID_ACTION_MASK', 'action mask allows no action');
  return allowed;
}

/**
 * A box in R^shape with per-element bounds `[low, high]` (either may be infinite), stored and sampled
 * as `Float32Array` (`'float32'`, the default and the observation type of every kflow env) or
 * `Float64Array`. Bounds are rounded to the dtype, and values are compared in that precision.
 *
 * Sampling follows Gymnasium: uniform on bounded elements, normal where unbounded on both sides,
 * shifted exponential where bounded on one side.
 *
 * @example
 * const obs = new Box(-1, 1, [3]);             // Box(float32, [3]) in [-1, 1]^3
 * const wide = new Box([-4.8, -Infinity], [4.8, Infinity]); // shape inferred: [2]
 * obs.contains(new Float32Array([0, 0.5, -1])); // true
 */
export class Box<D extends BoxDtype = 'float32'> implements Space<BoxArray<D>> {
  readonly kind = 'box' as const;
  readonly shape: readonly number[];
  readonly dtype: D;
  /** Number of elements in one value (product of `shape`). */
  readonly size: number;
  /** Lower bounds, flattened in row-major order. Do not mutate. */
  readonly low: BoxArray<D>;
  /** Upper bounds, flattened in row-major order. Do not mutate. */
  readonly high: BoxArray<D>;
  private rng: Rng = createRng(0);

  constructor(low: number | ArrayLike<number>, high: number | ArrayLike<number>, shape?: readonly number[], dtype?: D) {
    this.dtype = dtype ?? ('float32' as D);
    if (this.dtype !== 'float32' && this.dtype !== 'float64') {
      throw envError('INVALID_SPACE', `Box dtype must be 'float32' or 'float64', got ${String(this.dtype)}`);
    }
    const inferred = shape ?? (typeof low !== 'number' ? [low.length] : typeof high !== 'number' ? [high.length] : undefined);
    if (inferred === undefined) throw envError('INVALID_SPACE', 'Box needs a shape when low and high are both scalars');
    let size = 1;
    for (const d of inferred) {
      checkInteger(d, 'Box shape dimension', 0);
      size *= d;
    }
    this.shape = Object.freeze([...inferred]);
    this.size = size;
    this.low = this.allocate();
    this.high = this.allocate();
    fillBound(this.low, low, 'low');
    fillBound(this.high, high, 'high');
    for (let i = 0; i < size; i++) {
      if (!(this.low[i]! <= this.high[i]!)) {
        throw envError('INVALID_SPACE', `Box low must be <= high, got low=${this.low[i]} high=${this.high[i]} at index ${i}`);
      }
    }
  }

  /** A zero-filled array of this box's dtype and size (not necessarily inside the box). */
  allocate(): BoxArray<D> {
    return (this.dtype === 'float64' ? new Float64Array(this.size) : new Float32Array(this.size)) as BoxArray<D>;
  }

  /** Whether every element has finite bounds on both sides. */
  isBounded(): boolean {
    for (let i = 0; i < this.size; i++) {
      if (!Number.isFinite(this.low[i]!) || !Number.isFinite(this.high[i]!)) return false;
    }
    return true;
  }

  seed(seed: number): void {
    this.rng = createRng(seed);
  }

  sample(rng: Rng = this.rng): BoxArray<D> {
    const out = this.allocate();
    for (let i = 0; i < this.size; i++) {
      const lo = this.low[i]!;
      const hi = this.high[i]!;
      const loFinite = Number.isFinite(lo);
      const hiFinite = Number.isFinite(hi);
      let v: number;
      if (loFinite && hiFinite) v = lo + (hi - lo) * rng.next();
      else if (loFinite) v = lo - Math.log(1 - rng.next());
      else if (hiFinite) v = hi + Math.log(1 - rng.next());
      else v = rng.normal();
      out[i] = v;
      // Rounding to float32 can step just outside a bound; clamp back in.
      if (out[i]! < lo) out[i] = lo;
      else if (out[i]! > hi) out[i] = hi;
    }
    return out;
  }

  contains(x: unknown): x is BoxArray<D> {
    const ctor = this.dtype === 'float64' ? Float64Array : Float32Array;
    if (!(x instanceof ctor) || x.length !== this.size) return false;
    for (let i = 0; i < this.size; i++) {
      const v = x[i]!;
      if (!(v >= this.low[i]! && v <= this.high[i]!)) return false;
    }
    return true;
  }

  equals(other: Space): boolean {
    if (!(other instanceof Box) || other.dtype !== this.dtype || other.size !== this.size) return false;
    if (other.shape.length !== this.shape.length || other.shape.some((d, i) => d !== this.shape[i])) return false;
    for (let i = 0; i < this.size; i++) {
      if (!Object.is(other.low[i], this.low[i]) || !Object.is(other.high[i], this.high[i])) return false;
    }
    return true;
  }

  toString(): string {
    return `Box(${this.dtype}, [${this.shape.join(', ')}])`;
  }
}

function fillBound(target: Float32Array | Float64Array, value: number | ArrayLike<number>, name: string): void {
  if (typeof value === 'number') {
    if (Number.isNaN(value)) throw envError('INVALID_SPACE', `Box ${name} is NaN`);
    target.fill(value);
    return;
  }
  if (value.length !== target.length) {
    throw envError('INVALID_SPACE', `Box ${name} has ${value.length} elements, shape needs ${target.length}`);
  }
  for (let i = 0; i < target.length; i++) {
    const v = value[i]!;
    if (typeof v !== 'number' || Number.isNaN(v)) throw envError('INVALID_SPACE', `Box ${name}[${i}] is not a number`);
    target[i] = v;
  }
}

/**
 * A vector of independent discrete choices: element `i` is in `{0, ..., nvec[i] - 1}`. Values are
 * `Int32Array`s of length `nvec.length` (e.g. one action per market in a multi-market env).
 *
 * @example
 * const actions = new MultiDiscrete([3, 5]);
 * actions.contains(Int32Array.of(2, 4)); // true
 */
export class MultiDiscrete implements Space<Int32Array> {
  readonly kind = 'multiDiscrete' as const;
  readonly shape: readonly number[];
  readonly dtype = 'int32' as const;
  /** Number of choices per element. Do not mutate. */
  readonly nvec: Int32Array;
  private rng: Rng = createRng(0);

  constructor(nvec: ArrayLike<number>) {
    if (nvec.length === 0) throw envError('INVALID_SPACE', 'MultiDiscrete needs at least one element');
    this.nvec = new Int32Array(nvec.length);
    for (let i = 0; i < nvec.length; i++) {
      const n = nvec[i]!;
      checkInteger(n, `MultiDiscrete nvec[${i}]`, 1);
      this.nvec[i] = n;
    }
    this.shape = Object.freeze([nvec.length]);
  }

  seed(seed: number): void {
    this.rng = createRng(seed);
  }

  sample(rng: Rng = this.rng): Int32Array {
    const out = new Int32Array(this.nvec.length);
    for (let i = 0; i < out.length; i++) out[i] = rng.int(this.nvec[i]!);
    return out;
  }

  /**
   * A sample whose element `i` is uniform among the values allowed by segment `i` of `mask`, the
   * concatenation of one 0/1 mask per element (length `sum(nvec)`, as `info.actionMask`). Throws
   * `INVALID_ACTION_MASK` on a wrong length or a segment that allows nothing.
   */
  sampleMasked(mask: Uint8Array, rng: Rng = this.rng): Int32Array {
    this.checkMask(mask);
    const out = new Int32Array(this.nvec.length);
    let offset = 0;
    for (let i = 0; i < out.length; i++) {
      const n = this.nvec[i]!;
      let k = rng.int(countAllowed(mask.subarray(offset, offset + n), n));
      for (let v = 0; v < n; v++) {
        if (mask[offset + v] === 1 && k-- === 0) {
          out[i] = v;
          break;
        }
      }
      offset += n;
    }
    return out;
  }

  /** Validates a concatenated mask (see `sampleMasked`); throws `INVALID_ACTION_MASK`. */
  checkMask(mask: Uint8Array): void {
    const total = flatDim(this);
    if (!(mask instanceof Uint8Array) || mask.length !== total) {
      throw envError('INVALID_ACTION_MASK', `action mask must be a Uint8Array of length ${total}, got ${describeValue(mask)}`);
    }
    let offset = 0;
    for (const n of this.nvec) {
      countAllowed(mask.subarray(offset, offset + n), n);
      offset += n;
    }
  }

  contains(x: unknown): x is Int32Array {
    if (!(x instanceof Int32Array) || x.length !== this.nvec.length) return false;
    for (let i = 0; i < x.length; i++) {
      if (x[i]! < 0 || x[i]! >= this.nvec[i]!) return false;
    }
    return true;
  }

  equals(other: Space): boolean {
    return (
      other instanceof MultiDiscrete &&
      other.nvec.length === this.nvec.length &&
      other.nvec.every((n, i) => n === this.nvec[i])
    );
  }

  toString(): string {
    return `MultiDiscrete([${this.nvec.join(', ')}])`;
  }
}

/**
 * Length of a value once flattened for a network input, as Gymnasium's `flatdim`: `n` for `Discrete`
 * (one-hot), `size` for `Box`, `sum(nvec)` for `MultiDiscrete` (concatenated one-hots).
 *
 * @example
 * flatDim(createCartPole().observationSpace); // 4
 */
export function flatDim(space: AnySpace): number {
  switch (space.kind) {
    case 'discrete':
      return space.n;
    case 'box':
      return space.size;
    case 'multiDiscrete':
      return space.nvec.reduce((a, b) => a + b, 0);
  }
}

/** A short description of any value for error messages. */
export function describeValue(x: unknown): string {
  if (x === null) return 'null';
  if (ArrayBuffer.isView(x)) return `${x.constructor.name}(${(x as unknown as ArrayLike<number>).length})`;
  if (Array.isArray(x)) return `Array(${x.length})`;
  if (typeof x === 'number') return `number ${x}`;
  return typeof x;
}
