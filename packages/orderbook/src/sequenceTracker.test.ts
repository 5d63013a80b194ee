import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SequenceTracker } from './sequenceTracker';

describe('SequenceTracker', () => {
  it('never reports a gap on the first frame of a sid, whatever its seq', () => {
    const t = new SequenceTracker();
    expect(t.expected(1)).toBeUndefined();
    expect(t.observe(1, 57)).toBe('first');
    expect(t.observe(2, 1)).toBe('first');
    expect(t.expected(1)).toBe(58);
  });

  it('tracks each sid independently', () => {
    const t = new SequenceTracker();
    t.observe(1, 1);
    t.observe(2, 10);
    expect(t.observe(1, 2)).toBe('next');
    expect(t.observe(2, 11)).toBe('next');
    expect(t.observe(1, 4)).toBe('gap');
    expect(t.observe(2, 12)).toBe('next');
  });

  it('ignores duplicates and stale seqs, and resynchronises after a gap', () => {
    const t = new SequenceTracker();
    t.observe(1, 1);
    t.observe(1, 2);
    expect(t.observe(1, 2)).toBe('duplicate');
    expect(t.observe(1, 1)).toBe('duplicate');
    expect(t.observe(1, 5)).toBe('gap');
    expect(t.observe(1, 3)).toBe('duplicate');
    expect(t.observe(1, 6)).toBe('next');
  });

  it('forget() and reset() start sids afresh', () => {
    const t = new SequenceTracker();
    t.observe(1, 10);
    t.observe(2, 10);
    t.forget(1);
    expect(t.observe(1, 1)).toBe('first');
    expect(t.observe(2, 11)).toBe('next');
    t.reset();
    expect(t.observe(2, 1)).toBe('first');
  });

  it('reports exactly the gaps of a stream with dropped frames (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 200 }), fc.integer({ min: 1, max: 1000 }), (keep, start) => {
        const t = new SequenceTracker();
        let expectedGaps = 0;
        let seen = false;
        let dropped = false;
        let gaps = 0;
        keep.forEach((k, i) => {
          if (!k) {
            dropped = true;
            return;
          }
          if (seen && dropped) expectedGaps++;
          const s = t.observe(3, start + i);
          if (s === 'gap') gaps++;
          expect(s).toBe(!seen ? 'first' : dropped ? 'gap' : 'next');
          seen = true;
          dropped = false;
        });
        expect(gaps).toBe(expectedGaps);
      }),
    );
  });
});
