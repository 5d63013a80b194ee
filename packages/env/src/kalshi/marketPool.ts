import { TEMPORAL_STATE_SIZE, TemporalState, effectiveMid } from '@kflow/features';
import { EventKind, type MarketSeries, OrderBook, PRICE_ONE, type SessionData } from '@kflow/orderbook';
import { type MatchingEngine, replayEvent } from '@kflow/paper';
import { envError } from '../core/errors';

/** Per-market statistics computed once at load (for curriculum samplers and reports). */
export interface MarketStats {
  readonly events: number;
  readonly durationMs: number;
  /** Book events per minute of exchange time. */
  readonly eventsPerMinute: number;
  /** Standard deviation of the mid (probability) per √minute. */
  readonly volatility: number;
  /**
   * Difficulty in [0, 1] relative to the pool: the mean of the market's volatility and activity
   * percentiles (calm, quiet markets are easy; fast, jumpy ones are hard).
   */
  readonly difficulty: number;
}

/**
 * One market of one session, ready to replay: the columnar series plus book and `TemporalState`
 * checkpoints every `checkpointInterval` events, so a reset anywhere replays fewer than that many events.
 */
export interface PoolMarket {
  readonly sessionId: string;
  readonly series: MarketSeries;
  readonly stats: MarketStats;
  /** `books[c]` is the book after the initial snapshot and events [0, c·interval). */
  readonly books: readonly OrderBook[];
  /** `TEMPORAL_STATE_SIZE` values per checkpoint, matching `books`. */
  readonly temporal: Float64Array;
}

/** The markets an env samples episodes from. Built once; read-only afterwards. */
export interface MarketPool {
  readonly markets: readonly PoolMarket[];
  readonly checkpointInterval: number;
  readonly events: number;
}

/**
 * Applies event `i` of `series` to `book`, lets `engine` (our orders, if any) react to it, and records it
 * in `temporal`: the one replay step shared by pool preparation, `reset` and `step`. Order actions due by
 * the event's time reach the book first, as in `@kflow/paper`'s own replay.
 *
 * @example
 * startMarket(series, book, temporal);
 * for (let i = 0; i < series.length; i++) replaySeriesEvent(series, i, book, temporal);
 */
export function replaySeriesEvent(
  series: MarketSeries,
  i: number,
  book: OrderBook,
  temporal: TemporalState,
  engine?: MatchingEngine,
): void {
  const kind = series.kind[i]!;
  const ts = series.tsMs[i]!;
  engine?.advanceTo(ts);
  switch (kind) {
    case EventKind.DeltaYes:
    case EventKind.DeltaNo: {
      const side = kind === EventKind.DeltaYes ? 'yes' : 'no';
      const price = series.price[i]!;
      const qty = series.qty[i]!;
      // A rejected (negative) delta changed nothing, so our orders must not see it either.
      if (book.applyDelta(side, price, qty) !== 'negative') engine?.onDelta(side, price, qty, ts);
      temporal.update(ts, book);
      return;
    }
    case EventKind.TradeTakerYes:
    case EventKind.TradeTakerNo: {
      const yes = kind === EventKind.TradeTakerYes;
      engine?.onTrade(series.price[i]!, series.qty[i]!, yes ? 'yes' : 'no', ts);
      temporal.update(ts, book, yes ? series.qty[i]! : -series.qty[i]!);
      return;
    }
    default: {
      const snap = series.snapshots[series.qty[i]!]!;
      // With orders in play, paper's replay turns the snapshot into level deltas, as the live client does.
      if (engine) replayEvent(engine, book, { kind: 'snapshot', ticker: series.ticker, tsMs: ts, yes: snap.yes, no: snap.no });
      else book.applySnapshot(snap.yes, snap.no);
      temporal.update(ts, book);
    }
  }
}

/**
 * Puts `book` and `temporal` in the state after the initial snapshot (the state before event 0).
 *
 * @example
 * startMarket(session.markets[0]!, new OrderBook('x'), new TemporalState());
 */
export function startMarket(series: MarketSeries, book: OrderBook, temporal: TemporalState): void {
  book.applySnapshot(series.initial.yes, series.initial.no);
  temporal.reset();
  temporal.update(series.initialTsMs, book);
}

/** Fraction of the other values strictly below each value (ties share a rank), in [0, 1]. */
function percentileRanks(values: readonly number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  return values.map((v) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return values.length > 1 ? lo / (values.length - 1) : 0;
  });
}

/**
 * Prepares sessions for the env: one `PoolMarket` per market with at least `minEvents` events,
 * checkpoints every `checkpointInterval` events, and statistics. Pure CPU work on in-memory data.
 *
 * @example
 * const pool = createMarketPool([session], { checkpointInterval: 64 });
 */
export function createMarketPool(
  sessions: readonly SessionData[],
  options: { readonly checkpointInterval?: number; readonly minEvents?: number } = {},
): MarketPool {
  const interval = options.checkpointInterval ?? 64;
  const minEvents = options.minEvents ?? 2;
  if (!Number.isInteger(interval) || interval < 1) throw envError('INVALID_ARGUMENT', `checkpointInterval must be a positive integer, got ${interval}`);
  const book = new OrderBook('pool');
  const temporal = new TemporalState();
  const prepared: { sessionId: string; series: MarketSeries; books: OrderBook[]; temporal: Float64Array; volatility: number; rate: number; durationMs: number }[] = [];
  for (const session of sessions) {
    for (const series of session.markets) {
      if (series.length < minEvents) continue;
      const n = series.length;
      const checkpoints = Math.ceil(n / interval);
      const books: OrderBook[] = [];
      const saved = new Float64Array(checkpoints * TEMPORAL_STATE_SIZE);
      startMarket(series, book, temporal);
      let prevMid = effectiveMid(book);
      let sumSq = 0;
      for (let i = 0; i < n; i++) {
        if (i % interval === 0) {
          books.push(book.clone());
          temporal.save(saved, (i / interval) * TEMPORAL_STATE_SIZE);
        }
        replaySeriesEvent(series, i, book, temporal);
        const mid = effectiveMid(book);
        const d = (mid - prevMid) / PRICE_ONE;
        sumSq += d * d;
        prevMid = mid;
      }
      const durationMs = Math.max(1, series.tsMs[n - 1]! - series.initialTsMs);
      const minutes = durationMs / 60_000;
      prepared.push({ sessionId: session.id, series, books, temporal: saved, volatility: Math.sqrt(sumSq / minutes), rate: n / minutes, durationMs });
    }
  }
  if (prepared.length === 0) throw envError('INVALID_ARGUMENT', `no market has at least ${minEvents} events`);
  const volRanks = percentileRanks(prepared.map((p) => p.volatility));
  const rateRanks = percentileRanks(prepared.map((p) => p.rate));
  const markets = prepared.map((p, i): PoolMarket => ({
    sessionId: p.sessionId,
    series: p.series,
    books: p.books,
    temporal: p.temporal,
    stats: {
      events: p.series.length,
      durationMs: p.durationMs,
      eventsPerMinute: p.rate,
      volatility: p.volatility,
      difficulty: (volRanks[i]! + rateRanks[i]!) / 2,
    },
  }));
  return { markets, checkpointInterval: interval, events: markets.reduce((s, m) => s + m.series.length, 0) };
}
