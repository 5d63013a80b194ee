import { OrderBook } from '@kflow/orderbook';
import { describe, expect, it } from 'vitest';
import { createMatchingEngine } from './matchingEngine';
import { buyYes, sellYes } from './orders';
import { createPositionFeatures, writePositionFeatures } from './positionFeatures';
import { PositionTracker } from './positionTracker';

describe('writePositionFeatures', () => {
  it('reports position, mark-to-mid PnL, cash, portfolio value and resting size of one market', () => {
    const book = new OrderBook('TEST-MKT');
    book.applySnapshot([[4000, 1_000]], [[5500, 1_000]]); // YES 0.40 / 0.45: mid 0.4250
    const tracker = new PositionTracker({ cashMicros: 10_000_000 });
    const engine = createMatchingEngine({ ticker: book.ticker, book, tracker });
    const out = createPositionFeatures(1_000);
    expect(writePositionFeatures(engine, out)).toEqual({
      positionCenti: 0,
      positionLimitCenti: 1_000,
      unrealizedPnlMicros: 0,
      cashMicros: 10_000_000,
      portfolioValueMicros: 10_000_000,
      restingBidCenti: 0,
      restingAskCenti: 0,
    });
    engine.submit(buyYes(4500, 200, { timeInForce: 'immediate_or_cancel' }), 0); // 2 YES @ 0.45
    engine.submit(buyYes(3000, 300), 0); // rests below the bid
    engine.submit(sellYes(6000, 100), 0); // rests above the ask
    const fee = 34_700; // 0.07 × 2 × 0.45 × 0.55 = 0.03465 → 0.0347
    expect(tracker.market(engine.marketIndex).feesPaidMicros).toBe(fee);
    expect(writePositionFeatures(engine, out)).toBe(out);
    expect(out).toEqual({
      positionCenti: 200,
      positionLimitCenti: 1_000,
      unrealizedPnlMicros: 200 * 4250 - 200 * 4500,
      cashMicros: 10_000_000 - 200 * 4500 - fee,
      portfolioValueMicros: 10_000_000 - 200 * 4500 - fee + 200 * 4250,
      restingBidCenti: 300,
      restingAskCenti: 100,
    });
  });
});
