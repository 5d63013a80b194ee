/**
 * Everything live the dashboard shows, outside React: the latest book per market (a plain Map the
 * order-book stream writes), the polled market rows, status and metrics, bounded feeds of actions and
 * training progress, and short histories for the charts. Writers only mutate and mark the store dirty;
 * subscribers (React, through `useLive`) are told once per animation frame, so 1,000 markets updating
 * ten times a second cost one render per frame, not one per message.
 */
import { useSyncExternalStore } from 'react';
import type { ActionMessage, BookView, OrderbookMessage, TrainingMessage, TrainingProgress } from '../../src/server/protocol';
import { apiGet, errorText, type MarketRow, type MarketsResponse, type MetricsView, type StatusView, type TrainingJobView } from './api';
import { Ring, Series } from './series';
import { openStream, type Stream, type StreamName, type StreamStatus } from './stream';

export type DecisionMessage = Extract<ActionMessage, { type: 'decision' }>;
export type FillMessage = Extract<ActionMessage, { type: 'fill' }>;
export type EventMessage = Extract<ActionMessage, { type: 'event' }>;

/** One row of the action feed. `order`: a decision that placed an order; `decision`: one that did not. */
export interface FeedItem {
  readonly id: number;
  readonly kind: 'decision' | 'order' | 'fill' | 'event';
  readonly market: string | null;
  readonly recvMs: number;
  readonly message: ActionMessage;
}

/** An order or fill drawn on a market's price chart (receive time, YES price). */
export interface Marker {
  readonly t: number;
  readonly kind: 'order' | 'fill';
  readonly side: 'bid' | 'ask';
  readonly price: number;
  readonly count: number;
}

export interface TrainingTrace {
  /** timesteps, steps/s, episode return, then one column per loss (in `lossNames` order). */
  progress: Series;
  lossNames: string[];
  /** timesteps, episode return (every finished episode). */
  episodes: Series;
  latest: TrainingProgress | null;
  /** The in-sample evaluation after training (deterministic episodes of the training sessions). */
  evaluation: { readonly episodes: number; readonly meanPnl: number; readonly sharpe: number; readonly winRate: number } | null;
}

export type BookState = 'live' | 'stale' | 'settled';

/** Tickers in natural order: M2 before M10. */
export const TICKER_ORDER = new Intl.Collator('en-US', { numeric: true });

/** Market history columns: bid, ask, position, PnL. */
export const HISTORY = { bid: 0, ask: 1, position: 2, pnl: 3 } as const;

const FEED_CAPACITY = 2000;
const MARKERS_PER_MARKET = 400;
const TRAINING_POINTS = 5000;
const PNL_POINTS = 3600;
/** Points kept per market (at 1 Hz from the markets poll); the market on screen keeps more, at up to 4 Hz. */
const HISTORY_POINTS = 600;
const HISTORY_POINTS_MANY = 180;
const FOCUS_POINTS = 7200;
const FOCUS_SAMPLE_MS = 250;

export interface Polled<T> {
  data: T | null;
  error: string | null;
  /** When the last successful answer arrived. */
  atMs: number | null;
}

function polled<T>(): Polled<T> {
  return { data: null, error: null, atMs: null };
}

const initialStream: StreamStatus = { state: 'connecting', failures: 0, retryAtMs: null, reason: null };

export class LiveStore {
  /** The latest book per ticker, as the order-book stream delivered it. */
  readonly books = new Map<string, BookView>();
  /** The latest polled row per ticker (`GET /rl/markets`). */
  readonly rows = new Map<string, MarketRow>();
  readonly history = new Map<string, Series>();
  readonly markers = new Map<string, Marker[]>();
  readonly feed = new Ring<FeedItem>(FEED_CAPACITY);
  /** Orders and fills only: kept longer than the whole feed, where every HOLD lands. */
  readonly trades = new Ring<FeedItem>(FEED_CAPACITY);
  readonly events = new Ring<FeedItem>(200);
  readonly training = new Map<string, TrainingTrace>();
  readonly trainingJobs = new Map<string, TrainingJobView>();
  readonly pnl = new Series(2, PNL_POINTS);
  readonly streams: Record<StreamName, StreamStatus> = { orderbook: initialStream, actions: initialStream, training: initialStream };
  status = polled<StatusView>();
  metrics = polled<MetricsView>();
  markets = polled<readonly MarketRow[]>();
  /** The order-book stream's per-market rate limit, as the server announced it. */
  bookRateLimit: number | null = null;
  /** Counts of stream messages since the page opened, for the footer. */
  readonly received = { books: 0, actions: 0, training: 0 };

  private tickerList: string[] = [];
  private tickersDirty = true;
  private version = 0;
  private scheduled = false;
  private readonly listeners = new Set<() => void>();
  private nextId = 1;
  private focused: string | null = null;
  private lastFocusSampleMs = 0;
  private streamsOpen: Stream[] = [];
  private orderbook: Stream | null = null;
  private readonly timers: (ReturnType<typeof setTimeout> | undefined)[] = [];
  /** Bumped by start and stop: polls of an earlier start end themselves. */
  private generation = 0;

  // ── Subscription (React) ──────────────────────────────────────────────────────────────────────────

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getVersion = (): number => this.version;

  /** Marks the store changed; subscribers hear about it on the next animation frame. */
  changed(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const flush = () => {
      this.scheduled = false;
      this.version++;
      for (const l of this.listeners) l();
    };
    // rAF pauses in background tabs; the timeout keeps state moving there (no paint, so no cost).
    if (document.visibilityState === 'visible') requestAnimationFrame(flush);
    else setTimeout(flush, 250);
  }

  // ── Markets ───────────────────────────────────────────────────────────────────────────────────────

  /** Every ticker known from the poll or the stream, in natural order. */
  tickers(): readonly string[] {
    if (this.tickersDirty) {
      const all = new Set(this.rows.keys());
      for (const t of this.books.keys()) all.add(t);
      this.tickerList = [...all].sort(TICKER_ORDER.compare);
      this.tickersDirty = false;
    }
    return this.tickerList;
  }

  /**
   * The freshest book of a market: the streamed one while the stream is up (it is at most 1/10 s old, and
   * a market whose book did not change since is not streamed again), else undefined (use the polled row).
   */
  book(ticker: string): BookView | undefined {
    return this.streams.orderbook.state === 'open' ? this.books.get(ticker) : undefined;
  }

  bestBid(ticker: string): number | null {
    const book = this.book(ticker);
    return book !== undefined ? book.bestBid : (this.rows.get(ticker)?.bestBid ?? null);
  }

  bestAsk(ticker: string): number | null {
    const book = this.book(ticker);
    return book !== undefined ? book.bestAsk : (this.rows.get(ticker)?.bestAsk ?? null);
  }

  bookState(ticker: string): BookState {
    const row = this.rows.get(ticker);
    if (row?.settled) return 'settled';
    return (this.book(ticker)?.stale ?? row?.stale ?? false) ? 'stale' : 'live';
  }

  /** The market on screen: its book is followed at full rate (with a snapshot now) and its history kept longer. */
  focus(ticker: string | null): void {
    if (this.focused === ticker) return;
    if (this.focused !== null && this.focused !== ticker) this.orderbook?.send({ type: 'unsubscribe', tickers: [this.focused] });
    this.focused = ticker;
    if (ticker !== null) {
      this.historyOf(ticker).grow(FOCUS_POINTS);
      this.orderbook?.send({ type: 'subscribe', tickers: [ticker] });
    }
  }

  private historyOf(ticker: string): Series {
    let s = this.history.get(ticker);
    if (s === undefined) {
      s = new Series(4, this.rows.size > 200 ? HISTORY_POINTS_MANY : HISTORY_POINTS);
      if (ticker === this.focused) s.grow(FOCUS_POINTS);
      this.history.set(ticker, s);
    }
    return s;
  }

  private onBook(message: OrderbookMessage): void {
    if (message.type === 'error') {
      this.events.push({ id: this.nextId++, kind: 'event', market: null, recvMs: Date.now(), message: { type: 'event', event: 'error', detail: { message: `order-book stream: ${message.message}` } } });
      this.changed();
      return;
    }
    if (message.type === 'subscribed') {
      this.bookRateLimit = message.maxPerSecond;
      return;
    }
    const book = message.book;
    this.received.books++;
    if (!this.books.has(book.ticker) && !this.rows.has(book.ticker)) this.tickersDirty = true;
    this.books.set(book.ticker, book);
    if (book.ticker === this.focused) {
      const now = Date.now();
      if (now - this.lastFocusSampleMs >= FOCUS_SAMPLE_MS) {
        this.lastFocusSampleMs = now;
        const h = this.historyOf(book.ticker);
        h.push(now, [book.bestBid ?? Number.NaN, book.bestAsk ?? Number.NaN, h.last(HISTORY.position), h.last(HISTORY.pnl)]);
      }
    }
    this.changed();
  }

  private onMarkets(rows: readonly MarketRow[]): void {
    const now = Date.now();
    for (const row of rows) {
      if (!this.rows.has(row.ticker)) this.tickersDirty = true;
      this.rows.set(row.ticker, row);
    }
    if (rows.length < this.rows.size) {
      const live = new Set(rows.map((r) => r.ticker));
      for (const t of this.rows.keys()) if (!live.has(t)) this.rows.delete(t);
      this.tickersDirty = true;
    }
    for (const row of rows) {
      const bid = this.bestBid(row.ticker);
      const ask = this.bestAsk(row.ticker);
      this.historyOf(row.ticker).push(now, [bid ?? Number.NaN, ask ?? Number.NaN, row.position, row.pnl]);
    }
  }

  // ── Actions ───────────────────────────────────────────────────────────────────────────────────────

  private onAction(raw: ActionMessage): void {
    this.received.actions++;
    // Optional fields may arrive absent rather than null: one shape from here on.
    const message: ActionMessage =
      raw.type === 'decision' ? { ...raw, order: raw.order ?? null, reject: raw.reject ?? null, override: raw.override ?? null, policyAction: raw.policyAction ?? null } : raw;
    const recvMs = Date.now();
    if (message.type === 'event') {
      const market = typeof message.detail['market'] === 'string' ? message.detail['market'] : null;
      const item: FeedItem = { id: this.nextId++, kind: 'event', market, recvMs, message };
      this.feed.push(item);
      this.events.push(item);
      // A reload or a stop changes what the top bar shows: ask now rather than at the next poll.
      if (message.event === 'reload' || message.event === 'started' || message.event === 'stopped' || message.event === 'halt') void this.pollStatus();
    } else {
      const kind = message.type === 'fill' ? 'fill' : message.order !== null ? 'order' : 'decision';
      const item: FeedItem = { id: this.nextId++, kind, market: message.market, recvMs, message };
      this.feed.push(item);
      if (kind !== 'decision') {
        this.trades.push(item);
        const marker: Marker =
          message.type === 'fill'
            ? { t: recvMs, kind: 'fill', side: message.side, price: message.price, count: message.count }
            : { t: recvMs, kind: 'order', side: message.order!.side, price: message.order!.price, count: message.order!.count };
        let list = this.markers.get(message.market);
        if (list === undefined) this.markers.set(message.market, (list = []));
        list.push(marker);
        if (list.length > MARKERS_PER_MARKET * 1.5) list.splice(0, list.length - MARKERS_PER_MARKET);
      }
    }
    this.changed();
  }

  // ── Training ──────────────────────────────────────────────────────────────────────────────────────

  traceOf(jobId: string): TrainingTrace {
    let trace = this.training.get(jobId);
    if (trace === undefined) {
      trace = { progress: new Series(2, TRAINING_POINTS), lossNames: [], episodes: new Series(1, TRAINING_POINTS), latest: null, evaluation: null };
      this.training.set(jobId, trace);
    }
    return trace;
  }

  private onTraining(message: TrainingMessage): void {
    this.received.training++;
    switch (message.type) {
      case 'progress': {
        const trace = this.traceOf(message.jobId);
        const p = message.progress;
        const names = Object.keys(p.losses);
        if (names.some((n) => !trace.lossNames.includes(n))) {
          // New loss names: start the columns over with room for them (rare: once per job).
          const old = trace.progress.columns();
          trace.lossNames = [...new Set([...trace.lossNames, ...names])];
          trace.progress = new Series(2 + trace.lossNames.length, TRAINING_POINTS);
          for (let k = 0; k < old[0].length; k++) trace.progress.push(old[0][k]!, [old[1]?.[k] ?? Number.NaN, old[2]?.[k] ?? Number.NaN]);
        }
        trace.progress.push(p.timesteps, [p.sps ?? Number.NaN, p.episodeReturn ?? Number.NaN, ...trace.lossNames.map((n) => p.losses[n] ?? Number.NaN)]);
        trace.latest = p;
        break;
      }
      case 'episode':
        this.traceOf(message.jobId).episodes.push(message.timesteps, [message.episodeReturn]);
        break;
      case 'eval':
        this.traceOf(message.jobId).evaluation = { episodes: message.episodes, meanPnl: message.meanPnl, sharpe: message.sharpe, winRate: message.winRate };
        break;
      case 'status':
        this.trainingJobs.set(message.job.id, message.job);
        break;
    }
    this.changed();
  }

  // ── Polls ─────────────────────────────────────────────────────────────────────────────────────────

  async pollStatus(): Promise<void> {
    try {
      this.status = { data: await apiGet<StatusView>('rl/status'), error: null, atMs: Date.now() };
    } catch (error) {
      this.status = { ...this.status, error: errorText(error) };
    }
    this.changed();
  }

  private async pollMarkets(): Promise<void> {
    try {
      const { markets } = await apiGet<MarketsResponse>('rl/markets');
      this.onMarkets(markets);
      this.markets = { data: markets, error: null, atMs: Date.now() };
    } catch (error) {
      this.markets = { ...this.markets, error: errorText(error) };
    }
    this.changed();
  }

  private async pollMetrics(): Promise<void> {
    try {
      const m = await apiGet<MetricsView>('rl/metrics');
      this.metrics = { data: m, error: null, atMs: Date.now() };
      this.pnl.push(Date.now(), [m.pnl, m.fees]);
    } catch (error) {
      this.metrics = { ...this.metrics, error: errorText(error) };
    }
    this.changed();
  }

  /** Runs `poll` now and then `intervalMs` after each answer (never two at once). */
  private every(intervalMs: number, poll: () => Promise<void>): void {
    const slot = this.timers.push(undefined) - 1;
    const generation = this.generation;
    const run = async () => {
      if (generation !== this.generation) return;
      await poll();
      if (generation === this.generation) this.timers[slot] = setTimeout(run, intervalMs);
    };
    void run();
  }

  // ── Life cycle ────────────────────────────────────────────────────────────────────────────────────

  /** Opens the three streams and starts the polls. */
  start(token: string | null): void {
    this.generation++;
    const status = (name: StreamName) => (s: StreamStatus) => {
      this.streams[name] = s;
      this.changed();
    };
    this.orderbook = openStream<OrderbookMessage>({
      name: 'orderbook',
      token,
      onMessage: (m) => this.onBook(m),
      onOpen: (send) => {
        // Books from before a reconnect may be stale: start over from snapshots.
        this.books.clear();
        this.tickersDirty = true;
        // '*' streams changes only (until a market changes, its polled row shows it); the market on
        // screen also gets its snapshot now, for the depth chart.
        send({ type: 'subscribe', tickers: this.focused === null ? ['*'] : ['*', this.focused] });
      },
      onStatus: status('orderbook'),
    });
    this.streamsOpen = [
      this.orderbook,
      openStream<ActionMessage>({ name: 'actions', token, onMessage: (m) => this.onAction(m), onStatus: status('actions') }),
      openStream<TrainingMessage>({ name: 'training', token, onMessage: (m) => this.onTraining(m), onStatus: status('training') }),
    ];
    this.every(1000, () => this.pollStatus());
    this.every(1000, () => this.pollMarkets());
    this.every(1000, () => this.pollMetrics());
  }

  stop(): void {
    this.generation++;
    for (const s of this.streamsOpen) s.close();
    this.streamsOpen = [];
    this.orderbook = null;
    for (const t of this.timers) clearTimeout(t);
    this.timers.length = 0;
  }
}

export const store = new LiveStore();

/** Re-renders the calling component once per animation frame in which the store changed. */
export function useLive(): number {
  return useSyncExternalStore(store.subscribe, store.getVersion);
}
