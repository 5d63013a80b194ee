import { type BookEvent, OrderBook, createRng } from '@kflow/orderbook';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { invalidArgument } from './errors.testing';
import { type MatchingEngineOptions, createMatchingEngine, replayEvent } from './matchingEngine';
import { buyNo, buyYes, sellYes } from './orders';
import { createPositionFeatures, writePositionFeatures } from './positionFeatures';
import { PositionTracker } from './positionTracker';

const T = 'TEST-MKT';

interface Fill {
  id: number;
  price: number;
  count: number;
  taker: boolean;
  ts: number;
}

/** YES bids 0.40 ×10, 0.39 ×20; NO bids 0.50 ×5, 0.49 ×10, 0.48 ×30 (YES asks 0.50 / 0.51 / 0.52). */
function setup(options: Partial<MatchingEngineOptions> = {}) {
  const book = new OrderBook(T);
  book.applySnapshot(
    [
      [3900, 2_000],
      [4000, 1_000],
    ],
    [
      [4800, 3_000],
      [4900, 1_000],
      [5000, 500],
    ],
  );
  const tracker = new PositionTracker({ cashMicros: 1_000_000_000 });
  const fills: Fill[] = [];
  const engine = createMatchingEngine({
    ticker: T,
    book,
    tracker,
    onFill: (order, price, count, taker, _outcome, ts) => fills.push({ id: order.id, price, count, taker, ts }),
    ...options,
  });
  const delta = (side: 'yes' | 'no', priceUnits: number, deltaCenti: number, tsMs = 1): void =>
    replayEvent(engine, book, { kind: 'delta', ticker: T, tsMs, side, priceUnits, deltaCenti });
  const trade = (yesPriceUnits: number, countCenti: number, takerSide: 'yes' | 'no', tsMs = 1): void =>
    replayEvent(engine, book, { kind: 'trade', ticker: T, tsMs, yesPriceUnits, countCenti, takerSide });
  return { book, tracker, engine, fills, delta, trade };
}

describe('taker orders', () => {
  it('walk the opposite side level by level at each level’s price (VWAP), then rest', () => {
    const { engine, tracker, fills, book } = setup();
    const before = book.clone();
    const r = engine.submit(buyYes(5100, 2_000), 0);
    expect(r.ok).toBe(true);
    expect(fills.map((f) => [f.price, f.count, f.taker])).toEqual([
      [5000, 500, true],
      [5100, 1_000, true],
    ]);
    if (!r.ok) return;
    expect(r.order.filledCenti).toBe(1_500);
    expect(r.order.status).toBe('resting');
    expect(r.order.remainingCenti).toBe(500);
    expect(r.order.takerFillCostMicros).toBe(500 * 5000 + 1_000 * 5100);
    expect(tracker.positionCenti(engine.marketIndex)).toBe(1_500);
    expect(book.equals(before)).toBe(true); // recorded books are never changed by our orders
  });

  it('a sell YES hits YES bids; IOC cancels the rest', () => {
    const { engine, fills } = setup();
    const r = engine.submit(sellYes(3900, 5_000, { timeInForce: 'immediate_or_cancel' }), 0);
    expect(fills.map((f) => [f.price, f.count])).toEqual([
      [4000, 1_000],
      [3900, 2_000],
    ]);
    expect(r.ok && r.order.status).toBe('canceled');
    expect(r.ok && r.order.lastUpdateReason).toBe('ImmediateOrCancel');
    expect(engine.restingCount).toBe(0);
  });

  it('never fills the same recorded size twice until the level replenishes', () => {
    const { engine, fills, delta } = setup();
    engine.submit(buyYes(5000, 500, { timeInForce: 'immediate_or_cancel' }), 0);
    engine.submit(buyYes(5000, 500, { timeInForce: 'immediate_or_cancel' }), 0);
    expect(fills.reduce((a, f) => a + f.count, 0)).toBe(500);
    delta('no', 5000, 200); // someone adds 2 contracts at the level
    engine.submit(buyYes(5000, 500, { timeInForce: 'immediate_or_cancel' }), 2);
    expect(fills.reduce((a, f) => a + f.count, 0)).toBe(700);
    delta('no', 5000, -600); // the level shrinks to 1: our consumption is capped at what is left
    engine.submit(buyYes(5000, 500, { timeInForce: 'immediate_or_cancel' }), 3);
    expect(fills.reduce((a, f) => a + f.count, 0)).toBe(700);
  });

  it('fill_or_kill fills completely or not at all', () => {
    const { engine, fills } = setup();
    const killed = engine.submit(buyYes(5100, 1_600, { timeInForce: 'fill_or_kill' }), 0);
    expect(killed.ok && killed.order.lastUpdateReason).toBe('FillOrKillCancel');
    expect(fills).toHaveLength(0);
    const done = engine.submit(buyYes(5100, 1_500, { timeInForce: 'fill_or_kill' }), 0);
    expect(done.ok && done.order.status).toBe('executed');
  });

  it('post_only orders that would cross are refused; others rest', () => {
    const { engine, tracker } = setup();
    const state = tracker.state();
    const r = engine.submit(buyYes(5000, 100, { postOnly: true }), 0);
    expect(r).toMatchObject({ ok: false, reason: 'post_only_cross' });
    expect(tracker.state()).toEqual(state);
    expect(engine.submit(buyYes(4900, 100, { postOnly: true }), 0)).toMatchObject({ ok: true, order: { status: 'resting' } });
  });

  it('reduce_only needs a position and is capped at it', () => {
    const { engine, tracker } = setup();
    expect(engine.submit(sellYes(3900, 100, { reduceOnly: true }), 0)).toMatchObject({ reason: 'reduce_only_no_position' });
    engine.submit(buyYes(5000, 300, { timeInForce: 'immediate_or_cancel' }), 0);
    const r = engine.submit(sellYes(3900, 1_000, { reduceOnly: true, timeInForce: 'immediate_or_cancel' }), 0);
    expect(r.ok && r.order.filledCenti).toBe(300);
    expect(tracker.positionCenti(engine.marketIndex)).toBe(0);
  });

  it('refuses bad prices, counts and orders the balance cannot cover, changing nothing', () => {
    const { engine, tracker } = setup({ tracker: new PositionTracker({ cashMicros: 1_000_000 }) });
    const state = tracker.state();
    expect(engine.submit(buyYes(5050, 100), 0)).toMatchObject({ reason: 'invalid_price' }); // off the cent grid
    expect(engine.submit(buyYes(0, 100), 0)).toMatchObject({ reason: 'invalid_price' });
    expect(engine.submit(buyYes(10_000, 100), 0)).toMatchObject({ reason: 'invalid_price' });
    expect(engine.submit(buyYes(5000, 0), 0)).toMatchObject({ reason: 'invalid_count' });
    expect(engine.submit(buyYes(5000, 1.5), 0)).toMatchObject({ reason: 'invalid_count' });
    expect(engine.submit(buyYes(4000, 300), 0)).toMatchObject({ reason: 'insufficient_balance' }); // $1.20 > $1
    expect(tracker.state()).toEqual(state);
    expect(tracker.reservedMicros).toBe(0);
    expect(engine.openOrders()).toHaveLength(0);
    // Two resting orders may not together exceed the balance.
    expect(engine.submit(buyYes(3000, 200), 0).ok).toBe(true);
    expect(engine.submit(buyYes(3000, 200), 0)).toMatchObject({ reason: 'insufficient_balance' });
  });
  it('never trades with our own resting orders (self-trade prevention, taker_at_cross)', () => {
    const { engine, fills } = setup();
    const own = engine.submit(buyYes(4000, 500), 0); // rests behind the recorded 10 at 0.40
    if (!own.ok) throw new Error('rejected');
    // Selling 30 YES down to 0.39 may take only the 10 ahead of our own bid, then stops.
    const sell = engine.submit(sellYes(3900, 3_000, { timeInForce: 'immediate_or_cancel' }), 1);
    expect(fills.map((f) => [f.id, f.price, f.count])).toEqual([[sell.ok ? sell.order.id : 0, 4000, 1_000]]);
    expect(sell.ok && sell.order).toMatchObject({ status: 'canceled', lastUpdateReason: 'SelfTradeCancel', filledCenti: 1_000 });
    expect(own.order).toMatchObject({ status: 'resting', queueAheadCenti: 0, filledCenti: 0 });
    // An ask inside the spread; a later bid reaching it is canceled, a post-only one refused.
    const ask = engine.submit(sellYes(4600, 100), 2);
    expect(ask.ok && ask.order.status).toBe('resting');
    const bid = engine.submit(buyYes(4700, 100), 3);
    expect(bid.ok && bid.order).toMatchObject({ status: 'canceled', lastUpdateReason: 'SelfTradeCancel', filledCenti: 0 });
    expect(engine.submit(buyYes(4600, 100, { postOnly: true }), 4)).toMatchObject({ ok: false, reason: 'post_only_cross' });
    expect(engine.submit(buyYes(4500, 100, { postOnly: true }), 4).ok).toBe(true);
    // 5 at 0.50 would be there, but only past our own 0.46 ask: fill-or-kill finds nothing it may take.
    expect(engine.submit(buyYes(5000, 500, { timeInForce: 'fill_or_kill' }), 5)).toMatchObject({ order: { lastUpdateReason: 'FillOrKillCancel' } });
    expect(fills).toHaveLength(1);
  });

  it('a closing order nets against the position only once', () => {
    const tracker = new PositionTracker({ cashMicros: 6_000_000 });
    const { engine } = setup({ tracker });
    engine.submit(buyYes(5100, 1_000, { timeInForce: 'immediate_or_cancel' }), 0); // 5 @ 0.50 + 5 @ 0.51
    expect(tracker.positionCenti(engine.marketIndex)).toBe(1_000);
    // Selling the 10 YES needs no collateral; a second sell of 10 would open NO and needs 10 × 0.55.
    expect(engine.submit(sellYes(5500, 1_000), 1).ok).toBe(true);
    expect(engine.submit(sellYes(5500, 1_000), 1)).toMatchObject({ ok: false, reason: 'insufficient_balance' });
  });
});

describe('resting orders', () => {
  it('conservative queue: reductions come from behind until the level is smaller than the queue ahead', () => {
    const { engine, fills, delta } = setup();
    const r = engine.submit(buyYes(4000, 300), 0); // joins 10 contracts at 0.40
    if (!r.ok) throw new Error('rejected');
    expect(r.order.queueAheadCenti).toBe(1_000);
    expect([engine.restingCenti('bid'), engine.restingCenti('ask')]).toEqual([300, 0]);
    delta('yes', 4000, 500); // joins behind us
    delta('yes', 4000, -700); // 15 → 8: from behind, but only 8 left, so at most 8 ahead
    expect(r.order.queueAheadCenti).toBe(800);
    delta('yes', 4000, -800); // level empties: the queue ahead is gone
    expect(r.order.queueAheadCenti).toBe(0);
    expect(fills).toHaveLength(0);
    delta('yes', 4000, 400);
    delta('yes', 4000, -100); // the level keeps trading down: through us first
    expect(fills).toEqual([{ id: r.order.id, price: 4000, count: 100, taker: false, ts: 1 }]);
    delta('yes', 4000, -300);
    expect(r.order.status).toBe('executed');
    expect(engine.restingCount).toBe(0);
  });

  it('refuses public trades that are not trades (no size, no price, no side) and moves no queue', () => {
    const { engine, fills } = setup();
    const r = engine.submit(buyYes(4000, 300), 0);
    if (!r.ok) throw new Error('rejected');
    const bad: [unknown, unknown, unknown, unknown][] = [
      [4000, -300, 'no', 1], // a negative trade would push us back in the queue
      [4000, 0, 'no', 1],
      [4000, 1.5, 'no', 1],
      [0, 100, 'no', 1],
      [10_000, 100, 'no', 1],
      [4000, 100, 'NO', 1],
      [4000, 100, 'no', Number.NaN],
      [null, undefined, undefined, undefined],
    ];
    for (const args of bad) {
      const message = invalidArgument(() => (engine.onTrade as (...a: unknown[]) => void)(...args));
      expect(message, JSON.stringify(args)).toMatch(/public trade/);
      expect(r.order.queueAheadCenti).toBe(1_000);
    }
    expect(fills).toHaveLength(0);
    engine.onTrade(4000, 1_100, 'no', 1); // a real trade through the 10 ahead fills 1 of ours
    expect(fills.map((f) => f.count)).toEqual([100]);
  });

  it('proportional queue: reductions are shared pro rata', () => {
    const { engine, delta } = setup({ queueModel: 'proportional' });
    const r = engine.submit(buyYes(4000, 300), 0);
    if (!r.ok) throw new Error('rejected');
    delta('yes', 4000, 1_000); // 20 at the level, 10 ahead of us
    delta('yes', 4000, -500); // 20 → 15: ahead 10 × 15/20
    expect(r.order.queueAheadCenti).toBe(750);
  });

  it('public trades at the price fill beyond the queue ahead, without double counting the book update', () => {
    const { engine, fills, trade, delta } = setup({ queueModel: 'proportional' });
    const r = engine.submit(buyYes(4000, 300), 0);
    if (!r.ok) throw new Error('rejected');
    trade(4000, 1_100, 'no'); // a NO taker hits YES bids at 0.40: 10 ahead, 1 for us
    expect(fills.map((f) => [f.price, f.count, f.taker])).toEqual([[4000, 100, false]]);
    expect(r.order.queueAheadCenti).toBe(0);
    delta('yes', 4000, -1_000); // the book reports the same trade: no second fill
    expect(fills).toHaveLength(1);
    delta('yes', 4000, 500);
    delta('yes', 4000, -100); // a new reduction trades through us
    expect(fills).toHaveLength(2);
    // A trade on the other side does nothing to our bid.
    trade(4000, 5_000, 'yes');
    expect(fills).toHaveLength(2);
  });

  it('fills as maker at its own price when the opposite side crosses it', () => {
    const { engine, fills, delta } = setup();
    const r = engine.submit(buyYes(4500, 1_000), 0); // inside the spread: nothing ahead
    if (!r.ok) throw new Error('rejected');
    expect(r.order.queueAheadCenti).toBe(0);
    delta('no', 5600, 400); // a NO bid at 0.56 = YES ask 0.44 crosses our 0.45 bid
    expect(fills).toEqual([{ id: r.order.id, price: 4500, count: 400, taker: false, ts: 1 }]);
    delta('no', 5500, 300); // still crossing at 0.45
    expect(fills.at(-1)).toMatchObject({ price: 4500, count: 300 });
    delta('no', 5600, 100); // only the new 1 contract at 0.56 is fresh liquidity
    expect(fills.at(-1)).toMatchObject({ count: 100 });
    expect(r.order.remainingCenti).toBe(200);
  });

  it('a fresh snapshot caps the queue ahead and what we consumed at each level', () => {
    const { engine, book, fills } = setup();
    const r = engine.submit(buyYes(3900, 100), 0); // 20 ahead at 0.39
    if (!r.ok) throw new Error('rejected');
    engine.submit(buyYes(5000, 500, { timeInForce: 'immediate_or_cancel' }), 0); // consumes the 5 at 0.50
    const snapshot = (no5000: number) =>
      replayEvent(engine, book, {
        kind: 'snapshot',
        ticker: T,
        tsMs: 1,
        yes: [[3900, 300]],
        no: [[5000, no5000]],
      });
    snapshot(200);
    expect(r.order.queueAheadCenti).toBe(300);
    engine.submit(buyYes(5000, 500, { timeInForce: 'immediate_or_cancel' }), 2);
    expect(fills.reduce((a, f) => a + f.count, 0)).toBe(500); // the 2 left are the ones we already took
    snapshot(800);
    engine.submit(buyYes(5000, 1_000, { timeInForce: 'immediate_or_cancel' }), 3);
    expect(fills.reduce((a, f) => a + f.count, 0)).toBe(1_100); // 8 − 2 still taken = 6 new
  });

  it('a snapshot moves queues and fills exactly as the same change sent as deltas (one rule for replay and live)', () => {
    const run = (asSnapshot: boolean) => {
      const { engine, fills, delta, book } = setup();
      const r = engine.submit(buyYes(4000, 500), 0); // 10 ahead at 0.40
      if (!r.ok) throw new Error('rejected');
      delta('yes', 4000, -1_000); // the 10 ahead leave: we are at the front of an empty level
      delta('yes', 4000, 800);
      // A resync reports 0.40 down to 3 (5 traded through us), 0.39 gone and a new NO bid at 0.52.
      if (asSnapshot) {
        replayEvent(engine, book, { kind: 'snapshot', ticker: T, tsMs: 2, yes: [[4000, 300]], no: [[4800, 3_000], [4900, 1_000], [5000, 500], [5200, 100]] });
      } else {
        delta('yes', 3900, -2_000, 2);
        delta('yes', 4000, -500, 2);
        delta('no', 5200, 100, 2);
      }
      return { fills: fills.map((f) => [f.price, f.count, f.taker]), order: [r.order.filledCenti, r.order.queueAheadCenti] };
    };
    const viaSnapshot = run(true);
    expect(viaSnapshot).toEqual({ fills: [[4000, 500, false]], order: [500, 0] });
    expect(run(false)).toEqual(viaSnapshot);
  });

  it('charges maker fees on maker-fee series', () => {
    const { engine, tracker, delta } = setup({ fees: { feeType: 'quadratic_with_maker_fees' } });
    engine.submit(buyYes(4500, 10_000), 0);
    delta('no', 5500, 10_000);
    expect(tracker.market(engine.marketIndex).feesPaidMicros).toBe(433_200); // 0.0175 × 100 × 0.45 × 0.55 ↑
  });

  it('decrease keeps the queue position; amend re-queues at the new price; cancel', () => {
    const { engine, delta } = setup();
    const r = engine.submit(buyYes(4000, 500), 0);
    if (!r.ok) throw new Error('rejected');
    delta('yes', 4000, -400);
    expect(r.order.queueAheadCenti).toBe(600);
    expect(engine.decrease(r.order.id, 200, 1).ok).toBe(true);
    expect(r.order).toMatchObject({ remainingCenti: 200, queueAheadCenti: 600, initialCenti: 500, lastUpdateReason: 'Decrease' });
    expect(engine.amend(r.order.id, 3900, 400, 1).ok).toBe(true);
    expect(r.order).toMatchObject({ priceUnits: 3900, remainingCenti: 400, queueAheadCenti: 2_000, status: 'resting' });
    expect(engine.amend(r.order.id, 5000, 600, 1)).toMatchObject({ ok: true }); // crosses: takes the 5 at 0.50 now
    expect(r.order).toMatchObject({ status: 'resting', filledCenti: 500, remainingCenti: 100, takerFillCostMicros: 500 * 5000 });
    expect(engine.cancel(r.order.id, 2).ok).toBe(true);
    expect(r.order.status).toBe('canceled');
    expect(engine.cancel(r.order.id, 2)).toMatchObject({ ok: false, reason: 'order_not_found' });
    expect(engine.restingCount).toBe(0);
  });

  it('settlement cancels open orders and pays out', () => {
    const { engine, tracker } = setup();
    engine.submit(buyNo(6000, 200, { timeInForce: 'immediate_or_cancel' }), 0); // hits the YES 0.40 bid → 2 NO @ 0.60
    const rest = engine.submit(buyYes(3000, 100), 0);
    const rec = engine.settle('no', 0, 5);
    expect(rest.ok && rest.order.status).toBe('canceled');
    expect(rec.revenueMicros).toBe(2_000_000);
    expect(tracker.reservedMicros).toBe(0);
    expect(engine.submit(buyYes(3000, 100), 6)).toMatchObject({ reason: 'market_settled' });
  });
});

describe('latency', () => {
  it('orders reach the book after the latency; events in between do not touch them', () => {
    const { engine, fills, delta } = setup({ latency: { baseMs: 100 } });
    const r = engine.submit(buyYes(5000, 500, { timeInForce: 'immediate_or_cancel' }), 1_000);
    if (!r.ok) throw new Error('rejected');
    expect(r.order.status).toBe('pending');
    delta('no', 5000, -300, 1_050); // before arrival: only 2 contracts left at 0.50
    expect(fills).toHaveLength(0);
    delta('no', 4900, 100, 1_100); // arrival is processed before this event is applied
    expect(fills.map((f) => [f.price, f.count, f.ts])).toEqual([[5000, 200, 1_100]]);
  });

  it('a cancel takes effect only after the latency: the order can fill meanwhile', () => {
    const { engine, fills, delta } = setup({ latency: { baseMs: 10 } });
    const r = engine.submit(buyYes(4500, 500), 0);
    if (!r.ok) throw new Error('rejected');
    engine.advanceTo(10);
    expect(r.order.status).toBe('resting');
    engine.cancel(r.order.id, 20);
    delta('no', 5500, 200, 25); // crosses before the cancel lands at 30
    delta('no', 5500, 200, 31);
    expect(fills.map((f) => f.count)).toEqual([200]);
    expect(r.order.status).toBe('canceled');
  });

  it('is deterministic for a seed', () => {
    const run = (seed: number) => {
      const { engine, fills, delta } = setup({ latency: { baseMs: 5, jitterMs: 50 }, rng: createRng(seed) });
      for (let i = 0; i < 20; i++) {
        engine.submit(buyYes(4500, 100), i * 10);
        delta('no', 5500, 50, i * 10 + 7);
      }
      return fills.map((f) => `${f.id}:${f.count}@${f.ts}`).join(',');
    };
    expect(run(1)).toBe(run(1));
    expect(run(1)).not.toBe(run(2));
  });
});

describe('properties', () => {
  it('taker orders never fill more than the visible size they could reach, and never change the book', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ bid: fc.boolean(), cents: fc.integer({ min: 1, max: 99 }), count: fc.integer({ min: 1, max: 5_000 }) }),
          { maxLength: 20 },
        ),
        (orders) => {
          const { engine, fills, book } = setup();
          const before = book.clone();
          const visible = { bid: book.totalDepth('no'), ask: book.totalDepth('yes') };
          for (const o of orders) {
            const price = o.cents * 100;
            engine.submit(o.bid ? buyYes(price, o.count, { timeInForce: 'immediate_or_cancel' }) : sellYes(price, o.count, { timeInForce: 'immediate_or_cancel' }), 0);
          }
          const byBid = fills.filter((f) => f.price >= 5000).reduce((a, f) => a + f.count, 0);
          const byAsk = fills.filter((f) => f.price <= 4000).reduce((a, f) => a + f.count, 0);
          expect(byBid).toBeLessThanOrEqual(visible.bid);
          expect(byAsk).toBeLessThanOrEqual(visible.ask);
          expect(book.equals(before)).toBe(true);
        },
      ),
    );
  });

  it('resting orders fill at most their size and the account stays consistent under random event streams', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('order' as const), bid: fc.boolean(), cents: fc.integer({ min: 35, max: 55 }), count: fc.integer({ min: 1, max: 2_000 }) }),
            fc.record({ kind: fc.constant('delta' as const), yes: fc.boolean(), cents: fc.integer({ min: 35, max: 55 }), d: fc.integer({ min: -3_000, max: 3_000 }) }),
            fc.record({ kind: fc.constant('trade' as const), yes: fc.boolean(), cents: fc.integer({ min: 35, max: 55 }), n: fc.integer({ min: 1, max: 3_000 }) }),
          ),
          { maxLength: 60 },
        ),
        fc.constantFrom('conservative', 'proportional' as const),
        (steps, queueModel) => {
          const { engine, fills, book, tracker } = setup({ queueModel });
          const orders = new Map<number, number>();
          let t = 0;
          for (const s of steps) {
            t++;
            if (s.kind === 'order') {
              const r = engine.submit(s.bid ? buyYes(s.cents * 100, s.count) : sellYes(s.cents * 100, s.count), t);
              if (r.ok) orders.set(r.order.id, s.count);
            } else if (s.kind === 'delta') {
              const side = s.yes ? 'yes' : 'no';
              const price = s.yes ? s.cents * 100 : 10_000 - s.cents * 100;
              const size = book.sizeAtPrice(side, price);
              const d = s.d < 0 ? Math.max(s.d, -size) : s.d;
              const event: BookEvent = { kind: 'delta', ticker: T, tsMs: t, side, priceUnits: price, deltaCenti: d };
              if (d !== 0 && !wouldCross(book, side, price, d)) replayEvent(engine, book, event);
            } else {
              replayEvent(engine, book, { kind: 'trade', ticker: T, tsMs: t, yesPriceUnits: s.cents * 100, countCenti: s.n, takerSide: s.yes ? 'yes' : 'no' });
            }
          }
          const filled = new Map<number, number>();
          for (const f of fills) filled.set(f.id, (filled.get(f.id) ?? 0) + f.count);
          for (const [id, n] of filled) expect(n).toBeLessThanOrEqual(orders.get(id)!);
          expect(tracker.reservedMicros).toBeGreaterThanOrEqual(0);
          expect(tracker.availableMicros).toBeGreaterThanOrEqual(0);
          engine.cancelAll(t);
          expect(tracker.reservedMicros).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});

function wouldCross(book: OrderBook, side: 'yes' | 'no', price: number, d: number): boolean {
  if (d < 0) return false;
  const other = book.bestBid(side === 'yes' ? 'no' : 'yes');
  return other >= 0 && other + price >= 10_000;
}

describe('per-market accounts (marketCashMicros)', () => {
  /** The same book as `setup`: YES bids 0.40 ×10, 0.39 ×20; NO bids 0.50 ×5, 0.49 ×10, 0.48 ×30. */
  function freshBook(ticker: string): OrderBook {
    const book = new OrderBook(ticker);
    book.applySnapshot(
      [
        [3900, 2_000],
        [4000, 1_000],
      ],
      [
        [4800, 3_000],
        [4900, 1_000],
        [5000, 500],
      ],
    );
    return book;
  }

  type FillRow = [id: number, price: number, count: number, taker: boolean, ts: number];

  /** One engine over its own copy of the book, logging its fills. */
  function engineOn(ticker: string, tracker: PositionTracker, options: Partial<MatchingEngineOptions> = {}) {
    const book = freshBook(ticker);
    const fills: FillRow[] = [];
    const engine = createMatchingEngine({
      ticker,
      book,
      tracker,
      onFill: (order, price, count, taker, _outcome, ts) => fills.push([order.id, price, count, taker, ts]),
      ...options,
    });
    return { book, engine, fills };
  }
  type Run = ReturnType<typeof engineOn>;

  const tif = fc.constantFrom('good_till_canceled' as const, 'good_till_canceled' as const, 'immediate_or_cancel' as const, 'fill_or_kill' as const);
  const stepArb = (markets: number) =>
    fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({
          kind: fc.constant('order' as const),
          m: fc.nat(markets - 1),
          bid: fc.boolean(),
          cents: fc.integer({ min: 30, max: 60 }),
          count: fc.integer({ min: 1, max: 2_500 }),
          tif,
          postOnly: fc.constantFrom(false, false, true),
          reduceOnly: fc.constantFrom(false, false, false, true),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), m: fc.nat(markets - 1), pick: fc.nat() }) },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('amend' as const),
          m: fc.nat(markets - 1),
          pick: fc.nat(),
          cents: fc.integer({ min: 30, max: 60 }),
          count: fc.integer({ min: 1, max: 2_500 }),
        }),
      },
      {
        weight: 4,
        arbitrary: fc.record({
          kind: fc.constant('delta' as const),
          m: fc.nat(markets - 1),
          yes: fc.boolean(),
          cents: fc.integer({ min: 30, max: 60 }),
          d: fc.integer({ min: -3_000, max: 3_000 }),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('trade' as const),
          m: fc.nat(markets - 1),
          yes: fc.boolean(),
          cents: fc.integer({ min: 30, max: 60 }),
          n: fc.integer({ min: 1, max: 3_000 }),
        }),
      },
    );
  type Step = typeof stepArb extends (n: number) => fc.Arbitrary<infer S> ? S : never;
  const settlementArb = fc.oneof(
    fc.constant({ result: 'yes' as const, payout: 10_000 }),
    fc.constant({ result: 'no' as const, payout: 0 }),
    fc.constant({ result: 'void' as const, payout: 0 }),
    fc.integer({ min: 0, max: 10_000 }).map((payout) => ({ result: 'scalar' as const, payout })),
  );

  /**
   * Applies one step to every run given (the same orders and events to each), and returns what each
   * order action answered (`ok` or the refusal reason) so the caller can compare the runs.
   */
  function applyStep(runs: readonly Run[], s: Step, t: number): string[] {
    const first = runs[0]!;
    switch (s.kind) {
      case 'order': {
        const request = (s.bid ? buyYes : sellYes)(s.cents * 100, s.count, { timeInForce: s.tif, postOnly: s.postOnly, reduceOnly: s.reduceOnly });
        return runs.map((r) => {
          const res = r.engine.submit(request, t);
          return res.ok ? `ok:${res.order.id}` : res.reason;
        });
      }
      case 'cancel':
      case 'amend': {
        const open = first.engine.openOrders();
        const target = open[s.pick % Math.max(open.length, 1)];
        if (target === undefined) return [];
        // Read before acting: the first run's order changes as soon as it is amended.
        const { id, filledCenti } = target;
        return runs.map((r) => {
          const res = s.kind === 'cancel' ? r.engine.cancel(id, t) : r.engine.amend(id, s.cents * 100, filledCenti + s.count, t);
          return res.ok ? `ok:${res.order.id}` : res.reason;
        });
      }
      case 'delta': {
        const side = s.yes ? 'yes' : 'no';
        const price = s.yes ? s.cents * 100 : 10_000 - s.cents * 100;
        const size = first.book.sizeAtPrice(side, price);
        const d = s.d < 0 ? Math.max(s.d, -size) : s.d;
        if (d === 0 || wouldCross(first.book, side, price, d)) return [];
        for (const r of runs) replayEvent(r.engine, r.book, { kind: 'delta', ticker: r.engine.ticker, tsMs: t, side, priceUnits: price, deltaCenti: d });
        return [];
      }
      case 'trade':
        for (const r of runs) {
          replayEvent(r.engine, r.book, { kind: 'trade', ticker: r.engine.ticker, tsMs: t, yesPriceUnits: s.cents * 100, countCenti: s.n, takerSide: s.yes ? 'yes' : 'no' });
        }
        return [];
    }
  }

  /** A market's account numbers in a tracker (what a tracker holding only this market would show). */
  function account(r: Run) {
    const m = r.engine.tracker.market(r.engine.marketIndex);
    return {
      positionCenti: m.positionCenti,
      costMicros: m.costMicros,
      realizedPnlMicros: m.realizedPnlMicros,
      feesPaidMicros: m.feesPaidMicros,
      volumeCenti: m.volumeCenti,
      settlement: m.settlement,
    };
  }

  it('two markets sharing a tracker each hold exactly the cash of the same market traded alone (property)', () => {
    const seen = { refusals: 0, fills: 0 };
    fc.assert(
      fc.property(
        fc.integer({ min: 200_000, max: 30_000_000 }),
        fc.array(stepArb(2), { maxLength: 60 }),
        fc.constantFrom(undefined, { baseMs: 3 }),
        fc.constantFrom('conservative' as const, 'proportional' as const),
        fc.tuple(settlementArb, settlementArb),
        (cash, steps, latency, queueModel, settlements) => {
          const common = { queueModel, ...(latency === undefined ? {} : { latency }) };
          const shared = new PositionTracker({ cashMicros: 2 * cash }); // both markets' deposits
          const tickers = ['MKT-A', 'MKT-B'];
          const inShared = tickers.map((ticker) => engineOn(ticker, shared, { ...common, marketCashMicros: cash }));
          const alone = tickers.map((ticker) => engineOn(ticker, new PositionTracker({ cashMicros: cash }), common));
          const check = (where: string) => {
            for (let m = 0; m < 2; m++) {
              const s = inShared[m]!;
              const a = alone[m]!;
              expect(s.engine.cashMicros, where).toBe(a.engine.tracker.cashMicros);
              expect(s.engine.cashMicros, where).toBe(a.engine.cashMicros);
              expect(s.engine.availableMicros, where).toBe(a.engine.availableMicros);
              expect(account(s), where).toEqual(account(a));
              expect(s.fills, where).toEqual(a.fills);
              expect(s.engine.openOrders().map((o) => [o.id, o.status, o.remainingCenti]), where).toEqual(
                a.engine.openOrders().map((o) => [o.id, o.status, o.remainingCenti]),
              );
            }
            // The shared account: the deposits plus both markets' cash flows, and both markets' reservations.
            const flows = alone.reduce((sum, a) => sum + (a.engine.tracker.cashMicros - cash), 0);
            expect(shared.cashMicros, where).toBe(2 * cash + flows);
            expect(shared.reservedMicros, where).toBe(alone.reduce((sum, a) => sum + a.engine.tracker.reservedMicros, 0));
          };
          let t = 0;
          for (const s of steps) {
            t += 1 + (s.m === 0 ? 0 : 1);
            const answers = applyStep([inShared[s.m]!, alone[s.m]!], s, t);
            if (answers.length > 0) expect(answers[0], `step ${t} ${JSON.stringify(s)}`).toBe(answers[1]);
            if (answers[0] === 'insufficient_balance') seen.refusals++;
            check(`after step ${t} ${JSON.stringify(s)}`);
          }
          t++;
          for (let m = 0; m < 2; m++) {
            const { result, payout } = settlements[m]!;
            expect(inShared[m]!.engine.settle(result, payout, t)).toEqual(alone[m]!.engine.settle(result, payout, t));
          }
          check('after settlement');
          expect(shared.reservedMicros).toBe(0);
          seen.fills += alone[0]!.fills.length + alone[1]!.fills.length;
        },
      ),
      { numRuns: 250 },
    );
    expect(seen.refusals).toBeGreaterThan(0);
    expect(seen.fills).toBeGreaterThan(0);
  });

  it('with one market, marketCashMicros equal to the tracker’s cash changes nothing (property)', () => {
    const seen = { refusals: 0, fills: 0 };
    fc.assert(
      fc.property(
        fc.integer({ min: 100_000, max: 30_000_000 }),
        fc.array(stepArb(1), { maxLength: 60 }),
        fc.constantFrom(undefined, { baseMs: 3 }),
        (cash, steps, latency) => {
          const common = latency === undefined ? {} : { latency };
          const withAccount = engineOn(T, new PositionTracker({ cashMicros: cash }), { ...common, marketCashMicros: cash });
          const plain = engineOn(T, new PositionTracker({ cashMicros: cash }), common);
          let t = 0;
          for (const s of steps) {
            t++;
            const answers = applyStep([withAccount, plain], s, t);
            if (answers.length > 0) expect(answers[0]).toBe(answers[1]);
            if (answers[0] === 'insufficient_balance') seen.refusals++;
            expect(withAccount.fills).toEqual(plain.fills);
            expect(withAccount.engine.tracker.state()).toEqual(plain.engine.tracker.state());
            expect(withAccount.engine.cashMicros).toBe(plain.engine.cashMicros);
            expect(withAccount.engine.availableMicros).toBe(plain.engine.availableMicros);
          }
          seen.fills += plain.fills.length;
        },
      ),
      { numRuns: 200 },
    );
    // The runs exercised both outcomes the property compares.
    expect(seen.refusals).toBeGreaterThan(0);
    expect(seen.fills).toBeGreaterThan(0);
  });

  it('refuses an order larger than the market’s own cash even when the shared tracker has plenty, changing nothing', () => {
    const tracker = new PositionTracker({ cashMicros: 1_000_000_000 }); // $1,000 shared
    const { engine, fills } = engineOn(T, tracker, { marketCashMicros: 1_000_000 }); // $1 for this market
    expect(engine.cashMicros).toBe(1_000_000);
    expect(engine.availableMicros).toBe(1_000_000);
    const before = { state: tracker.state(), available: engine.availableMicros, cash: engine.cashMicros };
    const tooBig = engine.submit(buyYes(4000, 300), 0); // $1.20 > $1
    expect(tooBig).toMatchObject({ ok: false, reason: 'insufficient_balance' });
    expect(engine.validate(buyYes(4000, 300))).toMatchObject({ ok: false, reason: 'insufficient_balance' });
    expect(tracker.state()).toEqual(before.state);
    expect(engine.openOrderCount).toBe(0);
    expect(engine.availableMicros).toBe(before.available);
    expect(engine.cashMicros).toBe(before.cash);
    // The same order passes in an engine without its own account on the same tracker.
    const other = createMatchingEngine({ ticker: 'OTHER', book: freshBook('OTHER'), tracker });
    expect(other.validate(buyYes(4000, 300))).toBeUndefined();
    // What fits is accepted, and its reservation counts against this market's account only.
    const fits = engine.submit(buyYes(4000, 200), 0); // $0.80 + fee bound
    expect(fits.ok).toBe(true);
    expect(engine.availableMicros).toBeLessThan(200_000);
    expect(tracker.availableMicros).toBeGreaterThan(998_000_000);
    expect(engine.submit(buyYes(3000, 100), 0)).toMatchObject({ ok: false, reason: 'insufficient_balance' }); // $0.30 > what is left
    expect(other.submit(buyYes(3000, 100), 0).ok).toBe(true);
    // An amend that would outgrow the account is refused too, and leaves the order as it was.
    if (!fits.ok) return;
    const reservedBefore = tracker.reservedMicros;
    expect(engine.amend(fits.order.id, 4000, 400, 1)).toMatchObject({ ok: false, reason: 'insufficient_balance' });
    expect(fits.order).toMatchObject({ status: 'resting', remainingCenti: 200, priceUnits: 4000 });
    expect(tracker.reservedMicros).toBe(reservedBefore);
    expect(fills).toHaveLength(0);
  });

  it('refuses exactly what the market would refuse alone, whatever the shared cash (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5_000_000 }),
        fc.integer({ min: 0, max: 1_000_000_000 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 99 }),
        fc.integer({ min: 1, max: 3_000 }),
        (cash, extra, bid, cents, count) => {
          const tracker = new PositionTracker({ cashMicros: cash + extra });
          const inShared = engineOn(T, tracker, { marketCashMicros: cash });
          const alone = engineOn(T, new PositionTracker({ cashMicros: cash }));
          const request = (bid ? buyYes : sellYes)(cents * 100, count);
          const before = tracker.state();
          const a = inShared.engine.submit(request, 0);
          const b = alone.engine.submit(request, 0);
          expect(a.ok ? 'ok' : a.reason).toBe(b.ok ? 'ok' : b.reason);
          if (!a.ok) {
            expect(tracker.state()).toEqual(before);
            expect(inShared.engine.openOrderCount).toBe(0);
          }
          expect(inShared.engine.cashMicros).toBe(alone.engine.tracker.cashMicros);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('validates marketCashMicros', () => {
    for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
      expect(() => engineOn(T, new PositionTracker({ cashMicros: 0 }), { marketCashMicros: bad }), String(bad)).toThrow(/marketCashMicros/);
    }
    // Without it the engine reports the tracker's cash.
    const tracker = new PositionTracker({ cashMicros: 5_000_000 });
    const { engine } = engineOn(T, tracker);
    engine.submit(buyYes(5000, 100, { timeInForce: 'immediate_or_cancel' }), 0);
    expect(engine.cashMicros).toBe(tracker.cashMicros);
    expect(engine.cashMicros).toBeLessThan(5_000_000 - 500_000);
    expect(engine.availableMicros).toBe(tracker.availableMicros);
  });

  it('writePositionFeatures reports the market account’s cash, not the shared tracker’s', () => {
    const tracker = new PositionTracker({ cashMicros: 100_000_000 });
    const { engine, book } = engineOn(T, tracker, { marketCashMicros: 10_000_000 });
    const out = createPositionFeatures(1_000);
    expect(writePositionFeatures(engine, out)).toMatchObject({ cashMicros: 10_000_000, portfolioValueMicros: 10_000_000 });
    engine.submit(buyYes(5000, 200, { timeInForce: 'immediate_or_cancel' }), 0); // 2 YES @ 0.50
    const fee = tracker.market(engine.marketIndex).feesPaidMicros;
    expect(fee).toBe(35_000); // 0.07 × 2 × 0.5 × 0.5 = 0.035
    const mid = book.mid(); // 0.45 after nothing changed in the recorded book
    writePositionFeatures(engine, out);
    expect(out).toEqual({
      positionCenti: 200,
      positionLimitCenti: 1_000,
      unrealizedPnlMicros: 200 * mid - 200 * 5000,
      cashMicros: 10_000_000 - 200 * 5000 - fee,
      portfolioValueMicros: 10_000_000 - 200 * 5000 - fee + 200 * mid,
      restingBidCenti: 0,
      restingAskCenti: 0,
    });
    expect(tracker.cashMicros).toBe(100_000_000 - 200 * 5000 - fee);
    // The same engine without an own account would report the tracker's cash.
    const plain = createMatchingEngine({ ticker: 'OTHER', book: freshBook('OTHER'), tracker });
    expect(writePositionFeatures(plain, createPositionFeatures(1_000)).cashMicros).toBe(tracker.cashMicros);
  });
});
