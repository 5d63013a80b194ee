import { createRng } from '@kflow/orderbook';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Box, Discrete, MultiDiscrete, countAllowed, flatDim } from './spaces';
import { throwsCode } from './env.testing';

describe('Discrete', () => {
  it('samples every value of {start, ..., start + n - 1} and nothing else', () => {
    const space = new Discrete(5, -2);
    const seen = new Set<number>();
    const rng = createRng(1);
    for (let i = 0; i < 500; i++) {
      const a = space.sample(rng);
      expect(space.contains(a)).toBe(true);
      seen.add(a);
    }
    expect([...seen].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2]);
  });

  it('contains only integers in range', () => {
    const space = new Discrete(3, 1);
    expect([1, 2, 3].map((x) => space.contains(x))).toEqual([true, true, true]);
    expect([0, 4, 1.5, Number.NaN, '1', Int32Array.of(1)].map((x) => space.contains(x))).toEqual([false, false, false, false, false, false]);
  });

  it('seed(n) makes sample() reproducible and sample(rng) uses the given generator', () => {
    const a = new Discrete(1000);
    const b = new Discrete(1000);
    a.seed(42);
    b.seed(42);
    const xs = Array.from({ length: 20 }, () => a.sample());
    expect(Array.from({ length: 20 }, () => b.sample())).toEqual(xs);
    b.seed(43);
    expect(Array.from({ length: 20 }, () => b.sample())).not.toEqual(xs);
    const r1 = createRng(9);
    const r2 = createRng(9);
    expect(a.sample(r1)).toBe(new Discrete(1000).sample(r2));
  });

  it('sampleMasked draws only allowed actions, each of them', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }), fc.integer(), (bits, seed) => {
        fc.pre(bits.some(Boolean));
        const space = new Discrete(bits.length, 3);
        const mask = Uint8Array.from(bits, (b) => (b ? 1 : 0));
        const rng = createRng(seed);
        const seen = new Set<number>();
        for (let i = 0; i < 40 * bits.length; i++) {
          const a = space.sampleMasked(mask, rng);
          expect(mask[a - 3]).toBe(1);
          seen.add(a);
        }
        expect(seen.size).toBe(bits.filter(Boolean).length);
      }),
      { numRuns: 50 },
    );
  });

  it('rejects invalid sizes and masks', () => {
    throwsCode(() => new Discrete(0), 'INVALID_SPACE');
    throwsCode(() => new Discrete(2.5), 'INVALID_SPACE');
    const space = new Discrete(3);
    throwsCode(() => space.sampleMasked(new Uint8Array(3)), 'INVALID_ACTION_MASK');
    throwsCode(() => space.sampleMasked(new Uint8Array([1, 1])), 'INVALID_ACTION_MASK');
    throwsCode(() => countAllowed(new Uint8Array([1, 2, 0]), 3), 'INVALID_ACTION_MASK');
    expect(countAllowed(new Uint8Array([1, 0, 1]), 3)).toBe(2);
  });
});

describe('Box', () => {
  it('infers shape from array bounds and rounds bounds to float32', () => {
    const box = new Box([-0.1, -Infinity], [0.1, 5]);
    expect(box.shape).toEqual([2]);
    expect(box.dtype).toBe('float32');
    expect(box.low[0]).toBe(Math.fround(-0.1));
    expect(box.contains(Float32Array.of(0.1, -1e30))).toBe(true);
    expect(box.contains(Float32Array.of(0.11, 0))).toBe(false);
    expect(box.contains(Float32Array.of(0, 5.5))).toBe(false);
    expect(box.contains(Float32Array.of(Number.NaN, 0))).toBe(false);
    expect(box.contains(Float64Array.of(0, 0))).toBe(false);
    expect(box.contains([0, 0])).toBe(false);
    expect(box.contains(new Float32Array(3))).toBe(false);
  });

  it('supports multi-dimensional shapes and float64', () => {
    const box = new Box(0, 1, [2, 3], 'float64');
    expect(box.size).toBe(6);
    const x = box.sample(createRng(1));
    expect(x).toBeInstanceOf(Float64Array);
    expect(box.contains(x)).toBe(true);
    expect(String(box)).toBe('Box(float64, [2, 3])');
  });

  it('samples inside any box: bounded, half-bounded and unbounded elements', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.option(fc.double({ min: -1e6, max: 1e6, noNaN: true })), fc.option(fc.double({ min: 0, max: 1e6, noNaN: true }))),
          { minLength: 1, maxLength: 6 },
        ),
        fc.integer(),
        fc.constantFrom('float32' as const, 'float64' as const),
        (bounds, seed, dtype) => {
          const low = bounds.map(([lo]) => lo ?? -Infinity);
          const high = bounds.map(([lo, width]) => (width === null ? Infinity : (lo ?? 0) + width));
          const box = new Box(low, high, undefined, dtype);
          const rng = createRng(seed);
          for (let i = 0; i < 20; i++) expect(box.contains(box.sample(rng))).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('samples bounded elements uniformly (mean near the centre)', () => {
    const box = new Box(2, 4, [1]);
    const rng = createRng(5);
    let sum = 0;
    for (let i = 0; i < 20_000; i++) sum += box.sample(rng)[0]!;
    expect(sum / 20_000).toBeCloseTo(3, 1);
  });

  it('rejects low > high, NaN bounds, mismatched lengths and missing shapes', () => {
    throwsCode(() => new Box(1, 0, [1]), 'INVALID_SPACE');
    throwsCode(() => new Box(Number.NaN, 0, [1]), 'INVALID_SPACE');
    throwsCode(() => new Box([0, 0], [1, 1, 1]), 'INVALID_SPACE');
    throwsCode(() => new Box(0, 1), 'INVALID_SPACE');
    throwsCode(() => new Box(0, 1, [-1]), 'INVALID_SPACE');
  });

  it('equals compares dtype, shape and bounds', () => {
    expect(new Box(0, 1, [2]).equals(new Box([0, 0], [1, 1]))).toBe(true);
    expect(new Box(0, 1, [2]).equals(new Box(0, 1, [2], 'float64'))).toBe(false);
    expect(new Box(0, 1, [2]).equals(new Box(0, 2, [2]))).toBe(false);
    expect(new Box(0, 1, [2, 1]).equals(new Box(0, 1, [2]))).toBe(false);
    expect(new Box(0, 1, [2]).equals(new Discrete(2))).toBe(false);
  });
});

describe('MultiDiscrete', () => {
  it('samples Int32Arrays inside nvec and covers every value', () => {
    const space = new MultiDiscrete([2, 3]);
    space.seed(3);
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const x = space.sample();
      expect(space.contains(x)).toBe(true);
      seen.add(x.join(','));
    }
    expect(seen.size).toBe(6);
  });

  it('contains checks type, length and per-element range', () => {
    const space = new MultiDiscrete([2, 3]);
    expect(space.contains(Int32Array.of(1, 2))).toBe(true);
    expect(space.contains(Int32Array.of(2, 0))).toBe(false);
    expect(space.contains(Int32Array.of(0, -1))).toBe(false);
    expect(space.contains(Int32Array.of(0))).toBe(false);
    expect(space.contains([1, 2])).toBe(false);
    throwsCode(() => new MultiDiscrete([]), 'INVALID_SPACE');
    throwsCode(() => new MultiDiscrete([2, 0]), 'INVALID_SPACE');
  });
});

describe('MultiDiscrete masks', () => {
  it('sampleMasked respects each element\'s segment of the concatenated mask', () => {
    const space = new MultiDiscrete([3, 2]);
    const mask = Uint8Array.of(0, 1, 1, 1, 0); // element 0 in {1, 2}, element 1 in {0}
    const rng = createRng(4);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const x = space.sampleMasked(mask, rng);
      expect(space.contains(x)).toBe(true);
      seen.add(x.join(','));
    }
    expect([...seen].sort()).toEqual(['1,0', '2,0']);
  });

  it('rejects masks of the wrong length or with an empty segment', () => {
    const space = new MultiDiscrete([3, 2]);
    throwsCode(() => space.checkMask(new Uint8Array(4)), 'INVALID_ACTION_MASK');
    throwsCode(() => space.checkMask(Uint8Array.of(1, 0, 0, 0, 0)), 'INVALID_ACTION_MASK');
    throwsCode(() => space.sampleMasked(Uint8Array.of(0, 0, 0, 1, 1)), 'INVALID_ACTION_MASK');
    expect(() => space.checkMask(Uint8Array.of(0, 0, 1, 0, 1))).not.toThrow();
  });
});

describe('flatDim', () => {
  it('is n for Discrete, size for Box, sum(nvec) for MultiDiscrete', () => {
    expect(flatDim(new Discrete(7))).toBe(7);
    expect(flatDim(new Box(0, 1, [3, 4]))).toBe(12);
    expect(flatDim(new MultiDiscrete([2, 5]))).toBe(7);
  });
});
