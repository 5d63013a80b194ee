import { OBSERVATION_SIZE, TemporalState, buildObservation } from '@kflow/features';
import {
  type BookEvent,
  EventKind,
  type Level,
  type MarketSeries,
  OrderBook,
  type SessionData,
  type Side,
  applyBookEvent,
  createRng,
  createSessionDataBuilder,
  createSharedOrderbookState,
  formatCount,
  formatPrice,
  parseCountCenti,
  parseFrame,
  parsePriceUnits,
  seriesEvent,
} from '@kflow/orderbook';
import { actionMask, actionToOrder, createOrderBody, createPaperClient, createPositionFeatures, decodeAction } from '@kflow/paper';
import { describe, expect, it } from 'vitest';
import { randomMasked } from '../core/env.testing';
import { createKalshiEnv } from './kalshiEnv';
import { createSyntheticSession } from './syntheticSession';

const levels = (ls: readonly Level[]) => ls.map(([p, c]) => [formatPrice(p), formatCount(c)]);

/** The market's recording as Kalshi WebSocket lines (what the live collector receives), with receive times. */
function toWire(series: MarketSeries): { line: string; recvMs: number }[] {
  const out: { line: string; recvMs: number }[] = [];
  let seq = 1;
  const msg = (type: string, body: Record<string, unknown>) => JSON.stringify({ type, sid: 1, seq: seq++, msg: { market_ticker: series.ticker, ...body } });
  const snapshot = (yes: readonly Level[], no: readonly Level[]) => msg('orderbook_snapshot', { yes_dollars_fp: levels(yes), no_dollars_fp: levels(no) });
  out.push({ line: snapshot(series.initial.yes, series.initial.no), recvMs: series.initialTsMs });
  for (let i = 0; i < series.length; i++) {
    const ts = series.tsMs[i]!;
    const kind = series.kind[i]!;
    const price = series.price[i]!;
    const qty = series.qty[i]!;
    let line: string;
    if (kind === EventKind.DeltaYes || kind === EventKind.DeltaNo) {
      line = msg('orderbook_delta', { price_dollars: formatPrice(price), delta_fp: formatCount(qty), side: kind === EventKind.DeltaYes ? 'yes' : 'no', ts_ms: ts });
    } else if (kind === EventKind.TradeTakerYes || kind === EventKind.TradeTakerNo) {
      line = msg('trade', { yes_price_dollars: formatPrice(price), count_fp: formatCount(qty), taker_side: kind === EventKind.TradeTakerYes ? 'yes' : 'no', ts_ms: ts });
    } else {
      const snap = series.snapshots[qty]!;
      line = snapshot(snap.yes, snap.no);
    }
    out.push({ line, recvMs: ts });
  }
  return out;
}

/**
 * The session with a resync every `every` events: a snapshot that reports both best levels halved (size
 * that left while we were not looking), then deltas that restore them, so the recording stays consistent.
 */
function withResyncs(session: SessionData, every: number): SessionData {
  const series = session.markets[0]!;
  const b = createSessionDataBuilder(`${session.id}-resyncs`);
  const book = new OrderBook(series.ticker);
  const add = (e: BookEvent): void => {
    b.add(e);
    applyBookEvent(book, e);
  };
  add({ kind: 'snapshot', ticker: series.ticker, tsMs: series.initialTsMs, yes: series.initial.yes, no: series.initial.no });
  for (let i = 0; i < series.length; i++) {
    const e = seriesEvent(series, i);
    add(e);
    if (i % every !== every - 1) continue;
    const halve = (side: Side): Level[] => book.levels(side).map(([p, c]) => [p, p === book.bestBid(side) ? c - Math.floor(c / 2) : c]);
    const cut = { yes: book.bestBidSize('yes') >> 1, no: book.bestBidSize('no') >> 1, yesPrice: book.bestBid('yes'), noPrice: book.bestBid('no') };
    add({ kind: 'snapshot', ticker: series.ticker, tsMs: e.tsMs, yes: halve('yes'), no: halve('no') });
    if (cut.yes > 0) add({ kind: 'delta', ticker: series.ticker, tsMs: e.tsMs, side: 'yes', priceUnits: cut.yesPrice, deltaCenti: cut.yes });
    if (cut.no > 0) add({ kind: 'delta', ticker: series.ticker, tsMs: e.tsMs, side: 'no', priceUnits: cut.noPrice, deltaCenti: cut.no });
  }
  return b.build();
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('env ↔ live parity', () => {
  const session = withResyncs(createSyntheticSession({ seed: 77, markets: 1, eventsPerMarket: 3000 }), 40);

  it.each([
    ['without latency', undefined],
    ['with 250 ms order latency', { baseMs: 250 }],
  ] as const)('one stream and one action sequence give bit-identical observations, masks and fills in the env and on the live paper path (%s)', (_, latency) => {
    const series = session.markets[0]!;
    const ticker = series.ticker;
    const wire = toWire(series);
    const env = createKalshiEnv({ sessions: [session], episodeSteps: 10_000, ...(latency ? { latency } : {}) });
    const rng = createRng(5);
    // Start mid-session (the env restores a checkpoint); a random masked policy trades in both worlds.
    const start = 1500;
    let { observation, info } = env.reset({ seed: 1, options: { marketIndex: 0, startEvent: start } });

    // The live actor: Kalshi frames → SharedOrderbookState → TemporalState → buildObservation, with its
    // account held by a PaperClient on the same state (its own engine and tracker, fed by book diffs).
    const state = createSharedOrderbookState();
    let now = series.initialTsMs;
    const client = createPaperClient({
      mode: 'paper',
      state,
      clock: { now: () => now },
      rng: createRng(9),
      cashMicros: env.account.cashMicros, // the env's starting cash
      ...(latency ? { latency } : {}),
    });
    const temporal = new TemporalState();
    const live = new Float32Array(OBSERVATION_SIZE);
    const liveMask = new Uint8Array(env.actions.count);
    const account = createPositionFeatures(env.account.positionLimitCenti);
    let applied = 0; // wire lines applied (line 0 is the snapshot, line i + 1 is event i)
    /** Applies the snapshot and events [0, eventIndex). */
    const liveUpTo = (eventIndex: number): void => {
      while (applied <= eventIndex) {
        const { line, recvMs } = wire[applied++]!;
        now = recvMs;
        const { event } = state.applyFrame(parseFrame(line), recvMs);
        if (event) temporal.observeEvent(event, state.book(ticker)!);
      }
    };
    let resting: string[] = []; // ids of the live actor's orders that may still rest
    const liveContext = () => {
      resting = resting.filter((id) => {
        const r = client.getOrder(id);
        return r.ok && r.body.order.status === 'resting';
      });
      const features = client.writePositionFeatures(ticker, account);
      return { book: state.book(ticker)!, positionCenti: features.positionCenti, maxPositionCenti: features.positionLimitCenti, openOrderCount: resting.length };
    };
    /** What the live actor does with the action the policy chose. */
    const sendLive = (action: number): void => {
      const decoded = decodeAction(env.actions, action);
      const ctx = liveContext();
      if (decoded.kind === 'CANCEL_ALL') {
        for (const id of resting) expect(client.cancelOrder(id).ok).toBe(true);
        return;
      }
      const order = actionToOrder(env.actions, decoded, ctx);
      if (!order) return;
      const sent = client.createOrder(createOrderBody(ticker, order));
      if (sent.ok) resting.push(sent.body.order_id);
    };

    liveUpTo(start); // snapshot + events [0, start)
    let compared = 0;
    let restingSeen = 0;
    const compare = (): void => {
      const ctx = liveContext();
      buildObservation(live, ctx.book, temporal, account, now);
      expect(bits(observation)).toEqual(bits(live));
      actionMask(env.actions, ctx, liveMask);
      expect(info.actionMask).toEqual(liveMask);
      restingSeen += ctx.openOrderCount > 0 ? 1 : 0;
      compared++;
    };
    const envFills: (readonly [side: string, priceUnits: number, countCenti: number, isTaker: boolean])[] = [];
    compare();
    for (;;) {
      const action = randomMasked(info.actionMask, rng);
      sendLive(action);
      const step = env.step(action);
      for (const f of step.info.fills) envFills.push([f.side, f.priceUnits, f.countCenti, f.isTaker]);
      liveUpTo(step.info.eventIndex);
      ({ observation, info } = step);
      compare();
      if (step.terminated || step.truncated) break;
    }
    // The decision on the start state, one after each event, and the final step past the data's end.
    expect(compared).toBe(series.length - start + 2);
    expect(state.listenerErrors + client.listenerErrors).toBe(0);
    // The same fills, in the same order; both accounts rested orders and filled some as makers.
    const fills = client.getFills();
    if (!fills.ok) throw new Error('getFills failed');
    const liveFills = fills.body.fills.toReversed().map((f) => [f.book_side, parsePriceUnits(f.yes_price_dollars), parseCountCenti(f.count_fp), f.is_taker]);
    expect(liveFills).toEqual(envFills);
    expect(envFills.length).toBe(info.trades);
    expect(envFills.some(([, , , isTaker]) => !isTaker)).toBe(true);
    expect(info.trades).toBeGreaterThan(20);
    expect(restingSeen).toBeGreaterThan(100);
  });
});
