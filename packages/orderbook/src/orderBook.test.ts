import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { invalidNumber } from './errors.testing';
import { type Level, OrderBook, type Side } from './orderBook';
import { PRICE_ONE, parseCountCenti, parsePriceUnits } from './units';

const lv = (price: string, size: string): Level => [parsePriceUnits(price), parseCountCenti(size)];

function book(yes: Level[], no: Level[]): OrderBook {
  const b = new OrderBook('TEST-MKT');
  expect(b.applySnapshot(yes, no)).toBe('ok');
  return b;
}

describe('OrderBook basics', () => {
  it('starts empty and stale, becomes fresh on a snapshot', () => {
    const b = new OrderBook('X');
    expect(b.stale).toBe(true);
    expect(b.bestBid('yes')).toBe(-1);
    expect(b.bestBidSize('yes')).toBe(0);
    expect(b.bestAsk('yes')).toBe(-1);
    expect(Number.isNaN(b.mid())).toBe(true);
    expect(Number.isNaN(b.spread())).toBe(true);
    expect(Number.isNaN(b.microprice())).toBe(true);
    expect(b.imbalance(5)).toBe(0);
    b.applySnapshot([[1000, 100]], []);
    expect(b.stale).toBe(false);
  });

  it('orders levels best-first and derives asks from the opposite side', () => {
    const b = book([lv('0.0800', '300.00'), lv('0.2200', '333.00')], [lv('0.5400', '20.00'), lv('0.5600', '146.00')]);
    expect(b.bestBid('yes')).toBe(2200);
    expect(b.bestBidSize('yes')).toBe(33_300);
    expect(b.priceAt('yes', 1)).toBe(800);
    expect(b.priceAt('yes', 2)).toBe(-1);
    expect(b.sizeAt('yes', 2)).toBe(0);
    expect(b.bestBid('no')).toBe(5600);
    // YES ask = $1 − best NO bid, with that NO level's size; NO ask = $1 − best YES bid.
    expect(b.bestAsk('yes')).toBe(PRICE_ONE - 5600);
    expect(b.bestAskSize('yes')).toBe(14_600);
    expect(b.bestAsk('no')).toBe(PRICE_ONE - 2200);
    expect(b.bestAskSize('no')).toBe(33_300);
    expect(b.spread()).toBe(4400 - 2200);
    expect(b.mid()).toBe(3300);
    expect(b.levels('yes')).toEqual([
      [800, 30_000],
      [2200, 33_300],
    ]);
    expect(b.sizeAtPrice('no', 5400)).toBe(2000);
    expect(b.sizeAtPrice('no', 5500)).toBe(0);
  });

  it('sums repeated snapshot prices and accepts any level order', () => {
    const b = book([lv('0.30', '1'), lv('0.10', '2'), lv('0.30', '4')], []);
    expect(b.levels('yes')).toEqual([
      [1000, 200],
      [3000, 500],
    ]);
  });

  it('applies signed deltas, inserting and removing levels exactly at zero', () => {
    const b = book([lv('0.40', '10.00')], [lv('0.50', '5.00')]);
    const v0 = b.version;
    expect(b.applyDelta('yes', 4100, 250)).toBe('ok');
    expect(b.bestBid('yes')).toBe(4100);
    expect(b.version).toBe(v0 + 1);
    expect(b.applyDelta('yes', 4100, -100)).toBe('ok');
    expect(b.bestBidSize('yes')).toBe(150);
    expect(b.applyDelta('yes', 4100, -150)).toBe('ok');
    expect(b.levelCount('yes')).toBe(1);
    expect(b.bestBid('yes')).toBe(4000);
    expect(b.totalDepth('yes')).toBe(1000);
    expect(b.stale).toBe(false);
  });

  it('does not apply a delta that would go negative and flags the book stale', () => {
    const b = book([lv('0.40', '10.00')], [lv('0.50', '5.00')]);
    expect(b.applyDelta('yes', 4000, -1001)).toBe('negative');
    expect(b.sizeAtPrice('yes', 4000)).toBe(1000);
    expect(b.stale).toBe(true);
    expect(b.applyDelta('no', 4900, -1)).toBe('negative');
    expect(b.levelCount('no')).toBe(1);
    // A fresh snapshot clears the flag.
    b.applySnapshot([[4000, 1000]], []);
    expect(b.stale).toBe(false);
  });

  it('reports a crossed or locked book and flags it stale (never clamps)', () => {
    const b = book([lv('0.40', '10.00')], [lv('0.50', '5.00')]);
    expect(b.applyDelta('no', 6000, 100)).toBe('crossed');
    expect(b.stale).toBe(true);
    expect(b.isCrossed()).toBe(true);
    expect(b.bestBid('no')).toBe(6000);
    const locked = new OrderBook('L');
    expect(locked.applySnapshot([[4000, 1]], [[6000, 1]])).toBe('crossed');
    expect(locked.stale).toBe(true);
  });

  it('rejects a snapshot with a negative size whole, keeping the previous levels', () => {
    const b = book([lv('0.40', '10.00')], [lv('0.50', '5.00')]);
    const v = b.version;
    expect(b.applySnapshot([[4100, 200]], [[5000, 100], [4900, -1]])).toBe('negative');
    expect(b.stale).toBe(true);
    expect(b.version).toBe(v + 1);
    expect(b.levels('yes')).toEqual([[4000, 1000]]);
    expect(b.levels('no')).toEqual([[5000, 500]]);
  });

  it('throws INVALID_NUMBER on prices or sizes the typed ladders cannot hold exactly, changing nothing', () => {
    const b = book([lv('0.40', '10.00')], [lv('0.50', '5.00')]);
    const v = b.version;
    const field = (f: () => unknown) => invalidNumber(f).field;
    expect(field(() => b.applyDelta('yes', 4000.5, 1))).toBe('priceUnits');
    expect(field(() => b.applyDelta('yes', PRICE_ONE + 1, 1))).toBe('priceUnits');
    expect(field(() => b.applyDelta('no', -100, 1))).toBe('priceUnits');
    expect(field(() => b.applyDelta('yes', 4000, 0.5))).toBe('countCenti');
    expect(field(() => b.applyDelta('yes', 4000, Number.NaN))).toBe('countCenti');
    expect(field(() => b.applySnapshot([[4000, 100]], [[5000.25, 1]]))).toBe('priceUnits');
    expect(field(() => b.applySnapshot([[4000, 1.5]], []))).toBe('countCenti');
    expect(b.applyDelta('yes', 0, 1)).toBe('ok');
    expect(b.applyDelta('yes', 0, -1)).toBe('ok');
    expect(b.version).toBe(v + 2);
    expect(b.levels('yes')).toEqual([[4000, 1000]]);
    expect(b.levels('no')).toEqual([[5000, 500]]);
    expect(b.stale).toBe(false);
  });

  it('handles sub-penny grids (0.001 and 0.0001) and fractional sizes exactly', () => {
    const b = book([lv('0.0010', '505362.61'), lv('0.0125', '0.01')], [lv('0.8560', '1.84'), lv('0.8570', '12.5')]);
    expect(b.bestBid('yes')).toBe(125);
    expect(b.bestBid('no')).toBe(8570);
    expect(b.bestAsk('yes')).toBe(1430);
    expect(b.applyDelta('no', parsePriceUnits('0.8570'), parseCountCenti('-12.50'))).toBe('ok');
    expect(b.bestBid('no')).toBe(8560);
    expect(b.bestAsk('yes')).toBe(1440);
    expect(b.applyDelta('yes', parsePriceUnits('0.0126'), parseCountCenti('0.37'))).toBe('ok');
    expect(b.bestBid('yes')).toBe(126);
    expect(b.bestBidSize('yes')).toBe(37);
    expect(b.applyDelta('yes', 126, -37)).toBe('ok');
    expect(b.totalDepth('yes')).toBe(50_536_261 + 1);
  });

  it('computes top-N depth, imbalance and microprice', () => {
    const b = book(
      [lv('0.10', '1'), lv('0.20', '2'), lv('0.30', '3')],
      [lv('0.50', '4'), lv('0.60', '1')],
    );
    expect(b.depth('yes', 1)).toBe(300);
    expect(b.depth('yes', 2)).toBe(500);
    expect(b.depth('yes', 10)).toBe(600);
    expect(b.depth('no', 0)).toBe(0);
    expect(b.totalDepth('no')).toBe(500);
    expect(b.imbalance(1)).toBeCloseTo((300 - 100) / 400, 12);
    expect(b.imbalance(10)).toBeCloseTo((600 - 500) / 1100, 12);
    // bid 0.30 x 3, ask 0.40 x 1 → leans toward the ask (less size there).
    expect(b.microprice()).toBeCloseTo((3000 * 100 + 4000 * 300) / 400, 9);
    expect(b.microprice()).toBeGreaterThan(b.mid());
  });

  it('copies, clones and compares by levels', () => {
    const b = book([lv('0.10', '1')], [lv('0.50', '4')]);
    const c = b.clone();
    expect(c.equals(b)).toBe(true);
    b.applyDelta('yes', 1000, 1);
    expect(c.equals(b)).toBe(false);
    c.copyFrom(b);
    expect(c.equals(b)).toBe(true);
    expect(c.version).toBe(b.version);
  });

  it('grows beyond its initial capacity', () => {
    const b = new OrderBook('G');
    const yes: Level[] = Array.from({ length: 100 }, (_, i) => [i + 1, i + 1]);
    b.applySnapshot(yes, []);
    expect(b.levelCount('yes')).toBe(100);
    expect(b.bestBid('yes')).toBe(100);
    const copy = new OrderBook('G2');
    copy.copyFrom(b);
    expect(copy.equals(b)).toBe(true);
  });

  it('markStale and clear bump the version', () => {
    const b = book([lv('0.10', '1')], []);
    const v = b.version;
    b.markStale();
    b.markStale();
    expect(b.version).toBe(v + 1);
    b.clear();
    expect(b.levelCount('yes')).toBe(0);
    expect(b.stale).toBe(true);
  });
});

// ---- properties ----

/** Both sides of a book that is never crossed: YES prices below `split`, NO prices below 1 − `split`. */
const sidesBelow = (split: number) =>
  fc.record({
    yes: fc.dictionary(fc.integer({ min: 1, max: split - 1 }).map(String), fc.integer({ min: 1, max: 1e9 }), { maxKeys: 30 }),
    no: fc.dictionary(fc.integer({ min: 1, max: PRICE_ONE - split - 1 }).map(String), fc.integer({ min: 1, max: 1e9 }), {
      maxKeys: 30,
    }),
  });
const splitArb = fc.integer({ min: 2, max: PRICE_ONE - 2 });
const uncrossedBook = splitArb.chain(sidesBelow);

const toLevels = (d: Record<string, number>): Level[] => Object.entries(d).map(([p, q]) => [Number(p), q]);

describe('OrderBook properties', () => {
  it('snapshot + the deltas between two snapshots equals the next snapshot', () => {
    fc.assert(
      fc.property(
        splitArb.chain((split) => fc.tuple(sidesBelow(split), sidesBelow(split), fc.nat())),
        ([a, b, seed]) => {
          const book = new OrderBook('P');
          book.applySnapshot(toLevels(a.yes), toLevels(a.no));
          const deltas: [Side, number, number][] = [];
          for (const side of ['yes', 'no'] as const) {
            const prices = new Set([...Object.keys(a[side]), ...Object.keys(b[side])]);
            for (const p of prices) {
              const d = (b[side][p] ?? 0) - (a[side][p] ?? 0);
              if (d !== 0) deltas.push([side, Number(p), d]);
            }
          }
          // Any order of the per-level deltas gives the same book.
          deltas.sort((x, y) => ((x[1] * 31 + seed) % 97) - ((y[1] * 31 + seed) % 97));
          for (const [side, p, d] of deltas) expect(book.applyDelta(side, p, d)).toBe('ok');
          const next = new OrderBook('Q');
          next.applySnapshot(toLevels(b.yes), toLevels(b.no));
          expect(book.equals(next)).toBe(true);
          expect(book.stale).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('random delta streams never leave a negative or zero level, and match a reference model', () => {
    const step = fc.tuple(fc.constantFrom<Side>('yes', 'no'), fc.integer({ min: 1, max: 50 }), fc.integer({ min: -5000, max: 5000 }));
    fc.assert(
      fc.property(fc.array(step, { maxLength: 300 }), (steps) => {
        const book = new OrderBook('R');
        book.applySnapshot([], []);
        const model = { yes: new Map<number, number>(), no: new Map<number, number>() };
        for (const [side, tick, delta] of steps) {
          const price = tick * 10; // a 0.001 grid, far from crossing (≤ 0.05 per side)
          const size = model[side].get(price) ?? 0;
          const result = book.applyDelta(side, price, delta);
          if (size + delta < 0) {
            expect(result).toBe('negative');
          } else {
            expect(result).toBe('ok');
            if (size + delta === 0) model[side].delete(price);
            else model[side].set(price, size + delta);
          }
          for (const s of ['yes', 'no'] as const) {
            for (let i = 0; i < book.levelCount(s); i++) expect(book.sizeAt(s, i)).toBeGreaterThan(0);
          }
        }
        for (const s of ['yes', 'no'] as const) {
          expect(book.levels(s)).toEqual([...model[s]].sort((x, y) => x[0] - y[0]));
          expect(book.totalDepth(s)).toBe([...model[s].values()].reduce((t, q) => t + q, 0));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('derived asks always equal 1 − the opposite best bid', () => {
    fc.assert(
      fc.property(uncrossedBook, (b) => {
        const book = new OrderBook('A');
        book.applySnapshot(toLevels(b.yes), toLevels(b.no));
        for (const [side, other] of [['yes', 'no'], ['no', 'yes']] as const) {
          const bestOther = book.bestBid(other);
          expect(book.bestAsk(side)).toBe(bestOther < 0 ? -1 : PRICE_ONE - bestOther);
          expect(book.bestAskSize(side)).toBe(book.bestBidSize(other));
          const top = Math.max(-1, ...Object.keys(b[other]).map(Number));
          expect(bestOther).toBe(top);
        }
        expect(book.isCrossed()).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
