import { OrderBook, isKflowError } from '@kflow/orderbook';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTION_KINDS, actionCount, actionMask, actionToOrder, createActionSpace, decodeAction, encodeAction } from './actionSpace';
import { createMatchingEngine } from './matchingEngine';
import { PositionTracker } from './positionTracker';

function book(yes: [number, number][] = [[4000, 1_000]], no: [number, number][] = [[5000, 500]]): OrderBook {
  const b = new OrderBook('TEST-MKT');
  b.applySnapshot(yes, no);
  return b;
}

const space = createActionSpace({ sizesCenti: [100, 1_000] });
const idx = (kind: (typeof ACTION_KINDS)[number], size = 0) => encodeAction(space, kind, size);

describe('action space', () => {
  it('has HOLD, 8 trading kinds × sizes and CANCEL_ALL', () => {
    expect(actionCount([100])).toBe(10);
    expect(actionCount([100, 500, 1_000])).toBe(26);
    expect(space.count).toBe(18);
    expect(decodeAction(space, 0).kind).toBe('HOLD');
    expect(decodeAction(space, 17).kind).toBe('CANCEL_ALL');
    expect(decodeAction(space, 1)).toMatchObject({ kind: 'BUY_YES_NOW', sizeCenti: 100, outcome: 'yes', intent: 'buy', take: true });
    expect(decodeAction(space, 2)).toMatchObject({ kind: 'BUY_YES_NOW', sizeCenti: 1_000 });
    expect(decodeAction(space, 16)).toMatchObject({ kind: 'SELL_NO_WAIT', sizeCenti: 1_000, outcome: 'no', intent: 'sell', take: false });
    for (let a = 0; a < space.count; a++) {
      const d = decodeAction(space, a);
      expect(encodeAction(space, d.kind, Math.max(d.sizeIndex, 0))).toBe(a);
      expect(decodeAction(space, a)).toBe(d); // precomputed: no allocation per decode
    }
  });

  it('throws UNKNOWN_ACTION outside the space', () => {
    for (const bad of [-1, 18, 1.5, Number.NaN]) {
      try {
        decodeAction(space, bad);
        expect.unreachable();
      } catch (e) {
        expect(isKflowError(e, 'UNKNOWN_ACTION')).toBe(true);
      }
    }
    expect(() => createActionSpace({ sizesCenti: [] })).toThrow();
    expect(() => createActionSpace({ sizesCenti: [0] })).toThrow();
  });

  it('turns actions into V2 orders', () => {
    const b = book();
    const flat = { book: b, positionCenti: 0 };
    expect(actionToOrder(space, decodeAction(space, idx('BUY_YES_NOW')), flat)).toEqual({
      side: 'bid',
      priceUnits: 9_900, // walks the whole book by default
      countCenti: 100,
      timeInForce: 'immediate_or_cancel',
      postOnly: false,
      reduceOnly: false,
    });
    expect(actionToOrder(space, decodeAction(space, idx('BUY_NO_NOW')), flat)).toMatchObject({ side: 'ask', priceUnits: 100 });
    expect(actionToOrder(space, decodeAction(space, idx('BUY_YES_WAIT')), flat)).toMatchObject({
      side: 'bid',
      priceUnits: 4000,
      timeInForce: 'good_till_canceled',
      postOnly: true,
    });
    expect(actionToOrder(space, decodeAction(space, idx('BUY_NO_WAIT')), flat)).toMatchObject({ side: 'ask', priceUnits: 5000 });
    const longYes = { book: b, positionCenti: 300 };
    expect(actionToOrder(space, decodeAction(space, idx('SELL_YES_WAIT', 1)), longYes)).toMatchObject({
      side: 'ask',
      priceUnits: 5000,
      countCenti: 300, // capped at the holding
      reduceOnly: true,
    });
    expect(actionToOrder(space, decodeAction(space, idx('SELL_NO_NOW')), longYes)).toBeUndefined();
    expect(actionToOrder(space, decodeAction(space, 0), flat)).toBeUndefined();
    const tight = createActionSpace({ sizesCenti: [100], maxSlippageUnits: 200 });
    expect(actionToOrder(tight, decodeAction(tight, encodeAction(tight, 'BUY_YES_NOW')), flat)).toMatchObject({ priceUnits: 5200 });
  });

  it('masks infeasible actions', () => {
    const mask = (ctx: Parameters<typeof actionMask>[1]) => {
      const m = actionMask(space, ctx);
      return ACTION_KINDS.filter((k) => m[encodeAction(space, k, 0)] === 1);
    };
    expect(mask({ book: book(), positionCenti: 0, openOrderCount: 0 })).toEqual([
      'HOLD',
      'BUY_YES_NOW',
      'BUY_NO_NOW',
      'BUY_YES_WAIT',
      'BUY_NO_WAIT',
    ]);
    // No NO bids: nothing to lift for YES buyers, nothing to join for NO buyers.
    expect(mask({ book: book([[4000, 100]], []), positionCenti: -100 })).toEqual([
      'HOLD',
      'BUY_NO_NOW',
      'BUY_YES_WAIT',
      'SELL_NO_WAIT',
      'CANCEL_ALL',
    ]);
    // Position limit: buying more YES is out, buying NO (which nets) is fine.
    expect(mask({ book: book(), positionCenti: 1_000, maxPositionCenti: 1_000, openOrderCount: 1 })).toEqual([
      'HOLD',
      'SELL_YES_NOW',
      'BUY_NO_NOW',
      'SELL_YES_WAIT',
      'BUY_NO_WAIT',
      'CANCEL_ALL',
    ]);
    // A sub-cent best bid cannot be joined on a whole-cent market.
    expect(mask({ book: book([[4050, 100]], [[5000, 100]]), positionCenti: 0, openOrderCount: 0 })).not.toContain('BUY_YES_WAIT');
    const stale = book();
    stale.markStale();
    expect(mask({ book: stale, positionCenti: 100, openOrderCount: 2 })).toEqual(['HOLD', 'CANCEL_ALL']);
  });

  it('every unmasked action yields an order the engine accepts; masked ones yield none', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 10, max: 60 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: -3_000, max: 3_000 }),
        fc.integer({ min: 0, max: 17 }),
        (bidCents, spread, startPos, action) => {
          const b = book([[bidCents * 100, 2_000]], [[10_000 - (bidCents + spread) * 100, 2_000]]);
          const tracker = new PositionTracker({ cashMicros: 10_000_000_000 });
          const engine = createMatchingEngine({ ticker: b.ticker, book: b, tracker });
          const m = engine.marketIndex;
          if (startPos !== 0) tracker.applyFill(m, startPos > 0 ? 'bid' : 'ask', 5000, Math.abs(startPos), false);
          const ctx = { book: b, positionCenti: tracker.positionCenti(m), maxPositionCenti: 2_500 };
          const feasible = actionMask(space, ctx)[action] === 1;
          const order = actionToOrder(space, decodeAction(space, action), ctx);
          const decoded = decodeAction(space, action);
          if (decoded.intent === undefined) return;
          expect(order !== undefined).toBe(feasible);
          if (order) expect(engine.submit(order, 0).ok).toBe(true);
        },
      ),
    );
  });
});
