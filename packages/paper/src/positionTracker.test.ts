import { OrderBook, isKflowError } from '@kflow/orderbook';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BookSide, PositionTracker } from './positionTracker';

const START = 1_000_000_000; // $1,000

function tracker(precision: 'direct' | 'retail' = 'direct') {
  const t = new PositionTracker({ cashMicros: START, precision });
  const m = t.addMarket('TEST-MKT', { feeType: 'quadratic' });
  return { t, m };
}

const fillArb = fc.record({
  side: fc.constantFrom<BookSide>('bid', 'ask'),
  price: fc.integer({ min: 1, max: 9_999 }),
  count: fc.integer({ min: 1, max: 5_000 }),
  taker: fc.boolean(),
});

describe('PositionTracker', () => {
  it('nets a NO buy against a long YES position (the real demo fills)', () => {
    const { t, m } = tracker();
    const first = t.applyFill(m, 'bid', 1700, 552, true);
    expect(first.postPositionCenti).toBe(552);
    expect(first.cashFlowMicros).toBe(-938_400);
    expect(first.fee.tradeFeeMicros).toBe(54_600);
    // Buy 1.16 NO at 0.84 = V2 ask at YES 0.16: closes 1.16 YES, the pair returns $0.16 each.
    const second = t.applyFill(m, 'ask', 1600, 116, true);
    expect(second.postPositionCenti).toBe(436);
    expect(second.closedCenti).toBe(116);
    expect(second.cashFlowMicros).toBe(185_600);
    expect(second.fee.tradeFeeMicros).toBe(11_000);
    const pos = t.market(m);
    expect(pos.costMicros).toBe(436 * 1700);
    expect(pos.realizedPnlMicros).toBe(116 * 1600 - 116 * 1700);
    expect(pos.feesPaidMicros).toBe(65_600);
    expect(t.cashMicros).toBe(START - 938_400 + 185_600 - 65_600);
  });

  it('selling YES from flat buys NO: it costs collateral and never credits the sale price (old bug)', () => {
    const { t, m } = tracker();
    const out = t.applyFill(m, 'ask', 6000, 100, true); // "sell 1 YES @ 0.60"
    expect(out.postPositionCenti).toBe(-100); // long 1 NO
    expect(out.cashFlowMicros).toBe(-400_000); // paid 0.40 of collateral
    expect(t.cashMicros).toBeLessThan(START);
    // If YES wins the account lost 0.40 + fee; if NO wins it gained 0.60 − fee. Nothing minted.
    const fee = out.fee.chargedMicros;
    expect(t.cashMicros + t.settlementValueMicros(m, 10_000)).toBe(START - 400_000 - fee);
    expect(t.cashMicros + t.settlementValueMicros(m, 0)).toBe(START + 600_000 - fee);
  });

  it('closing a NO position returns the proceeds of the pair', () => {
    const { t, m } = tracker();
    t.applyFill(m, 'ask', 7000, 1_000, false); // long 10 NO @ 0.30
    const close = t.applyFill(m, 'bid', 6000, 1_000, false); // sell 10 NO @ 0.40 (= buy YES @ 0.60)
    expect(close.postPositionCenti).toBe(0);
    expect(close.cashFlowMicros).toBe(4_000_000);
    expect(t.market(m).realizedPnlMicros).toBe(1_000_000);
    expect(t.market(m).costMicros).toBe(0);
    expect(t.cashMicros).toBe(START + 1_000_000); // quadratic series: makers pay nothing
  });

  it('a fill through zero closes, then opens the other side', () => {
    const { t, m } = tracker();
    t.applyFill(m, 'bid', 4000, 300, false);
    const out = t.applyFill(m, 'ask', 5000, 500, false);
    expect(out.closedCenti).toBe(300);
    expect(out.postPositionCenti).toBe(-200);
    expect(out.cashFlowMicros).toBe(300 * 5000 - 200 * 5000);
    expect(t.market(m).costMicros).toBe(200 * 5000);
  });

  it('settles YES, NO, void and scalar', () => {
    const cases = [
      ['yes', 0, 1_000 * 10_000],
      ['no', 0, 0],
      ['void', 0, 1_000 * 2_500],
      ['scalar', 3_300, 1_000 * 3_300],
    ] as const;
    for (const [result, payout, revenue] of cases) {
      const { t, m } = tracker();
      t.applyFill(m, 'bid', 2500, 1_000, false);
      const rec = t.settle(m, result, payout, 42);
      expect(rec.revenueMicros).toBe(revenue);
      expect(t.cashMicros).toBe(START - 2_500_000 + revenue);
      expect(t.market(m).positionCenti).toBe(0);
      expect(t.market(m).realizedPnlMicros).toBe(revenue - 2_500_000);
    }
    const { t, m } = tracker();
    t.applyFill(m, 'ask', 7000, 500, false); // long 5 NO @ 0.30
    expect(t.settle(m, 'no', 0).revenueMicros).toBe(5_000_000);
    expect(() => t.applyFill(m, 'bid', 5000, 1, true)).toThrow(/settled/);
    expect(() => t.settle(m, 'yes', 10_000)).toThrow();
  });

  it('floors scalar payouts to member precision and books the remainder as a fee', () => {
    const { t, m } = tracker('retail');
    t.applyFill(m, 'bid', 5000, 101, false); // 1.01 YES, cost 0.505 → retail floors to 0.51 paid
    const before = t.cashMicros;
    const rec = t.settle(m, 'scalar', 3_333);
    expect(rec.revenueMicros).toBe(330_000); // 1.01 × 0.3333 = 0.336633 → 0.33
    expect(t.cashMicros - before).toBe(330_000);
    expect(t.market(m).feesPaidMicros).toBe(rec.feesPaidMicros);
  });

  it('marks to mid and to the touch', () => {
    const { t, m } = tracker();
    const book = new OrderBook('TEST-MKT');
    book.applySnapshot([[4000, 1_000]], [[5000, 1_000]]); // YES 0.40 bid / 0.50 ask
    expect(t.markMicros(m, book)).toBe(0);
    t.applyFill(m, 'bid', 5000, 200, false);
    expect(t.markMicros(m, book, 'mid')).toBe(200 * 4500);
    expect(t.markMicros(m, book, 'touch')).toBe(200 * 4000);
    t.applyFill(m, 'ask', 4000, 500, false); // now short 3 (long 3 NO)
    expect(t.markMicros(m, book, 'mid')).toBe(300 * 5500);
    expect(t.markMicros(m, book, 'touch')).toBe(300 * 5000);
    expect(t.portfolioValueMicros(() => book, 'touch')).toBe(t.cashMicros + 300 * 5000);
    const oneSided = new OrderBook('TEST-MKT');
    oneSided.applySnapshot([[4000, 1_000]], []);
    expect(t.markMicros(m, oneSided, 'mid')).toBe(0); // no NO bid: falls back to the touch, worth nothing
    expect(t.exposureMicros()).toBe(t.market(m).costMicros);
  });

  it('rejects bad fills and unknown markets with KflowErrors', () => {
    const { t, m } = tracker();
    expect(() => t.applyFill(m, 'bid', 5000, 0, true)).toThrow();
    expect(() => t.applyFill(m, 'bid', 10_001, 1, true)).toThrow();
    try {
      t.applyFill(7, 'bid', 5000, 1, true);
    } catch (e) {
      expect(isKflowError(e, 'UNKNOWN_MARKET')).toBe(true);
    }
    expect(t.addMarket('TEST-MKT')).toBe(m);
  });
});

describe('PositionTracker properties', () => {
  it('every fill is fair at its own price: p·ΔV(YES) + (1−p)·ΔV(NO) = −fee (no sequence mints money)', () => {
    fc.assert(
      fc.property(fc.array(fillArb, { maxLength: 40 }), fc.constantFrom('direct', 'retail' as const), (fills, precision) => {
        const { t, m } = tracker(precision);
        for (const f of fills) {
          const y0 = t.cashMicros + t.settlementValueMicros(m, 10_000);
          const n0 = t.cashMicros + t.settlementValueMicros(m, 0);
          const out = t.applyFill(m, f.side, f.price, f.count, f.taker);
          const dy = t.cashMicros + t.settlementValueMicros(m, 10_000) - y0;
          const dn = t.cashMicros + t.settlementValueMicros(m, 0) - n0;
          expect(f.price * dy + (10_000 - f.price) * dn + 10_000 * out.fee.chargedMicros).toBe(0);
        }
      }),
    );
  });

  it('trades at one price change cash + value at that price by exactly the fees', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9_999 }),
        fc.array(fc.record({ side: fc.constantFrom<BookSide>('bid', 'ask'), count: fc.integer({ min: 1, max: 3_000 }) }), {
          maxLength: 30,
        }),
        (p, fills) => {
          const { t, m } = tracker();
          for (const f of fills) t.applyFill(m, f.side, p, f.count, true);
          const value = t.cashMicros * 10_000 + p * t.settlementValueMicros(m, 10_000) + (10_000 - p) * t.settlementValueMicros(m, 0);
          expect(value).toBe((START - t.market(m).feesPaidMicros) * 10_000);
        },
      ),
    );
  });

  it('a round trip at the same price loses exactly its fees', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9_999 }), fc.integer({ min: 1, max: 100_000 }), fc.boolean(), fc.boolean(), (p, q, yes, taker) => {
        const { t, m } = tracker();
        const open = t.applyFill(m, yes ? 'bid' : 'ask', p, q, taker).fee.chargedMicros;
        const close = t.applyFill(m, yes ? 'ask' : 'bid', p, q, taker).fee.chargedMicros;
        expect(t.market(m).positionCenti).toBe(0);
        expect(t.market(m).costMicros).toBe(0);
        expect(t.market(m).realizedPnlMicros).toBe(0);
        expect(t.cashMicros).toBe(START - open - close);
        expect(t.market(m).feesPaidMicros).toBe(open + close);
      }),
    );
  });

  it('splitting a fill into pieces changes nothing but fee rounding', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 99 }).map((c) => c * 100), // whole-cent prices: no balance rounding (direct)
        fc.array(fc.integer({ min: 1, max: 2_000 }), { minLength: 1, maxLength: 8 }),
        fc.constantFrom<BookSide>('bid', 'ask'),
        fc.integer({ min: -5_000, max: 5_000 }),
        (p, pieces, side, startPos) => {
          const whole = tracker();
          const split = tracker();
          for (const x of [whole, split]) if (startPos !== 0) x.t.applyFill(x.m, startPos > 0 ? 'bid' : 'ask', 5000, Math.abs(startPos), false);
          const total = pieces.reduce((a, b) => a + b, 0);
          whole.t.applyFill(whole.m, side, p, total, true);
          for (const n of pieces) split.t.applyFill(split.m, side, p, n, true);
          const a = whole.t.market(whole.m);
          const b = split.t.market(split.m);
          expect(b.positionCenti).toBe(a.positionCenti);
          expect(b.totalTradedMicros).toBe(a.totalTradedMicros);
          // Cash before fees is identical; pro-rata cost basis may differ by flooring only.
          expect(split.t.cashMicros + b.feesPaidMicros).toBe(whole.t.cashMicros + a.feesPaidMicros);
          expect(b.realizedPnlMicros - b.costMicros).toBe(a.realizedPnlMicros - a.costMicros);
          expect(Math.abs(b.costMicros - a.costMicros)).toBeLessThanOrEqual(pieces.length);
          const extra = b.feesPaidMicros - a.feesPaidMicros;
          expect(extra).toBeGreaterThanOrEqual(0);
          expect(extra).toBeLessThan(pieces.length * 100);
        },
      ),
    );
  });

  it('holding never changes value: only the mid moves the mark, and settlement turns value into cash', () => {
    fc.assert(
      fc.property(fc.array(fillArb, { maxLength: 20 }), fc.integer({ min: 0, max: 10_000 }), (fills, payout) => {
        const { t, m } = tracker();
        for (const f of fills) t.applyFill(m, f.side, f.price, f.count, f.taker);
        const book = new OrderBook('TEST-MKT');
        book.applySnapshot([[4000, 100]], [[5000, 100]]); // YES 0.40 / 0.50: mid 0.45
        const value = t.portfolioValueMicros(() => book);
        // Marking to mid values the position as if it settled at the mid.
        expect(value).toBe(t.cashMicros + t.settlementValueMicros(m, 4500));
        // The book moves without moving the mid (sizes at the touch, deeper levels): the value stays.
        book.applyDelta('yes', 4000, 900);
        book.applyDelta('yes', 3000, 500);
        book.applyDelta('no', 4000, 2_000);
        book.applyDelta('no', 5000, -50);
        expect(t.portfolioValueMicros(() => book)).toBe(value);
        const expected = t.cashMicros + t.settlementValueMicros(m, payout);
        const feesBefore = t.market(m).feesPaidMicros;
        t.settle(m, 'scalar', payout);
        const settlementRounding = t.market(m).feesPaidMicros - feesBefore;
        expect(settlementRounding).toBeLessThan(100);
        expect(t.cashMicros + settlementRounding).toBe(expected);
      }),
    );
  });
});
