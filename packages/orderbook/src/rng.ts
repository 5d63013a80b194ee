/**
 * A small, fast, seedable PRNG (sfc32 seeded through splitmix32). Every random choice in kflow comes
 * from an `Rng` passed in, so the same seed reproduces the same run.
 *
 * @example
 * const rng = createRng(42); rng.next(); rng.int(10); rng.normal();
 */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal sample. */
  normal(): number;
  /** Uniform 32-bit unsigned integer. */
  uint32(): number;
  /** An independent generator derived from this one's stream. */
  fork(): Rng;
  /** The complete internal state, plain data: `rngFromState` restores a generator that continues identically. */
  state(): RngState;
}

/** The sfc32 words and the pending second Box–Muller sample of `normal()` (null when none is pending). */
export type RngState = readonly [a: number, b: number, c: number, d: number, spareNormal: number | null];

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

class Sfc32 implements Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare = Number.NaN;

  constructor(a: number, b: number, c: number, d: number, spare: number | null = null) {
    this.a = a >>> 0;
    this.b = b >>> 0;
    this.c = c >>> 0;
    this.d = d >>> 0;
    this.spare = spare ?? Number.NaN;
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  next(): number {
    return this.uint32() / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const s = this.spare;
      this.spare = Number.NaN;
      return s;
    }
    // Box–Muller; 1 - next() keeps the log argument in (0, 1].
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  fork(): Rng {
    return createRng(this.uint32() ^ Math.imul(this.uint32(), 0x9e3779b1));
  }

  state(): RngState {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0, Number.isNaN(this.spare) ? null : this.spare];
  }
}

/** Creates a seeded generator. The same seed always yields the same stream. */
export function createRng(seed: number): Rng {
  const mix = splitmix32(seed);
  const rng = new Sfc32(mix(), mix(), mix(), mix());
  // Discard the first outputs: sfc32 needs a few rounds to decorrelate nearby seeds.
  for (let i = 0; i < 12; i++) rng.uint32();
  return rng;
}

/**
 * Restores a generator from `rng.state()`.
 *
 * @example
 * const copy = rngFromState(rng.state()); copy.normal() === rng.normal(); // true
 */
export function rngFromState(state: RngState): Rng {
  return new Sfc32(state[0], state[1], state[2], state[3], state[4]);
}

/**
 * A UUID-v4-shaped id (version and variant bits set) drawn from `rng`, so ids replay with the seed.
 *
 * @example
 * uuidFromRng(createRng(1)); // e.g. '6c1d0e5a-9b3f-4f27-8a61-0d2c4b7e9f13'
 */
export function uuidFromRng(rng: Rng): string {
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  const a = hex(rng.uint32());
  const b = hex(rng.uint32());
  const c = hex(rng.uint32());
  const d = hex(rng.uint32());
  const variant = ((Number.parseInt(c[0]!, 16) & 0x3) | 0x8).toString(16);
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${variant}${c.slice(1, 4)}-${c.slice(4)}${d}`;
}

/** Wall-clock or virtual time in epoch milliseconds. Passed in so runs can be reproduced. */
export interface Clock {
  /** Current time in epoch milliseconds. */
  now(): number;
}

/** The process clock: the one place packages read real time, and only when a caller passes it. */
export const systemClock: Clock = { now: () => Date.now() };

/**
 * FNV-1a 32-bit hash of some bytes, as 8 hex digits: a cheap identity check (checkpoint weights, logged
 * observations), not a security measure.
 *
 * @example
 * fnv1a32(new Uint8Array(observation.buffer, observation.byteOffset, observation.byteLength)); // e.g. '1c9f03a2'
 */
export function fnv1a32(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}
