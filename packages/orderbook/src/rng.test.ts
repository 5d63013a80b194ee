import { describe, expect, it } from 'vitest';
import { createRng, fnv1a32, rngFromState, uuidFromRng } from './rng';

const take = <T>(n: number, f: () => T): T[] => Array.from({ length: n }, f);

describe('createRng', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    expect(take(100, () => a.uint32())).toEqual(take(100, () => b.uint32()));
    expect(createRng(42).uint32()).not.toBe(createRng(43).uint32());
  });

  it('keeps next() in [0, 1), int(n) in [0, n) and covers the range', () => {
    const rng = createRng(7);
    const seen = new Set<number>();
    let bad = 0;
    for (let i = 0; i < 10_000; i++) {
      const x = rng.next();
      const k = rng.int(10);
      const u = rng.uint32();
      if (!(x >= 0 && x < 1) || !(Number.isInteger(k) && k >= 0 && k < 10)) bad++;
      if (!(Number.isInteger(u) && u >= 0 && u <= 0xffffffff)) bad++;
      seen.add(k);
    }
    expect(bad).toBe(0);
    expect(seen.size).toBe(10);
  });

  it('has a roughly uniform mean and a standard normal', () => {
    const rng = createRng(1);
    const n = 20_000;
    const xs = take(n, () => rng.next());
    expect(xs.reduce((s, x) => s + x, 0) / n).toBeCloseTo(0.5, 1);
    const zs = take(n, () => rng.normal());
    const mean = zs.reduce((s, z) => s + z, 0) / n;
    const variance = zs.reduce((s, z) => s + (z - mean) ** 2, 0) / n;
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    expect(zs.every(Number.isFinite)).toBe(true);
  });

  it('forks reproducibly into an independent stream', () => {
    const a = createRng(5);
    const b = createRng(5);
    const fa = a.fork();
    const fb = b.fork();
    expect(take(20, () => fa.uint32())).toEqual(take(20, () => fb.uint32()));
    // The parent stream continues identically and differs from the child.
    const parent = take(20, () => a.uint32());
    expect(parent).toEqual(take(20, () => b.uint32()));
    expect(parent).not.toEqual(take(20, () => fa.uint32()));
  });

  it('restores a generator from its state', () => {
    const rng = createRng(99);
    rng.uint32();
    const copy = rngFromState(rng.state());
    expect(take(50, () => copy.uint32())).toEqual(take(50, () => rng.uint32()));
  });

  it('restores a pending normal sample too (Box–Muller makes two at a time)', () => {
    const rng = createRng(7);
    rng.normal(); // leaves the second sample pending
    const state = rng.state();
    expect(state[4]).not.toBeNull();
    const copy = rngFromState(JSON.parse(JSON.stringify(state)) as typeof state);
    expect(take(9, () => copy.normal())).toEqual(take(9, () => rng.normal()));
    expect(rngFromState(createRng(7).state()).state()[4]).toBeNull();
  });

  it('draws UUID-v4-shaped ids reproducibly from the seed', () => {
    const ids = take(200, () => uuidFromRng(createRng(3)));
    expect(new Set(ids).size).toBe(1);
    const rng = createRng(3);
    const many = take(200, () => uuidFromRng(rng));
    expect(many[0]).toBe(ids[0]);
    expect(new Set(many).size).toBe(200);
    for (const id of many) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('fnv1a32', () => {
  const bytes = (s: string) => new TextEncoder().encode(s);

  it('matches the published FNV-1a 32-bit test vectors', () => {
    expect(fnv1a32(bytes(''))).toBe('811c9dc5');
    expect(fnv1a32(bytes('a'))).toBe('e40c292c');
    expect(fnv1a32(bytes('foobar'))).toBe('bf9cf968');
  });

  it('is eight lowercase hex digits, zero-padded', () => {
    for (let i = 0; i < 200; i++) expect(fnv1a32(Uint8Array.of(i, i * 7, 255 - i))).toMatch(/^[0-9a-f]{8}$/);
  });

  it('hashes only the view’s bytes (subarrays)', () => {
    const all = bytes('xxfoobaryy');
    expect(fnv1a32(all.subarray(2, 8))).toBe('bf9cf968');
  });
});
