import { createRng, createSharedOrderbookState, isKflowError, parseFrame } from '@kflow/orderbook';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { invalidArgument } from './errors.testing';
import type { PaperErrorCodeWire, UserEvent } from './kalshiTypes';
import { type PaperClientOptions, createPaperClient } from './paperClient';
import { createPositionFeatures } from './positionFeatures';

const T = 'KXTEST-26JAN01-B50';

/** YES bids 0.40 ×10, 0.39 ×20; NO bids 0.55 ×5, 0.54 ×10 (YES asks 0.45, 0.46). */
function setup(options: Partial<PaperClientOptions> = {}) {
  const state = createSharedOrderbookState();
  state.applyEvent({
    kind: 'snapshot',
    ticker: T,
    tsMs: 0,
    yes: [
      [3900, 2_000],
      [4000, 1_000],
    ],
    no: [
      [5400, 1_000],
      [5500, 500],
    ],
  });
  let now = 1_750_000_000_000;
  const clock = { now: () => now };
  const client = createPaperClient({ mode: 'paper', state, clock, rng: createRng(3), cashMicros: 100_000_000, ...options });
  const events: UserEvent[] = [];
  client.subscribe((e) => events.push(e));
  const delta = (side: 'yes' | 'no', priceUnits: number, deltaCenti: number) =>
    state.applyEvent({ kind: 'delta', ticker: T, tsMs: now, side, priceUnits, deltaCenti });
  const tick = (ms: number) => {
    now += ms;
  };
  return { state, client, events, delta, tick, clock };
}

describe('paper client', () => {
  it('refuses any mode but paper', () => {
    for (const mode of ['live', 'training', 'LIVE', '']) {
      try {
        setup({ mode });
        expect.unreachable();
      } catch (e) {
        expect(isKflowError(e, 'LIVE_MODE_FORBIDDEN')).toBe(true);
      }
    }
  });

  it('takes liquidity with a V2 order and reports Kalshi-shaped results', () => {
    const { client, events } = setup();
    const r = client.createOrder({ ticker: T, side: 'bid', price: '0.4600', count: '7.00', time_in_force: 'immediate_or_cancel', client_order_id: 'a1' });
    expect(r).toMatchObject({ ok: true, status: 201 });
    if (!r.ok) return;
    expect(r.body).toMatchObject({ client_order_id: 'a1', fill_count: '7.00', remaining_count: '0.00', average_fill_price: '0.452857' });
    const fills = client.getFills();
    if (!fills.ok) return;
    // Newest first. Fees: 0.07 × 2 × 0.46 × 0.54 = 0.034776 → 0.0348; 0.07 × 5 × 0.45 × 0.55 = 0.086625 → 0.0867.
    expect(fills.body.fills.map((f) => [f.yes_price_dollars, f.count_fp, f.is_taker, f.fee_cost, f.post_position_fp])).toEqual([
      ['0.4600', '2.00', true, '0.034800', '7.00'],
      ['0.4500', '5.00', true, '0.086700', '5.00'],
    ]);
    const positions = client.getPositions();
    expect(positions.ok && positions.body.market_positions).toEqual([
      expect.objectContaining({ ticker: T, position_fp: '7.00', market_exposure_dollars: '3.170000', fees_paid_dollars: '0.121500' }),
    ]);
    const balance = client.getBalance();
    expect(balance.ok && balance.body.balance_dollars).toBe('96.708500'); // 100 − 3.17 − 0.1215
    // The account numbers the live actor passes to buildObservation.
    expect(client.writePositionFeatures(T, createPositionFeatures(1_000))).toMatchObject({ positionCenti: 700, cashMicros: 96_708_500 });
    expect(() => client.writePositionFeatures('NOPE', createPositionFeatures(1_000))).toThrow(/No market/);
    const order = client.getOrder(r.body.order_id);
    expect(order.ok && order.body.order).toMatchObject({ status: 'executed', fill_count_fp: '7.00', taker_fill_cost_dollars: '3.170000' });
    // Events parse as Kalshi frames.
    expect(events.map((e) => e.type)).toEqual(['fill', 'market_position', 'fill', 'market_position', 'user_order']);
    for (const e of events) expect(parseFrame(e).type).toBe(e.type);
    const lastFill = parseFrame(events[2]);
    expect(lastFill).toMatchObject({ type: 'fill', yesPriceUnits: 4600, countCenti: 200, postPositionCenti: 700, feeMicros: 34_800 });
  });

  it('accepts V1 bodies: sell YES from flat buys NO and costs collateral', () => {
    const { client } = setup();
    const r = client.createOrder({ ticker: T, side: 'yes', action: 'sell', count: 3, yes_price: 40, time_in_force: 'immediate_or_cancel' });
    expect(r.ok && r.body.order).toMatchObject({ side: 'yes', action: 'sell', book_side: 'ask', outcome_side: 'no', fill_count_fp: '3.00' });
    const positions = client.getPositions();
    expect(positions.ok && positions.body.market_positions[0]).toMatchObject({ position_fp: '-3.00', market_exposure_dollars: '1.800000' });
    const balance = client.getBalance();
    expect(balance.ok && balance.body.balance).toBeLessThan(10_000 - 180 + 1); // paid $1.80 + fees, never credited
    // Buy NO with a NO price in dollars (= ask at YES 0.40), then sell NO (= bid at YES 1 − 0.55).
    expect(client.createOrder({ ticker: T, side: 'no', action: 'buy', count_fp: '1.50', no_price_dollars: '0.6000', time_in_force: 'immediate_or_cancel' }).ok).toBe(true);
    const sellNo = client.createOrder({ ticker: T, side: 'no', action: 'sell', count: 2, no_price: 55, time_in_force: 'immediate_or_cancel' });
    expect(sellNo.ok && sellNo.body.order).toMatchObject({ book_side: 'bid', yes_price_dollars: '0.4500', fill_count_fp: '2.00' });
    const after = client.getPositions();
    expect(after.ok && after.body.market_positions[0]!.position_fp).toBe('-2.50');
  });

  it('refused requests return Kalshi errors and change nothing', () => {
    const { client } = setup({ cashMicros: 5_000_000 });
    client.createOrder({ ticker: T, side: 'bid', price: '0.3000', count: '1.00', client_order_id: 'taken' });
    const before = client.snapshot();
    const cases: [unknown, number, string][] = [
      [{ ticker: T, side: 'bid', price: '0.3050', count: '1.00' }, 400, 'invalid_price'], // off the cent grid
      [{ ticker: T, side: 'bid', price: '1.5000', count: '1.00' }, 400, 'invalid_price'],
      [{ ticker: T, side: 'bid', price: '0.0000', count: '1.00' }, 400, 'invalid_price'],
      [{ ticker: T, side: 'bid', price: 'abc', count: '1.00' }, 400, 'invalid_price'],
      [{ ticker: T, side: 'bid', price: '0.3000', count: '0.00' }, 400, 'invalid_order'],
      [{ ticker: T, side: 'bid', price: '0.3000', count: '-1' }, 400, 'invalid_order'],
      [{ ticker: T, side: 'bid', price: '0.3000', count: '0.001' }, 400, 'invalid_order'],
      [{ ticker: 'NOPE', side: 'bid', price: '0.3000', count: '1.00' }, 404, 'market_not_found'],
      [{ ticker: T, side: 'bid', price: '0.3000', count: '100.00' }, 400, 'insufficient_balance'],
      [{ ticker: T, side: 'bid', price: '0.4500', count: '1.00', post_only: true }, 400, 'post_only_cross'],
      [{ ticker: T, side: 'bid', price: '0.3000', count: '1.00', client_order_id: 'taken' }, 409, 'order_already_exists'],
      [{ ticker: T, side: 'ask', price: '0.3000', count: '1.00', reduce_only: true }, 400, 'invalid_order'],
      [{ ticker: T, side: 'up', price: '0.3000', count: '1.00' }, 400, 'invalid_parameters'],
      [{ ticker: T, side: 'bid', price: '0.3000', count: '1.00', time_in_force: 'day' }, 400, 'invalid_parameters'],
      [{ ticker: T, side: 'yes', action: 'buy', count: 1, yes_price: 30, no_price: 70 }, 400, 'invalid_order'],
      [{ ticker: T, side: 'yes', action: 'buy', count: 1, yes_price: 130 }, 400, 'invalid_price'],
      [null, 400, 'invalid_parameters'],
    ];
    for (const [body, status, code] of cases) {
      const r = client.createOrder(body);
      expect(r, JSON.stringify(body)).toMatchObject({ ok: false, status, error: { code } });
      expect(client.snapshot()).toEqual(before);
    }
    for (const r of [
      client.cancelOrder('unknown'),
      client.amendOrder('unknown', { ticker: T, side: 'bid', price: '0.3000', count: '1.00' }),
      client.decreaseOrder('unknown', { reduce_by: '1.00' }),
      client.getOrder('unknown'),
    ]) {
      expect(r).toMatchObject({ ok: false, status: 404, error: { code: 'not_found' } });
    }
    const id = client.getOrders().ok ? (client.getOrders() as { body: { orders: { order_id: string }[] } }).body.orders[0]!.order_id : '';
    expect(client.amendOrder(id, { ticker: T, side: 'bid', price: '0.3010', count: '1.00' })).toMatchObject({ error: { code: 'invalid_price' } });
    expect(client.amendOrder(id, { ticker: T, side: 'ask', price: '0.3000', count: '1.00' })).toMatchObject({ error: { code: 'invalid_order' } });
    expect(client.decreaseOrder(id, { reduce_by: '5.00' })).toMatchObject({ error: { code: 'invalid_order' } });
    expect(client.decreaseOrder(id, { reduce_by: '0.50', reduce_to: '0.50' })).toMatchObject({ error: { code: 'invalid_parameters' } });
    expect(client.snapshot()).toEqual(before);
  });

  it('resting orders fill as the live book moves, with queue position', () => {
    const { client, events, delta } = setup();
    const r = client.createOrder({ ticker: T, side: 'bid', price: '0.4000', count: '6.00', client_order_id: 'rest' });
    if (!r.ok) throw new Error('refused');
    const id = r.body.order_id;
    expect(client.getOrder(id)).toMatchObject({ body: { order: { status: 'resting', queue_position_fp: '10.00' } } });
    expect(events.map((e) => e.type)).toEqual(['user_order']);
    delta('yes', 4000, -1_000); // the 10 ahead of us trade or cancel away
    expect(client.getFills().ok && (client.getFills() as { body: { fills: unknown[] } }).body.fills).toHaveLength(0);
    delta('yes', 4000, 500);
    delta('yes', 4000, -300); // trading down through the front of the queue: us
    const fills = client.getFills();
    expect(fills.ok && fills.body.fills.map((f) => [f.count_fp, f.is_taker, f.yes_price_dollars])).toEqual([['3.00', false, '0.4000']]);
    delta('yes', 4000, -200); // the level empties: 2 more through us
    expect(client.getOrder(id)).toMatchObject({ body: { order: { status: 'resting', fill_count_fp: '5.00' } } });
    delta('no', 6000, 500); // a NO bid at 0.60 (YES ask 0.40) crosses our bid: the last contract fills as maker
    expect(client.getOrder(id)).toMatchObject({ body: { order: { status: 'executed', fill_count_fp: '6.00', maker_fill_cost_dollars: '2.400000' } } });
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'fill')).toHaveLength(3);
    expect(types.at(-1)).toBe('user_order');
    for (const e of events) expect(parseFrame(e).type).toBe(e.type);
  });

  it('cancel, decrease and amend', () => {
    const { client } = setup();
    const r = client.createOrder({ ticker: T, side: 'bid', price: '0.3500', count: '5.00' });
    if (!r.ok) throw new Error('refused');
    const id = r.body.order_id;
    expect(client.decreaseOrder(id, { reduce_by: '1.00' })).toMatchObject({ ok: true, body: { remaining_count: '4.00' } });
    expect(client.decreaseOrder(id, { reduce_to: '3.00' })).toMatchObject({ ok: true, body: { remaining_count: '3.00' } });
    expect(client.amendOrder(id, { ticker: T, side: 'bid', price: '0.3600', count: '6.00', updated_client_order_id: 'new-id' })).toMatchObject({
      ok: true,
      body: { remaining_count: '6.00', fill_count: '0.00' },
    });
    expect(client.getOrder(id)).toMatchObject({ body: { order: { yes_price_dollars: '0.3600', client_order_id: 'new-id' } } });
    expect(client.getOrders({ status: 'resting' })).toMatchObject({ body: { orders: [{ order_id: id }] } });
    const balanceWhileResting = client.getBalance();
    expect(balanceWhileResting.ok && balanceWhileResting.body.balance).toBeLessThan(10_000); // held back for the order
    expect(client.cancelOrder(id)).toMatchObject({ ok: true, body: { reduced_by: '6.00' } });
    expect(client.getOrder(id)).toMatchObject({ body: { order: { status: 'canceled', remaining_count_fp: '0.00' } } });
    expect(client.cancelOrder(id)).toMatchObject({ ok: false, status: 404 });
    expect(client.getBalance()).toMatchObject({ body: { balance: 10_000 } });
  });

  it('orders arrive after the configured latency', () => {
    const { client, tick } = setup({ latency: { baseMs: 200 } });
    const r = client.createOrder({ ticker: T, side: 'bid', price: '0.4500', count: '1.00', time_in_force: 'immediate_or_cancel' });
    expect(r).toMatchObject({ ok: true, body: { fill_count: '0.00', remaining_count: '1.00' } });
    tick(199);
    expect(client.getFills()).toMatchObject({ body: { fills: [] } });
    tick(1);
    expect(client.getFills()).toMatchObject({ body: { fills: [{ count_fp: '1.00' }] } });
  });

  it('settles markets and records settlements', () => {
    const { client, events } = setup();
    client.createOrder({ ticker: T, side: 'bid', price: '0.4500', count: '5.00', time_in_force: 'immediate_or_cancel' });
    client.createOrder({ ticker: T, side: 'bid', price: '0.3000', count: '2.00' });
    const cashBefore = client.tracker.cashMicros;
    const s = client.settle(T, 'yes');
    expect(s).toMatchObject({ ok: true, body: { market_result: 'yes', yes_count_fp: '5.00', yes_total_cost_dollars: '2.250000', revenue: 500, value: 100 } });
    expect(client.tracker.cashMicros - cashBefore).toBe(5_000_000);
    expect(client.tracker.reservedMicros).toBe(0); // the resting order was canceled
    expect(client.getSettlements()).toMatchObject({ body: { settlements: [{ ticker: T, event_ticker: 'KXTEST-26JAN01' }] } });
    expect(client.getPositions()).toMatchObject({ body: { market_positions: [] } });
    expect(client.getPositions({ settlement_status: 'settled' })).toMatchObject({ body: { market_positions: [{ position_fp: '0.00' }] } });
    expect(client.getOrders({ status: 'resting' })).toMatchObject({ body: { orders: [] } });
    expect(client.settle(T, 'no')).toMatchObject({ ok: false, error: { code: 'market_closed' } });
    expect(client.createOrder({ ticker: T, side: 'bid', price: '0.3000', count: '1.00' })).toMatchObject({ error: { code: 'market_closed' } });
    expect(events.at(-1)?.type).toBe('market_position');
  });

  it('follows markets that appear later, public trades and resyncs after a gap', () => {
    const { client, state, delta, clock } = setup();
    state.applyEvent({ kind: 'snapshot', ticker: 'KXOTHER-1', tsMs: 0, yes: [[2000, 100]], no: [[7000, 100]] });
    expect(client.createOrder({ ticker: 'KXOTHER-1', side: 'bid', price: '0.3000', count: '1.00', time_in_force: 'immediate_or_cancel' })).toMatchObject({
      body: { fill_count: '1.00' },
    });
    const r = client.createOrder({ ticker: T, side: 'bid', price: '0.4000', count: '3.00' });
    if (!r.ok) throw new Error('refused');
    // A public trade of 12 at 0.40 (a NO buyer hitting YES bids): 10 were ahead of us, 2 are ours.
    state.applyEvent({ kind: 'trade', ticker: T, tsMs: clock.now(), yesPriceUnits: 4000, countCenti: 1_200, takerSide: 'no' });
    expect(client.getOrder(r.body.order_id)).toMatchObject({ body: { order: { fill_count_fp: '2.00', queue_position_fp: '0.00' } } });
    const inside = client.createOrder({ ticker: T, side: 'bid', price: '0.4200', count: '1.00' }); // alone at 0.42
    if (!inside.ok) throw new Error('refused');
    state.resetSequences(); // e.g. a reconnect: every book is stale until its next snapshot
    delta('yes', 4000, -1_000); // applied to the stale book, not trusted: no fill
    delta('yes', 4200, 500);
    delta('yes', 4200, -500); // would trade through our 0.42 bid if it were trusted
    expect(client.getOrder(r.body.order_id)).toMatchObject({ body: { order: { fill_count_fp: '2.00' } } });
    expect(client.getOrder(inside.body.order_id)).toMatchObject({ body: { order: { fill_count_fp: '0.00' } } });
    state.applyEvent({ kind: 'snapshot', ticker: T, tsMs: 0, yes: [[3900, 2_000]], no: [[5500, 500]] });
    // The resync is replayed as one difference from the last trusted book: the 0.40 level lost the 10 that
    // the public trade already accounted for, so no second fill.
    expect(client.getOrder(r.body.order_id)).toMatchObject({ body: { order: { fill_count_fp: '2.00', status: 'resting' } } });
    delta('yes', 4000, 500);
    delta('yes', 4000, -100); // new size at 0.40 trades down through us
    expect(client.getOrder(r.body.order_id)).toMatchObject({ body: { order: { fill_count_fp: '3.00', status: 'executed' } } });
  });

  it('is deterministic for a seed', () => {
    const run = () => {
      const { client, delta } = setup();
      client.createOrder({ ticker: T, side: 'bid', price: '0.4000', count: '2.00' });
      client.createOrder({ ticker: T, side: 'ask', price: '0.3900', count: '1.00', time_in_force: 'immediate_or_cancel' });
      delta('yes', 4000, -1_000);
      delta('yes', 4000, 300);
      delta('yes', 4000, -300);
      return client.snapshot();
    };
    expect(run()).toEqual(run());
  });

  it('under random requests and book moves: refusals change nothing, events parse, cash stays covered', () => {
    const request = fc.record({
      side: fc.constantFrom('bid', 'ask', 'sideways'),
      cents: fc.integer({ min: -5, max: 105 }),
      sub: fc.constantFrom('00', '00', '00', '50'),
      count: fc.integer({ min: -100, max: 1_500 }),
      tif: fc.constantFrom('good_till_canceled', 'immediate_or_cancel', 'fill_or_kill'),
      postOnly: fc.constantFrom(false, false, true),
      reduceOnly: fc.constantFrom(false, false, false, true),
    });
    const step = fc.oneof(
      request.map((r) => ({ kind: 'order' as const, r })),
      fc.record({ kind: fc.constant('delta' as const), yes: fc.boolean(), cents: fc.integer({ min: 35, max: 60 }), d: fc.integer({ min: -1_500, max: 1_500 }) }),
      fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 10, maxLength: 40 }), (steps) => {
        const { client, events, state } = setup({ cashMicros: 60_000_000 });
        const ids: string[] = [];
        for (const s of steps) {
          const before = client.snapshot();
          if (s.kind === 'order') {
            const { r } = s;
            const price = `${r.cents < 0 ? '-' : ''}${Math.floor(Math.abs(r.cents) / 100)}.${String(Math.abs(r.cents) % 100).padStart(2, '0')}${r.sub}`;
            const res = client.createOrder({
              ticker: T,
              side: r.side as 'bid',
              price,
              count: (r.count / 100).toFixed(2),
              time_in_force: r.tif as 'fill_or_kill',
              post_only: r.postOnly,
              reduce_only: r.reduceOnly,
            });
            if (res.ok) ids.push(res.body.order_id);
            else expect(client.snapshot()).toEqual(before);
          } else if (s.kind === 'cancel') {
            const res = client.cancelOrder(ids[s.pick % Math.max(ids.length, 1)] ?? 'none');
            if (!res.ok) expect(client.snapshot()).toEqual(before);
          } else {
            const side = s.yes ? 'yes' : 'no';
            const price = s.yes ? s.cents * 100 : 10_000 - s.cents * 100;
            const book = state.book(T)!;
            const size = book.sizeAtPrice(side, price);
            const d = s.d < 0 ? Math.max(s.d, -size) : s.d;
            const other = book.bestBid(s.yes ? 'no' : 'yes');
            if (d === 0 || (d > 0 && other >= 0 && other + price >= 10_000)) continue;
            state.applyEvent({ kind: 'delta', ticker: T, tsMs: 0, side, priceUnits: price, deltaCenti: d });
          }
          expect(client.tracker.availableMicros).toBeGreaterThanOrEqual(0);
        }
        for (const e of events) expect(parseFrame(e).type).toBe(e.type);
      }),
      { numRuns: 150 },
    );
  });
});

describe('paper client: per-market accounts and followed markets', () => {
  const OTHER = 'KXOTHER-26JAN01-B20';
  const snapshotOf = (ticker: string) =>
    ({ kind: 'snapshot', ticker, tsMs: 0, yes: [[2000, 1_000]], no: [[7000, 1_000]] }) as const; // YES 0.20 / 0.30

  const balanceMicros = (client: ReturnType<typeof setup>['client']): number => {
    const r = client.getBalance();
    if (!r.ok) throw new Error('balance refused');
    return Math.round(Number(r.body.balance_dollars) * 1_000_000);
  };

  it('deposits marketCashMicros into the balance when a market is first followed', () => {
    const { client, state } = setup({ cashMicros: 1_000_000, marketCashMicros: 5_000_000 });
    expect(client.tracker.cashMicros).toBe(6_000_000);
    expect(balanceMicros(client)).toBe(6_000_000);
    expect(client.getBalance()).toMatchObject({ body: { balance: 600, balance_dollars: '6.000000' } });
    state.applyEvent(snapshotOf(OTHER)); // a second market appears
    expect(balanceMicros(client)).toBe(11_000_000);
    state.applyEvent({ kind: 'delta', ticker: OTHER, tsMs: 1, side: 'yes', priceUnits: 2000, deltaCenti: 100 });
    state.applyEvent(snapshotOf(OTHER)); // seeing it again deposits nothing more
    expect(balanceMicros(client)).toBe(11_000_000);
    // Without the option, nothing is deposited.
    const plain = setup({ cashMicros: 1_000_000 });
    plain.state.applyEvent(snapshotOf(OTHER));
    expect(balanceMicros(plain.client)).toBe(1_000_000);
  });

  it('limits each market’s orders by its own account, not by the whole balance', () => {
    const { client, state } = setup({ cashMicros: 100_000_000, marketCashMicros: 2_000_000 });
    expect(balanceMicros(client)).toBe(102_000_000);
    // 10 YES at 0.30 need $3 (+ fees): more than this market's $2, far less than the balance.
    const before = client.snapshot();
    expect(client.createOrder({ ticker: T, side: 'bid', price: '0.3000', count: '10.00' })).toMatchObject({
      ok: false,
      status: 400,
      error: { code: 'insufficient_balance' },
    });
    expect(client.snapshot()).toEqual(before);
    expect(client.openOrderCount(T)).toBe(0);
    // 5 at 0.30 ($1.50 + fee bound) fit, after which another $1 does not.
    expect(client.createOrder({ ticker: T, side: 'bid', price: '0.3000', count: '5.00' })).toMatchObject({ ok: true });
    expect(client.createOrder({ ticker: T, side: 'bid', price: '0.2000', count: '5.00' })).toMatchObject({ error: { code: 'insufficient_balance' } });
    // Another market has its own $2: the first market's orders do not use it up.
    state.applyEvent(snapshotOf(OTHER));
    expect(client.createOrder({ ticker: OTHER, side: 'bid', price: '0.2000', count: '5.00' })).toMatchObject({ ok: true });
    // A fill costs the market's own account: its position features report that account's cash.
    const take = client.createOrder({ ticker: OTHER, side: 'bid', price: '0.3000', count: '2.00', time_in_force: 'immediate_or_cancel' });
    expect(take).toMatchObject({ ok: true, body: { fill_count: '2.00' } });
    const fee = client.marketPosition(OTHER)!.feesPaidMicros;
    expect(fee).toBe(29_400); // 0.07 × 2 × 0.3 × 0.7 = 0.0294
    expect(client.writePositionFeatures(OTHER, createPositionFeatures(1_000))).toMatchObject({
      positionCenti: 200,
      cashMicros: 2_000_000 - 600_000 - fee,
    });
    expect(client.writePositionFeatures(T, createPositionFeatures(1_000))).toMatchObject({ positionCenti: 0, cashMicros: 2_000_000 });
    expect(client.tracker.cashMicros).toBe(104_000_000 - 600_000 - fee);
  });

  it('follows only the given tickers: orders on others get 404 market_not_found', () => {
    const { client, state } = setup({ tickers: [T, 'KXLATE-1'], marketCashMicros: 1_000_000, cashMicros: 0 });
    state.applyEvent(snapshotOf(OTHER));
    const before = client.snapshot();
    expect(client.createOrder({ ticker: OTHER, side: 'bid', price: '0.2000', count: '1.00' })).toMatchObject({
      ok: false,
      status: 404,
      error: { code: 'market_not_found' },
    });
    expect(client.snapshot()).toEqual(before);
    expect(balanceMicros(client)).toBe(1_000_000); // no deposit for a market not followed
    expect(client.openOrderCount(OTHER)).toBe(0);
    expect(client.openOrderIds(OTHER)).toEqual([]);
    expect(client.marketPosition(OTHER)).toBeUndefined();
    expect(() => client.writePositionFeatures(OTHER, createPositionFeatures(1_000))).toThrow(/No market/);
    expect(client.settle(OTHER, 'yes')).toMatchObject({ ok: false, status: 404, error: { code: 'market_not_found' } });
    // The followed market trades; one listed but not yet in the state is followed once it appears.
    expect(client.createOrder({ ticker: T, side: 'bid', price: '0.3000', count: '1.00' })).toMatchObject({ ok: true });
    expect(client.createOrder({ ticker: 'KXLATE-1', side: 'bid', price: '0.2000', count: '1.00' })).toMatchObject({ status: 404 });
    state.applyEvent(snapshotOf('KXLATE-1'));
    expect(balanceMicros(client)).toBeGreaterThan(1_000_000); // the late market's deposit (less T's reservation)
    expect(client.tracker.cashMicros).toBe(2_000_000);
    expect(client.createOrder({ ticker: 'KXLATE-1', side: 'bid', price: '0.2000', count: '1.00' })).toMatchObject({ ok: true, status: 201 });
    expect(client.openOrderCount('KXLATE-1')).toBe(1);
  });

  it('openOrderCount and openOrderIds list a market’s open orders oldest first, pending ones included', () => {
    const { client, tick, state } = setup({ latency: { baseMs: 100 } });
    state.applyEvent(snapshotOf(OTHER));
    const ids: string[] = [];
    const place = (ticker: string, price: string) => {
      const r = client.createOrder({ ticker, side: 'bid', price, count: '1.00' });
      if (!r.ok) throw new Error(`refused: ${JSON.stringify(r)}`);
      return r.body.order_id;
    };
    ids.push(place(T, '0.3000'));
    tick(10);
    ids.push(place(T, '0.3100'));
    const otherId = place(OTHER, '0.1000');
    tick(10);
    ids.push(place(T, '0.3200'));
    // Still in flight (latency 100 ms): pending, yet open.
    expect(client.getOrder(ids[0]!)).toMatchObject({ body: { order: { status: 'resting' } } }); // Kalshi shows pending as resting
    expect(client.openOrderCount(T)).toBe(3);
    expect(client.openOrderIds(T)).toEqual(ids);
    expect(client.openOrderIds(OTHER)).toEqual([otherId]);
    tick(200); // all arrive and rest
    client.advance();
    expect(client.openOrderIds(T)).toEqual(ids);
    // A cancel lands after the latency: the order stays open until then.
    expect(client.cancelOrder(ids[1]!)).toMatchObject({ ok: true });
    expect(client.openOrderIds(T)).toEqual(ids);
    tick(100);
    client.advance();
    expect(client.openOrderIds(T)).toEqual([ids[0], ids[2]]);
    expect(client.openOrderCount(T)).toBe(2);
    // An IOC that fills at once is never open.
    const ioc = client.createOrder({ ticker: T, side: 'bid', price: '0.4500', count: '1.00', time_in_force: 'immediate_or_cancel' });
    if (!ioc.ok) throw new Error('refused');
    expect(client.openOrderIds(T)).toEqual([ids[0], ids[2], ioc.body.order_id]); // pending for 100 ms
    tick(100);
    client.advance();
    expect(client.getOrder(ioc.body.order_id)).toMatchObject({ body: { order: { status: 'executed' } } });
    expect(client.openOrderIds(T)).toEqual([ids[0], ids[2]]);
    expect(client.openOrderCount('NOPE')).toBe(0);
    expect(client.openOrderIds('NOPE')).toEqual([]);
  });

  it('marketPosition reports one market’s position, cost, realized PnL and fees', () => {
    const { client, state } = setup();
    expect(client.marketPosition(T)).toMatchObject({ ticker: T, positionCenti: 0, costMicros: 0, realizedPnlMicros: 0, feesPaidMicros: 0 });
    expect(client.marketPosition('NOPE')).toBeUndefined();
    client.createOrder({ ticker: T, side: 'bid', price: '0.4500', count: '5.00', time_in_force: 'immediate_or_cancel' }); // 5 YES @ 0.45
    client.createOrder({ ticker: T, side: 'ask', price: '0.4000', count: '2.00', time_in_force: 'immediate_or_cancel' }); // sell 2 @ 0.40
    const p = client.marketPosition(T)!;
    expect(p).toMatchObject({ positionCenti: 300, costMicros: 300 * 4500, realizedPnlMicros: 200 * (4000 - 4500) });
    // Fees: 0.07 × 5 × 0.45 × 0.55 = 0.086625 → 0.0867; 0.07 × 2 × 0.4 × 0.6 = 0.0336.
    expect(p.feesPaidMicros).toBe(86_700 + 33_600);
    const positions = client.getPositions();
    expect(positions.ok && positions.body.market_positions[0]).toMatchObject({ position_fp: '3.00', realized_pnl_dollars: '-0.100000' });
    // Another market's position is its own.
    state.applyEvent(snapshotOf(OTHER));
    expect(client.marketPosition(OTHER)).toMatchObject({ ticker: OTHER, positionCenti: 0 });
  });
});

describe('paper client: every public input is checked at the boundary', () => {
  /** A client with one resting order (id returned) and a position, so refusals have state to leave alone. */
  function trading() {
    const s = setup();
    s.client.createOrder({ ticker: T, side: 'bid', price: '0.4500', count: '2.00', time_in_force: 'immediate_or_cancel' });
    const r = s.client.createOrder({ ticker: T, side: 'bid', price: '0.4000', count: '3.00', client_order_id: 'rest' });
    if (!r.ok) throw new Error('refused');
    return { ...s, id: r.body.order_id };
  }

  /** Calls `call`, expecting a 400 Kalshi error with `code` and no change to balances, positions, orders or fills. */
  function refusedUnchanged(client: ReturnType<typeof setup>['client'], call: () => unknown, code: PaperErrorCodeWire, label: string): void {
    const before = client.snapshot();
    expect(call(), label).toMatchObject({ ok: false, status: 400, error: { code, service: 'exchange' } });
    expect(client.snapshot(), label).toEqual(before);
  }

  it('settle takes the result exactly as Kalshi spells it', () => {
    const { client } = trading();
    const settle = client.settle.bind(client) as (...a: unknown[]) => unknown;
    for (const [args, label] of [
      [[T, 'YES'], 'upper case'],
      [[T, 'Yes'], 'capitalised'],
      [[T, 'maybe'], 'unknown result'],
      [[T, null], 'null result'],
      [[T, 'scalar'], 'scalar without a value'],
      [[T, 'scalar', '1.5000'], 'scalar value above $1'],
      [[T, 'scalar', 0.5], 'scalar value not a string'],
      [[T, 'yes', '0.0000'], 'a value contradicting the result'],
      [[null, 'yes'], 'no ticker'],
    ] as const) {
      refusedUnchanged(client, () => settle(...args), 'invalid_parameters', label);
    }
    // Nothing was settled by the refusals: the market still trades and then settles once.
    expect(client.createOrder({ ticker: T, side: 'bid', price: '0.3000', count: '1.00' })).toMatchObject({ ok: true });
    expect(client.settle(T, 'yes', '1.0000')).toMatchObject({ ok: true, body: { market_result: 'yes', revenue: 200 } });
  });

  it('order bodies: booleans are booleans, strings are strings, no unknown fields', () => {
    const { client } = trading();
    const v2 = { ticker: T, side: 'bid', price: '0.4600', count: '1.00' };
    const v1 = { ticker: T, side: 'yes', action: 'buy', count: 1, yes_price: 46 };
    const cases: [unknown, PaperErrorCodeWire, string][] = [
      [{ ...v2, post_only: 'true' }, 'invalid_parameters', 'post_only as a string (would cross)'],
      [{ ...v2, post_only: 1 }, 'invalid_parameters', 'post_only as a number'],
      [{ ...v2, reduce_only: 'false' }, 'invalid_parameters', 'reduce_only as a string'],
      [{ ...v2, client_order_id: 123 }, 'invalid_parameters', 'numeric client_order_id'],
      [{ ...v2, client_order_id: '' }, 'invalid_parameters', 'empty client_order_id'],
      [{ ...v2, ticker: 5 }, 'invalid_parameters', 'numeric ticker'],
      [{ ...v2, time_in_force: null }, 'invalid_parameters', 'null time_in_force'],
      [{ ...v2, expiration_time: 1 }, 'invalid_parameters', 'a field the paper client does not implement'],
      [{ ...v2, exchange_index: 'auto' }, 'invalid_parameters', 'exchange_index as a string'],
      [{ ...v2, cancel_order_on_pause: 'yes' }, 'invalid_parameters', 'cancel_order_on_pause as a string'],
      [{ ...v2, subaccount: '0' }, 'invalid_parameters', 'subaccount as a string'],
      [{ ...v2, self_trade_prevention_type: 'none' }, 'invalid_parameters', 'an unknown self-trade prevention'],
      [{ ...v2, price: true }, 'invalid_price', 'boolean price'],
      [{ ...v2, count: null }, 'invalid_order', 'null count'],
      [{ ...v2, count: '90071992547409.91' }, 'invalid_order', 'count beyond exact money'],
      [{ ...v1, post_only: 'true' }, 'invalid_parameters', 'V1 post_only as a string'],
      [{ ...v1, client_order_id: 7 }, 'invalid_parameters', 'V1 numeric client_order_id'],
      [{ ...v1, yes_price: '46' }, 'invalid_price', 'V1 cents as a string'],
      [{ ...v1, count: '1' }, 'invalid_order', 'V1 count as a string'],
      [{ ...v1, count_fp: '2.00' }, 'invalid_order', 'V1 count and count_fp disagree'],
      [{ ...v1, count: undefined }, 'invalid_order', 'V1 without a count'],
      [[v2], 'invalid_parameters', 'an array'],
      ['{}', 'invalid_parameters', 'a string'],
    ];
    for (const [body, code, label] of cases) refusedUnchanged(client, () => client.createOrder(body), code, label);
    expect(client.createOrder({ ...v2, post_only: true })).toMatchObject({ ok: false, error: { code: 'post_only_cross' } });
    // Kalshi's routing and risk-group fields pass (checked, then ignored): code written for Kalshi runs as is.
    expect(client.createOrder({ ...v2, cancel_order_on_pause: true, order_group_id: 'og_1', exchange_index: -1 })).toMatchObject({ ok: true });
  });

  it('amend, decrease, cancel and get take an order id string and an object body', () => {
    const { client, id } = trading();
    const amend = client.amendOrder.bind(client) as (...a: unknown[]) => unknown;
    const decrease = client.decreaseOrder.bind(client) as (...a: unknown[]) => unknown;
    const amendBody = { ticker: T, side: 'bid', price: '0.4000', count: '4.00' };
    const calls: [() => unknown, PaperErrorCodeWire, string][] = [
      [() => amend(id, null), 'invalid_parameters', 'amend with a null body'],
      [() => amend(id, undefined), 'invalid_parameters', 'amend without a body'],
      [() => amend(null, amendBody), 'invalid_parameters', 'amend a null id'],
      [() => amend(id, { ...amendBody, updated_client_order_id: 9 }), 'invalid_parameters', 'numeric updated_client_order_id'],
      [() => amend(id, { ...amendBody, price: '0.40001' }), 'invalid_price', 'amend price past 4 decimals'],
      [() => decrease(id, null), 'invalid_parameters', 'decrease with a null body'],
      [() => decrease(id, { reduce_by: '1.00', reduce: '1.00' }), 'invalid_parameters', 'decrease with an unknown field'],
      [() => decrease(id, { reduce_by: '-1.00' }), 'invalid_order', 'negative reduce_by'],
      [() => decrease(id, { reduce_to: true }), 'invalid_order', 'boolean reduce_to'],
      [() => decrease({ id }, { reduce_by: '1.00' }), 'invalid_parameters', 'decrease an object id'],
      [() => (client.cancelOrder.bind(client) as (...a: unknown[]) => unknown)(42), 'invalid_parameters', 'cancel a numeric id'],
      [() => (client.getOrder.bind(client) as (...a: unknown[]) => unknown)(undefined), 'invalid_parameters', 'get no id'],
    ];
    for (const [call, code, label] of calls) refusedUnchanged(client, call, code, label);
    expect(client.amendOrder(id, { ticker: T, side: 'bid', price: '0.4000', count: '4.00' })).toMatchObject({ ok: true });
    expect(client.decreaseOrder(id, { reduce_by: '1.00' })).toMatchObject({ ok: true, body: { remaining_count: '3.00' } });
  });

  it('list queries take an object of known filters', () => {
    const { client } = trading();
    const q = (method: 'getPositions' | 'getOrders' | 'getFills') => client[method].bind(client) as (...a: unknown[]) => unknown;
    const calls: [() => unknown, string][] = [
      [() => q('getPositions')(null), 'positions with a null query'],
      [() => q('getPositions')({ settlement_status: 'open' }), 'positions with an unknown status'],
      [() => q('getOrders')(null), 'orders with a null query'],
      [() => q('getOrders')({ status: 'pending' }), 'orders with a status Kalshi does not report'],
      [() => q('getOrders')({ ticker: 3 }), 'orders with a numeric ticker'],
      [() => q('getFills')('all'), 'fills with a string query'],
      [() => q('getFills')({ order: 'x' }), 'fills with an unknown filter'],
    ];
    for (const [call, label] of calls) refusedUnchanged(client, call, 'invalid_parameters', label);
    expect(client.getPositions()).toMatchObject({ ok: true, body: { market_positions: [{ position_fp: '2.00' }] } });
    expect(client.getOrders({ status: 'resting', ticker: T })).toMatchObject({ ok: true, body: { orders: [{ client_order_id: 'rest' }] } });
  });

  it('non-REST methods and options throw INVALID_ARGUMENT, never a TypeError', () => {
    const { client, state } = trading();
    const loose = client as unknown as Record<string, (...a: unknown[]) => unknown>;
    const before = client.snapshot();
    for (const [name, args] of [
      ['writePositionFeatures', [null, createPositionFeatures(100)]],
      ['writePositionFeatures', [T, null]],
      ['openOrderCount', [5]],
      ['openOrderIds', [undefined]],
      ['marketPosition', [{}]],
      ['subscribe', [null]],
    ] as const) {
      expect(invalidArgument(() => loose[name]!.call(client, ...args)), name).toContain(name);
    }
    expect(client.snapshot()).toEqual(before);
    const options = { mode: 'paper', state, clock: { now: () => 0 }, rng: createRng(1), cashMicros: 1_000_000 };
    for (const [field, value] of [
      ['cashMicros', '1000000'],
      ['cashMicros', 1.5],
      ['marketCashMicros', -1],
      ['tickers', T],
      ['precision', 'exact'],
      ['queueModel', 'fifo'],
      ['latency', { baseMs: -5 }],
      ['userId', 7],
      ['clock', null],
      ['state', {}],
      ['rng', undefined],
    ] as const) {
      const message = invalidArgument(() => createPaperClient({ ...options, [field]: value } as unknown as PaperClientOptions));
      expect(message, `${field}: ${JSON.stringify(value)}`).toContain(field);
    }
  });

  it('a public trade that is no trade (negative, zero, no price) reaches no queue', () => {
    const { client, state, clock, id } = trading();
    const before = client.snapshot();
    const queue = () => (client.getOrder(id) as { body: { order: { queue_position_fp: string } } }).body.order.queue_position_fp;
    expect(queue()).toBe('10.00');
    for (const [yesPriceUnits, countCenti] of [
      [4000, -300],
      [4000, 0],
      [Number.NaN, 300],
    ]) {
      state.applyEvent({ kind: 'trade', ticker: T, tsMs: clock.now(), yesPriceUnits: yesPriceUnits!, countCenti: countCenti!, takerSide: 'no' });
    }
    // The client's engine refused each one (INVALID_ARGUMENT, caught and counted by the state's writer).
    expect(state.listenerErrors).toBe(3);
    expect(queue()).toBe('10.00');
    expect(client.snapshot()).toEqual(before);
    state.applyEvent({ kind: 'trade', ticker: T, tsMs: clock.now(), yesPriceUnits: 4000, countCenti: 400, takerSide: 'no' });
    expect(queue()).toBe('6.00');
  });

  it('under random inputs to every request: a result or a Kalshi error, never a throw; refusals change nothing (property)', () => {
    const { client, id } = trading();
    const loose = client as unknown as Record<string, (...a: unknown[]) => unknown>;
    const CODES: readonly string[] = [
      'invalid_price',
      'invalid_order',
      'invalid_parameters',
      'insufficient_balance',
      'post_only_cross',
      'market_not_found',
      'market_closed',
      'not_found',
      'order_already_exists',
    ];
    // Inputs near the valid ones (right keys, wrong values) as well as anything at all.
    const value = fc.oneof(fc.anything(), fc.constantFrom(T, id, 'bid', 'yes', 'buy', '0.4000', '1.00', 40, true, 'true', null));
    const body = fc.oneof(
      fc.anything(),
      fc.dictionary(
        fc.constantFrom('ticker', 'side', 'action', 'price', 'count', 'count_fp', 'yes_price', 'post_only', 'client_order_id', 'reduce_by', 'reduce_to', 'status'),
        value,
      ),
    );
    const call = fc.record({
      method: fc.constantFrom('createOrder', 'cancelOrder', 'amendOrder', 'decreaseOrder', 'getOrders', 'getOrder', 'getPositions', 'getFills', 'settle'),
      args: fc.tuple(value, body, value),
    });
    fc.assert(
      fc.property(call, ({ method, args }) => {
        const before = client.snapshot();
        const first = method === 'createOrder' || method.startsWith('get') ? args[1] : args[0];
        const r = loose[method]!.call(client, first, args[1], args[2]) as { ok: boolean; error?: { code: string } };
        if (r.ok) return;
        expect(CODES).toContain(r.error?.code);
        expect(client.snapshot()).toEqual(before);
      }),
      { seed: 424_242, numRuns: 400 },
    );
  });
});
