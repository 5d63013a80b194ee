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

describe('action space: restricted trading kinds', () => {
  const kinds = ['BUY_YES_NOW', 'SELL_YES_NOW', 'BUY_NO_WAIT'] as const;
  const full = createActionSpace({ sizesCenti: [100, 500] });
  const restricted = createActionSpace({ sizesCenti: [100, 500], tradingKinds: kinds });

  it('keeps the layout and count; disabled kinds are marked, HOLD and CANCEL_ALL stay enabled', () => {
    expect(restricted.count).toBe(full.count);
    expect(restricted.count).toBe(actionCount([100, 500]));
    expect(restricted.tradingKinds).toEqual(kinds);
    expect(full.tradingKinds).toEqual(ACTION_KINDS.slice(1, 9));
    for (let a = 0; a < full.count; a++) {
      const r = decodeAction(restricted, a);
      const f = decodeAction(full, a);
      // Same kind, size and direction at every index: only `enabled` differs.
      expect({ ...r, enabled: true }).toEqual(f);
      expect(f.enabled).toBe(true);
      const expected = r.kind === 'HOLD' || r.kind === 'CANCEL_ALL' || (kinds as readonly string[]).includes(r.kind);
      expect(r.enabled, `${a} ${r.kind}`).toBe(expected);
    }
    expect(restricted.actions.filter((a) => a.enabled).map((a) => a.kind)).toEqual([
      'HOLD',
      'BUY_YES_NOW',
      'BUY_YES_NOW',
      'SELL_YES_NOW',
      'SELL_YES_NOW',
      'BUY_NO_WAIT',
      'BUY_NO_WAIT',
      'CANCEL_ALL',
    ]);
    const none = createActionSpace({ sizesCenti: [100], tradingKinds: [] });
    expect(none.count).toBe(10);
    expect(none.actions.filter((a) => a.enabled).map((a) => a.kind)).toEqual(['HOLD', 'CANCEL_ALL']);
    // With no trading kind the mask leaves HOLD, and CANCEL_ALL while orders are open.
    expect(Array.from(actionMask(none, { book: book(), positionCenti: 300, openOrderCount: 1 }))).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('throws INVALID_ARGUMENT for unknown or non-trading kinds', () => {
    for (const bad of ['HOLD', 'CANCEL_ALL', 'BUY_MAYBE_NOW', 'buy_yes_now']) {
      try {
        createActionSpace({ sizesCenti: [100], tradingKinds: ['BUY_YES_NOW', bad as (typeof ACTION_KINDS)[number]] });
        expect.unreachable();
      } catch (e) {
        expect(isKflowError(e, 'INVALID_ARGUMENT'), String(e)).toBe(true);
        expect((e as Error).message).toContain(bad);
      }
    }
  });

  it('masks disabled kinds and never turns them into orders, agreeing with the full space elsewhere (property)', () => {
    const kindsArb = fc.subarray(ACTION_KINDS.slice(1, 9));
    fc.assert(
      fc.property(
        kindsArb,
        fc.integer({ min: 5, max: 60 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: -3_000, max: 3_000 }),
        fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
        fc.boolean(),
        (enabledKinds, bidCents, spread, positionCenti, openOrderCount, stale) => {
          const b = book([[bidCents * 100, 2_000]], [[10_000 - Math.min(bidCents + spread, 99) * 100, 2_000]]);
          if (stale) b.markStale();
          const sizes = [100, 1_000];
          const all = createActionSpace({ sizesCenti: sizes });
          const some = createActionSpace({ sizesCenti: sizes, tradingKinds: enabledKinds });
          const ctx = { book: b, positionCenti, maxPositionCenti: 2_500, ...(openOrderCount === undefined ? {} : { openOrderCount }) };
          const mFull = actionMask(all, ctx);
          const mSome = actionMask(some, ctx);
          expect(mSome[0]).toBe(1);
          expect(mSome[some.count - 1]).toBe(mFull[all.count - 1]);
          for (let a = 1; a < some.count - 1; a++) {
            const d = decodeAction(some, a);
            const on = enabledKinds.includes(d.kind);
            expect(d.enabled).toBe(on);
            expect(mSome[a]).toBe(on ? mFull[a] : 0);
            const order = actionToOrder(some, d, ctx);
            if (on) expect(order).toEqual(actionToOrder(all, decodeAction(all, a), ctx));
            else expect(order).toBeUndefined();
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a disabled kind yields no order even where the full space would trade', () => {
    const b = book();
    const ctx = { book: b, positionCenti: 300 };
    for (const kind of ['BUY_NO_NOW', 'SELL_YES_WAIT', 'BUY_YES_WAIT'] as const) {
      const a = encodeAction(restricted, kind, 0);
      expect(actionToOrder(full, decodeAction(full, a), ctx), kind).toBeDefined();
      expect(actionMask(full, ctx)[a]).toBe(1);
      expect(actionToOrder(restricted, decodeAction(restricted, a), ctx), kind).toBeUndefined();
      expect(actionMask(restricted, ctx)[a]).toBe(0);
    }
    // Enabled kinds still trade.
    expect(actionToOrder(restricted, decodeAction(restricted, encodeAction(restricted, 'BUY_YES_NOW', 1)), ctx)).toMatchObject({ side: 'bid', countCenti: 500 });
  });
});
