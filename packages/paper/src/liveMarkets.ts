import {
  type ApplyResult,
  type BookEvent,
  type BookView,
  type Clock,
  OrderBook,
  type Rng,
  type SharedOrderbookState,
} from '@kflow/orderbook';
import type { FeeSchedule } from './feeModel';
import { type FillListener, type LatencyModel, MatchingEngine, type QueueModel, replayEvent } from './matchingEngine';
import type { SimOrder } from './orders';
import type { PositionTracker } from './positionTracker';
import type { PriceGrid } from './priceGrid';

/** Per-market settings (defaults: the client's `defaultFees`, whole-cent grid). */
export interface PaperMarketConfig {
  readonly fees?: FeeSchedule;
  readonly grid?: PriceGrid;
  /** For settlement records; default: the ticker up to its last `-`. */
  readonly eventTicker?: string;
}

/** Options of {@link LiveMarkets}: what the paper client shares with the engines it keeps in step. */
export interface LiveMarketsOptions {
  readonly state: SharedOrderbookState;
  readonly clock: Clock;
  /** Forked for each market's latency jitter. */
  readonly rng: Rng;
  readonly tracker: PositionTracker;
  /** Follow only these markets (default: every market of the shared state). */
  readonly tickers?: readonly string[];
  readonly markets?: Readonly<Record<string, PaperMarketConfig>>;
  readonly defaultFees?: FeeSchedule;
  readonly marketCashMicros?: number;
  readonly queueModel?: QueueModel;
  readonly latency?: LatencyModel;
  readonly onFill: FillListener;
  readonly onOrderUpdate: (order: SimOrder) => void;
}

/** One followed market. */
export interface LiveMarket {
  /** Matches against `book`, this client's copy of the live book. */
  readonly engine: MatchingEngine;
  /** The live book (written by the state's owner). */
  readonly live: BookView;
  /**
   * The live book as of the last trusted event: order actions due at an event meet the book as it was
   * before it (as in a replay), then the event is applied to it.
   */
  readonly book: OrderBook;
  readonly eventTicker: string;
}

/**
 * The paper client's engines, kept in step with a live `SharedOrderbookState` (the other half of the client
 * is its Kalshi REST emulation, `kalshiRequests.ts`). Book notifications say only which book changed, so
 * each market's engine matches against a copy of the live book that every applied event reaches through
 * `replayEvent` at the client's clock time: the one path from book events to the matching engine that the
 * env's replay uses too.
 */
export class LiveMarkets {
  private readonly options: LiveMarketsOptions;
  private readonly byTicker = new Map<string, LiveMarket>();
  /** Markets whose engine has order actions waiting for their latency (the only ones `advance` visits). */
  private readonly waiting = new Set<LiveMarket>();
  private readonly follow: ReadonlySet<string> | undefined;
  private readonly unsubscribe: () => void;

  constructor(options: LiveMarketsOptions) {
    this.options = options;
    this.follow = options.tickers === undefined ? undefined : new Set(options.tickers);
    for (const ticker of options.state.markets()) this.add(ticker);
    this.unsubscribe = options.state.subscribeEvents({ after: (event, result) => this.onEvent(event, result) });
  }

  /** A followed market, or undefined. */
  get(ticker: string): LiveMarket | undefined {
    return this.byTicker.get(ticker);
  }

  /** Every followed market with its ticker, in the order they were first followed. */
  entries(): IterableIterator<[string, LiveMarket]> {
    return this.byTicker.entries();
  }

  /** Carries out order actions whose latency has elapsed; returns the clock's time. */
  advance(): number {
    const now = this.options.clock.now();
    for (const m of this.waiting) {
      m.engine.advanceTo(now);
      if (!m.engine.hasPendingActions) this.waiting.delete(m);
    }
    return now;
  }

  /** Remembers a market whose engine now has actions waiting for their latency (after an order action). */
  watch(market: LiveMarket): void {
    if (market.engine.hasPendingActions) this.waiting.add(market);
  }

  /** Stops following the shared state. */
  close(): void {
    this.unsubscribe();
  }

  private add(ticker: string): LiveMarket | undefined {
    if (this.follow !== undefined && !this.follow.has(ticker)) return undefined;
    const o = this.options;
    const live = o.state.book(ticker);
    if (!live) return undefined;
    const book = new OrderBook(ticker);
    copyBook(book, live);
    const config = o.markets?.[ticker] ?? {};
    if (o.marketCashMicros !== undefined) o.tracker.cashMicros += o.marketCashMicros;
    const fees = config.fees ?? o.defaultFees;
    const engine = new MatchingEngine({
      ticker,
      book,
      tracker: o.tracker,
      ...(fees ? { fees } : {}),
      ...(config.grid ? { grid: config.grid } : {}),
      ...(o.queueModel ? { queueModel: o.queueModel } : {}),
      ...(o.latency ? { latency: o.latency, rng: o.rng.fork() } : {}),
      ...(o.marketCashMicros === undefined ? {} : { marketCashMicros: o.marketCashMicros }),
      onFill: o.onFill,
      onOrderUpdate: o.onOrderUpdate,
    });
    const dash = ticker.lastIndexOf('-');
    const eventTicker = config.eventTicker ?? (dash > 0 ? ticker.slice(0, dash) : ticker);
    const market: LiveMarket = { engine, live, book, eventTicker };
    this.byTicker.set(ticker, market);
    return market;
  }

  /**
   * An event the shared state applied: replayed on this copy of the book exactly as a recorded event is in
   * training (`replayEvent`: due order actions, then the change, then fills), at the client's clock time.
   * Other markets' due actions wait for their own next event or API call.
   */
  private onEvent(event: BookEvent, result: ApplyResult): void {
    const market = this.byTicker.get(event.ticker) ?? this.add(event.ticker);
    if (!market) return;
    const now = this.options.clock.now();
    // A stale book (sequence gap) is not trusted: the copy stays at the last trusted state, so the resync
    // snapshot is replayed as one difference. A refused (negative) delta changed nothing.
    if (event.kind !== 'trade' && (market.live.stale || result.event === undefined)) {
      market.engine.advanceTo(now);
      return;
    }
    replayEvent(market.engine, market.book, event, now);
    if (!market.engine.hasPendingActions) this.waiting.delete(market);
  }
}

/** Makes `to` a copy of `from` (allocation-free when `from` is an `OrderBook`). */
function copyBook(to: OrderBook, from: BookView): void {
  if (from instanceof OrderBook) to.copyFrom(from);
  else to.applySnapshot(from.levels('yes'), from.levels('no'));
}
