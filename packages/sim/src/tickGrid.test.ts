import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createTickGrid } from './tickGrid';

describe('createTickGrid', () => {
  it('rounds and steps on whole cents', () => {
    const g = createTickGrid('linear_cent');
    expect([g.min, g.max]).toEqual([100, 9900]);
    expect(g.floor(1799)).toBe(1700);
    expect(g.ceil(1701)).toBe(1800);
    expect(g.ceil(1700)).toBe(1700);
    expect(g.up(1700, 3)).toBe(2000);
    expect(g.down(100)).toBe(-1);
    expect(g.up(9900)).toBe(-1);
  });

  it('uses 0.1¢ steps at the tails of tapered_deci_cent', () => {
    const g = createTickGrid('tapered_deci_cent');
    expect(g.min).toBe(10);
    expect(g.floor(512)).toBe(510);
    expect(g.up(990)).toBe(1000);
    expect(g.up(1000)).toBe(1100);
    expect(g.up(8900)).toBe(9000);
    expect(g.up(9000)).toBe(9010);
    expect(g.stepAt(5000)).toBe(100);
    expect(g.stepAt(9500)).toBe(10);
  });

  it('floor ≤ price ≤ ceil on the grid, and the grid is symmetric (NO prices are grid prices)', () => {
    for (const s of ['linear_cent', 'deci_cent', 'tapered_deci_cent'] as const) {
      const g = createTickGrid(s);
      fc.assert(
        fc.property(fc.integer({ min: g.min, max: g.max }), (p) => {
          const lo = g.floor(p);
          const hi = g.ceil(p);
          expect(lo <= p && p <= hi).toBe(true);
          expect(g.floor(10_000 - lo)).toBe(10_000 - lo);
          expect(hi - lo).toBeLessThanOrEqual(g.stepAt(lo));
        }),
      );
    }
  });
});
