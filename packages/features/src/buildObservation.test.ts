import { OrderBook, type Level } from '@kflow/orderbook';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildObservation, type PositionFeaturesInput } from './buildObservation';
import { F, FEATURE_SET_VERSION, FEATURE_SPEC, OBSERVATION_SIZE } from './featureSpec';
import { TemporalState } from './temporalState';

const flat: PositionFeaturesInput = {
  positionCenti: 0,
  positionLimitCenti: 1000,
  unrealizedPnlMicros: 0,
  cashMicros: 10_000_000,
  portfolioValueMicros: 10_000_000,
  restingBidCenti: 0,
  restingAskCenti: 0,
};

function observe(book: OrderBook, temporal = new TemporalState(), position = flat, nowMs = 0): Float32Array {
  return buildObservation(new Float32Array(OBSERVATION_SIZE), book, temporal, position, nowMs);
}

function expectInSpec(obs: Float32Array, offset = 0): void {
  FEATURE_SPEC.features.forEach((f, i) => {
    const v = obs[offset + i]!;
    expect(Number.isFinite(v), `${f.name} = ${v}`).toBe(true);
    expect(v, f.name).toBeGreaterThanOrEqual(f.min);
    expect(v, f.name).toBeLessThanOrEqual(f.max);
  });
}

describe('FEATURE_SPEC', () => {
  it('names every slot once, in vector order, under a versioned name', () => {
    expect(FEATURE_SET_VERSION).toMatch(/^kflow-features\/\d+$/);
    expect(FEATURE_SPEC.size).toBe(OBSERVATION_SIZE);
    expect(FEATURE_SPEC.features).toHaveLength(OBSERVATION_SIZE);
    expect(new Set(FEATURE_SPEC.features.map((f) => f.name)).size).toBe(OBSERVATION_SIZE);
    FEATURE_SPEC.features.forEach((f, i) => expect(F[f.name as keyof typeof F]).toBe(i));
    expect(new Set(FEATURE_SPEC.features.map((f) => f.group))).toEqual(new Set(['market', 'temporal', 'position']));
  });
});

describe('buildObservation', () => {
  it('is finite and neutral for an empty book and no history', () => {
    const obs = observe(new OrderBook('T'));
    expectInSpec(obs);
    expect(obs[F.mid]).toBe(0.5);
    expect(obs[F.spread]).toBe(1);
    expect(obs[F.relSpread]).toBe(1);
    expect(obs[F.depthYes]).toBe(0);
    expect(obs[F.imbalanceTop]).toBe(0);
    expect(obs[F.micropriceOffset]).toBe(0);
    expect(obs[F.priceSumExcess]).toBe(1); // buying either leg costs the full $1
    expect(obs[F.logGap]).toBe(1);
    expect(obs[F.quiet]).toBe(1);
    expect(obs[F.rate10s]).toBe(0);
  });

  it('computes the market features of a known book', () => {
    const book = new OrderBook('T');
    // YES bids 0.40 x 30, 0.39 x 100; NO bids 0.55 x 10 (YES ask 0.45), 0.50 x 200 (YES ask 0.50).
    book.applySnapshot([[3900, 10_000], [4000, 3000]], [[5500, 1000], [5000, 20_000]]);
    const obs = observe(book);
    expect(obs[F.mid]).toBeCloseTo(0.425, 6);
    expect(obs[F.spread]).toBeCloseTo(Math.log1p(5) / Math.log1p(100), 6);
    expect(obs[F.relSpread]).toBeCloseTo(0.05 / (2 * 0.425), 6);
    expect(obs[F.depthYes]).toBeCloseTo(Math.log1p(130) / Math.log1p(1e7), 6);
    expect(obs[F.imbalanceTop]).toBeCloseTo((3000 - 1000) / 4000, 6);
    expect(obs[F.imbalanceDepth]).toBeCloseTo((13_000 - 21_000) / 34_000, 6);
    // microprice = (4000·10 + 4500·30) / 40 = 4375; mid 4250: 1.25 cents above.
    expect(obs[F.micropriceOffset]).toBeCloseTo(Math.tanh(1.25), 6);
    expect(obs[F.distanceFromHalf]).toBeCloseTo(0.15, 6);
    // Buy 100 YES: 10 @ 0.45 + 90 @ 0.50 = 49.5; buy 100 NO: 30 @ 0.60 + 70 @ 0.61 = 60.7; sum 110.2 of 100.
    expect(obs[F.priceSumExcess]).toBeCloseTo(Math.sqrt(0.102), 6);
    expectInSpec(obs);
  });

  it('treats a one-sided book as bid 0 / ask $1 instead of NaN', () => {
    const book = new OrderBook('T');
    book.applySnapshot([[9800, 500]], []);
    const obs = observe(book);
    expectInSpec(obs);
    expect(obs[F.mid]).toBeCloseTo(0.99, 6);
    expect(obs[F.relSpread]).toBe(1);
  });

  it('normalises the position features', () => {
    const book = new OrderBook('T');
    book.applySnapshot([[4000, 1000]], [[5000, 1000]]);
    const long: PositionFeaturesInput = {
      positionCenti: 500,
      positionLimitCenti: 1000,
      unrealizedPnlMicros: 250_000,
      cashMicros: 3_000_000,
      portfolioValueMicros: 6_000_000,
      restingBidCenti: 0,
      restingAskCenti: 100,
    };
    const obs = observe(book, new TemporalState(), long);
    expect(obs[F.position]).toBe(0.5);
    expect(obs[F.unrealizedPnl]).toBeCloseTo(Math.tanh(250_000 / (0.1 * 1000 * 10_000)), 6);
    expect(obs[F.cashFraction]).toBe(0.5);
    expect(obs[F.restingBid]).toBe(0);
    expect(obs[F.restingAsk]).toBe(1);
    const short = observe(book, new TemporalState(), { ...long, positionCenti: -5000, portfolioValueMicros: 0 });
    expect(obs[F.position]).toBe(0.5);
    expect(short[F.position]).toBe(-1);
    expect(short[F.cashFraction]).toBe(0);
  });

  it('writes only its own slots at an offset', () => {
    const book = new OrderBook('T');
    book.applySnapshot([[4000, 1000]], [[5000, 1000]]);
    const out = new Float32Array(OBSERVATION_SIZE + 4).fill(7);
    buildObservation(out, book, new TemporalState(), flat, 0, 2);
    expect([out[0], out[1], out[OBSERVATION_SIZE + 2], out[OBSERVATION_SIZE + 3]]).toEqual([7, 7, 7, 7]);
    expect(out.subarray(2, 2 + OBSERVATION_SIZE)).toEqual(observe(book));
  });

  it('stays finite and inside the spec for any book, history and account (property)', () => {
    const level = fc.tuple(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1, max: 1e9 }));
    const levels = fc.uniqueArray(level, { selector: (l) => l[0], maxLength: 12 });
    const event = fc.record({
      dt: fc.integer({ min: 0, max: 600_000 }),
      side: fc.constantFrom<'yes' | 'no'>('yes', 'no'),
      price: fc.integer({ min: 1, max: 9999 }),
      size: fc.integer({ min: 1, max: 1e8 }),
      trade: fc.integer({ min: -1e8, max: 1e8 }),
    });
    const account = fc.record({
      positionCenti: fc.integer({ min: -1e7, max: 1e7 }),
      positionLimitCenti: fc.integer({ min: 1, max: 1e6 }),
      unrealizedPnlMicros: fc.integer({ min: -1e12, max: 1e12 }),
      cashMicros: fc.integer({ min: -1e12, max: 1e12 }),
      portfolioValueMicros: fc.integer({ min: -1e12, max: 1e12 }),
      restingBidCenti: fc.nat(1e6),
      restingAskCenti: fc.nat(1e6),
    });
    fc.assert(
      fc.property(levels, levels, fc.array(event, { maxLength: 30 }), account, fc.nat(1e7), (yes, no, events, acct, wait) => {
        const book = new OrderBook('T');
        book.applySnapshot(yes as Level[], no as Level[]);
        const temporal = new TemporalState();
        let ts = 1_700_000_000_000;
        for (const e of events) {
          ts += e.dt;
          book.applyDelta(e.side, e.price, e.size);
          temporal.update(ts, book, e.trade);
        }
        expectInSpec(observe(book, temporal, acct, ts + wait));
      }),
      { numRuns: 300 },
    );
  });
});
