import {
  type BookEvent,
  type Level,
  OrderBook,
  PRICE_ONE,
  type SessionData,
  type Side,
  createRng,
  createSessionDataBuilder,
} from '@kflow/orderbook';

/** Options of `createSyntheticSession`. */
export interface SyntheticSessionOptions {
  readonly seed: number;
  /** Number of markets (default 2). */
  readonly markets?: number;
  /** Events per market after its snapshot (default 20,000). */
  readonly eventsPerMarket?: number;
  /** Exchange time of the first snapshot, epoch ms (default 2026-01-01T00:00:00Z). */
  readonly startMs?: number;
  /** Settle each market at the end of its data: YES if its last mid is above 0.5 (default false). */
  readonly settle?: boolean;
  readonly id?: string;
}

const TICK = 100; // whole cents
const LEVELS = 8;

/** Log-uniform size in centi-contracts between 1 and 2,000 contracts. */
function size(rng: ReturnType<typeof createRng>): number {
  return Math.round(100 * Math.exp(rng.next() * Math.log(2000)));
}

/**
 * A seeded, driftless random-walk order-book session with Kalshi's shape: YES and NO bid ladders on a
 * whole-cent grid, adds and cancels near the touch, trades that eat the touch (so the mid moves only
 * when liquidity is taken or a level improves, symmetrically for both sides), and event timing that
 * switches between bursts, normal activity and long quiet gaps. For tests, benchmarks and smoke runs
 * that need realistic data without a recording.
 *
 * @example
 * const session = createSyntheticSession({ seed: 1, markets: 3, eventsPerMarket: 5000 });
 * const env = createKalshiEnv({ sessions: [session] });
 */
export function createSyntheticSession(options: SyntheticSessionOptions): SessionData {
  const rng = createRng(options.seed);
  const builder = createSessionDataBuilder(options.id ?? `synthetic-${options.seed}`);
  const marketCount = options.markets ?? 2;
  const eventCount = options.eventsPerMarket ?? 20_000;
  const startMs = options.startMs ?? Date.UTC(2026, 0, 1);
  for (let m = 0; m < marketCount; m++) {
    const ticker = `SYN-${options.seed}-M${m}`;
    const book = new OrderBook(ticker);
    let ts = startMs + m * 7;
    const emit = (event: BookEvent): void => {
      builder.add(event);
      if (event.kind === 'delta') book.applyDelta(event.side, event.priceUnits, event.deltaCenti);
    };
    // Start anywhere between 10 and 90 cents with a 1–3 cent spread.
    const bid = (10 + rng.int(80)) * TICK;
    const ask = bid + (1 + rng.int(3)) * TICK;
    const yes: Level[] = [];
    const no: Level[] = [];
    for (let k = 0; k < LEVELS; k++) {
      if (bid - k * TICK > 0) yes.push([bid - k * TICK, size(rng)]);
      if (PRICE_ONE - ask - k * TICK > 0) no.push([PRICE_ONE - ask - k * TICK, size(rng)]);
    }
    builder.add({ kind: 'snapshot', ticker, tsMs: ts, yes, no });
    book.applySnapshot(yes, no);
    let regime = 1; // 0 burst, 1 active, 2 quiet
    for (let i = 0; i < eventCount; i++) {
      const r = rng.next();
      if (r < 0.02) regime = 0;
      else if (r < 0.04) regime = 1;
      else if (r < 0.045) regime = 2;
      const meanGapMs = regime === 0 ? 40 : regime === 1 ? 700 : 8_000;
      ts += Math.round(-Math.log(1 - rng.next()) * meanGapMs);
      if (regime === 2 && rng.next() < 0.05) ts += 30_000 + rng.int(90_000);
      const side: Side = rng.next() < 0.5 ? 'yes' : 'no';
      const other: Side = side === 'yes' ? 'no' : 'yes';
      const best = book.bestBid(side);
      const otherBest = book.bestBid(other);
      const n = book.levelCount(side);
      const kind = rng.next();
      if (kind < 0.1 && n > 1) {
        // A taker sells into this side's best bid (buys the other outcome), up to the whole level.
        const take = Math.min(book.bestBidSize(side), Math.max(100, Math.round(book.bestBidSize(side) * rng.next() * 1.3)));
        const yesPrice = side === 'yes' ? best : PRICE_ONE - best;
        emit({ kind: 'trade', ticker, tsMs: ts, yesPriceUnits: yesPrice, countCenti: take, takerSide: other });
        emit({ kind: 'delta', ticker, tsMs: ts, side, priceUnits: best, deltaCenti: -take });
      } else if (kind < 0.16 && best + otherBest + TICK < PRICE_ONE) {
        // Improve: a new best bid inside the spread.
        emit({ kind: 'delta', ticker, tsMs: ts, side, priceUnits: best + TICK, deltaCenti: size(rng) });
      } else if (kind < 0.5 && n > 2) {
        // Cancel part or all of one of the top levels (never emptying the side).
        const k = rng.int(Math.min(n, LEVELS));
        const have = book.sizeAt(side, k);
        const cut = rng.next() < 0.3 ? have : Math.max(1, Math.round(have * rng.next()));
        emit({ kind: 'delta', ticker, tsMs: ts, side, priceUnits: book.priceAt(side, k), deltaCenti: -cut });
      } else {
        // Add near the touch; a side that has thinned out gets a level behind its worst one.
        const base = best > 0 ? best : PRICE_ONE - otherBest - TICK;
        const k = n < 3 ? n : rng.int(LEVELS);
        const price = base - k * TICK;
        if (price > 0) emit({ kind: 'delta', ticker, tsMs: ts, side, priceUnits: price, deltaCenti: size(rng) });
        else emit({ kind: 'delta', ticker, tsMs: ts, side, priceUnits: best, deltaCenti: size(rng) });
      }
    }
    if (options.settle) {
      const mid = (book.bestBid('yes') + PRICE_ONE - book.bestBid('no')) / 2;
      const yesWins = mid > PRICE_ONE / 2;
      builder.settle(ticker, { result: yesWins ? 'yes' : 'no', yesPayoutUnits: yesWins ? PRICE_ONE : 0, tsMs: ts });
    }
  }
  return builder.build();
}
