import { isKflowError } from '@kflow/orderbook';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ceilDivByE14, chargeFee, createFeeModel, quoteFee } from './feeModel';

const quadratic = createFeeModel({ feeType: 'quadratic' });
const makerSeries = createFeeModel({ feeType: 'quadratic_with_maker_fees' });

describe('trade fee', () => {
  it('matches the two real demo fills (fee_cost rounded up to $0.0001)', () => {
    expect(quadratic.tradeFeeMicros(1700, 552, true)).toBe(54_600); // 0.0545…→ 0.0546
    expect(quadratic.tradeFeeMicros(1600, 116, true)).toBe(11_000); // 0.0109…→ 0.0110
  });

  it('matches the published taker table', () => {
    expect(quadratic.tradeFeeMicros(5000, 100, true)).toBe(17_500);
    expect(quadratic.tradeFeeMicros(5000, 10_000, true)).toBe(1_750_000);
    expect(quadratic.tradeFeeMicros(500, 10_000, true)).toBe(332_500); // table shows $0.34 for retail
    expect(quadratic.tradeFeeMicros(2500, 10_000, true)).toBe(1_312_500);
  });

  it('charges makers by series fee type', () => {
    expect(quadratic.tradeFeeMicros(5000, 10_000, false)).toBe(0);
    expect(makerSeries.tradeFeeMicros(5000, 10_000, false)).toBe(437_500);
    expect(createFeeModel({ feeType: 'quadratic_with_combo_maker_fees' }).tradeFeeMicros(5000, 10_000, false)).toBe(875_000);
  });

  it('applies the multiplier, including 0 and fractional values', () => {
    expect(createFeeModel({ feeType: 'quadratic', multiplier: '0' }).tradeFeeMicros(5000, 100, true)).toBe(0);
    expect(createFeeModel({ feeType: 'quadratic', multiplier: 2 }).tradeFeeMicros(5000, 100, true)).toBe(35_000);
    expect(createFeeModel({ feeType: 'quadratic', multiplier: '0.5' }).tradeFeeMicros(5000, 100, true)).toBe(8_800); // 0.00875 → 0.0088
  });

  it('rejects unknown fee types', () => {
    expect(() => createFeeModel({ feeType: 'flat' as never })).toThrow(/Unknown fee type/);
    try {
      createFeeModel({ feeType: 'nope' as never });
    } catch (e) {
      expect(isKflowError(e, 'UNKNOWN_FEE_TYPE')).toBe(true);
    }
  });

  it('ceilDivByE14 agrees with BigInt for any operands', () => {
    const big = (a: number, b: number) => Number((BigInt(a) * BigInt(b) + 10n ** 14n - 1n) / 10n ** 14n);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 50 }), fc.integer({ min: 0, max: 2 ** 40 }), (a, b) => {
        expect(ceilDivByE14(a, b)).toBe(big(a, b));
      }),
      { numRuns: 2000 },
    );
    expect(ceilDivByE14(10 ** 14, 1)).toBe(1);
    expect(ceilDivByE14(10 ** 14 + 1, 1)).toBe(2);
  });

  it('every fee equals the BigInt formula', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 1, max: 10 ** 9 }), (p, c) => {
        const exact = 10_000n * 700n * BigInt(c) * BigInt(p) * BigInt(10_000 - p);
        const centicents = (exact + 10n ** 14n - 1n) / 10n ** 14n;
        expect(quadratic.tradeFeeMicros(p, c, true)).toBe(Number(centicents) * 100);
      }),
    );
  });
});

describe('member precision', () => {
  it('1 @ 0.50 taker: trade fee 0.0175, retail pays 0.02, direct 0.0175', () => {
    expect(quoteFee({ priceUnits: 5000, countCenti: 100 })).toEqual({ tradeFeeMicros: 17_500, chargedMicros: 17_500 });
    expect(quoteFee({ priceUnits: 5000, countCenti: 100, precision: 'retail' })).toEqual({
      tradeFeeMicros: 17_500,
      chargedMicros: 20_000,
    });
  });

  it('100 @ 0.50 taker: 1.75; maker on a maker-fee series: 0.4375 (retail 0.44)', () => {
    expect(quoteFee({ priceUnits: 5000, countCenti: 10_000, precision: 'retail' }).chargedMicros).toBe(1_750_000);
    const maker = { priceUnits: 5000, countCenti: 10_000, isTaker: false, schedule: { feeType: 'quadratic_with_maker_fees' } } as const;
    expect(quoteFee(maker)).toEqual({ tradeFeeMicros: 437_500, chargedMicros: 437_500 });
    expect(quoteFee({ ...maker, precision: 'retail' }).chargedMicros).toBe(440_000);
  });

  it('direct precision rounds a sub-centicent balance change', () => {
    // 0.01 contract at $0.1701 costs $0.001701: the balance change floors to $0.0018 (+0.000099 rounding).
    const c = chargeFee(0, -1701, 'direct', 0);
    expect(c.roundingFeeMicros).toBe(99);
    expect(c.chargedMicros).toBe(99);
  });

  it('the accumulator rebates whole cents: three fills overpaying 0.004 pay 0.004, 0.004, then 0.010 less', () => {
    // Each fill: trade fee $0.0160 on a cost of $1.0000 → balance change −1.0160 floors to −1.02 (overpay 0.004).
    const first = chargeFee(16_000, -1_000_000, 'retail', 0);
    expect(first.roundingFeeMicros).toBe(4_000);
    expect(first.chargedMicros).toBe(20_000);
    const second = chargeFee(16_000, -1_000_000, 'retail', first.accumulatorMicros);
    expect(second.chargedMicros).toBe(20_000);
    expect(second.accumulatorMicros).toBe(8_000);
    const third = chargeFee(16_000, -1_000_000, 'retail', second.accumulatorMicros);
    expect(third.rebateMicros).toBe(10_000);
    expect(third.chargedMicros).toBe(10_000); // 0.020 − 0.010
    expect(third.accumulatorMicros).toBe(2_000); // 0.012 → 0.002 carried
  });

  it('many small fills converge to the single-fill fee (within one cent)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 9_900 }), fc.array(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 30 }), (p, pieces) => {
        let acc = 0;
        let paid = 0;
        let trade = 0;
        for (const n of pieces) {
          const c = chargeFee(quadratic.tradeFeeMicros(p, n, true), -p * n, 'retail', acc);
          acc = c.accumulatorMicros;
          paid += c.chargedMicros;
          trade += c.tradeFeeMicros;
          expect(paid).toBeGreaterThanOrEqual(trade);
        }
        // What was paid beyond the trade fees is exactly what sits in the accumulator, below one cent.
        expect(paid - trade).toBe(acc);
        expect(acc).toBeLessThan(10_000);
      }),
    );
  });
});
