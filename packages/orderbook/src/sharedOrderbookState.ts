import { type BookEvent, frameToBookEvent } from './bookEvent';
import type { KalshiFrame } from './frames';
import { type BookUpdateResult, type BookView, OrderBook } from './orderBook';
import { SequenceTracker } from './sequenceTracker';

/**
 * What `applyFrame` / `applyEvent` did with one input:
 * - `'snapshot'` / `'delta'`: a book was replaced / changed (see `update` for 'negative' or 'crossed');
 * - `'trade'`: a public trade (books unchanged: deltas carry the liquidity change);
 * - `'duplicate'`: seq ≤ last on its sid: ignored;
 * - `'ignored'`: a delta for a market without a snapshot yet (nothing to apply it to);
 * - `'other'`: any other frame (acks, fills, ticker, lifecycle, unknown): sequencing only.
 */
export type FrameOutcome = 'snapshot' | 'delta' | 'trade' | 'duplicate' | 'ignored' | 'other';

/** What {@link SharedOrderbookState.applyFrame} and `applyEvent` did with one input. */
export interface ApplyResult {
  readonly outcome: FrameOutcome;
  /** The book's verdict for snapshots and deltas ('negative': not applied; 'negative'/'crossed': book now stale). */
  readonly update: BookUpdateResult | undefined;
  /**
   * True when the books of this frame's sid need a resync snapshot (they are marked stale by the time
   * anyone sees the result): the frame revealed a sequence gap, or it was a snapshot the book refused (read
   * as a lost frame). A collector answers both alike (`get_snapshot` for the sid's markets).
   */
  readonly gap: boolean;
  /** The normalized event that changed state: absent for duplicates, ignored frames and rejected (negative) updates. */
  readonly event: BookEvent | undefined;
}

/** Running totals since construction. */
export interface StateCounters {
  /** Frames passed to `applyFrame` plus events passed to `applyEvent`. */
  frames: number;
  snapshots: number;
  deltas: number;
  /** Duplicates and deltas for markets without a usable snapshot (none yet, or the last one was refused). */
  ignored: number;
  /** Sequence gaps (refused snapshots count in `negative`). */
  gaps: number;
  /** Updates that left a book crossed or locked (a book that stays crossed counts once). */
  crossed: number;
  /** Updates rejected because a level would go negative (deltas) or was negative (snapshots). */
  negative: number;
}

/** Called after a book changed (`version` is the book's new version). Keep it cheap: see `subscribe`. */
export type BookListener = (ticker: string, version: number) => void;

/**
 * Sees every normalized event the writer applies, trades included: `before` runs while every book still
 * shows the state before the event, `after` once it is applied and book listeners were notified (a
 * rejected negative delta arrives with `result.event` undefined). A consumer that must act on the state
 * *as of a point in exchange time* (the live actor deciding at a tick) does so in `before` of the first
 * event past that point. Keep both cheap: they run on the writer's path.
 */
export interface BookEventListener {
  /** Called before `event` is applied: every book still shows the state before it. */
  before?(event: BookEvent): void;
  /** Called after `event` is applied and book listeners were notified. */
  after?(event: BookEvent, result: ApplyResult): void;
}

/** Options of {@link createSharedOrderbookState}. */
export interface SharedOrderbookStateOptions {
  /** Receives errors thrown by listeners (they are always caught and counted in `listenerErrors`). */
  readonly onListenerError?: (error: unknown, ticker: string) => void;
}

/** Error codes after which Kalshi stops a subscription (channel error, buffer overflow): resubscribe. */
const TERMINAL_ERROR_CODES = new Set([10, 25]);

/**
 * The one in-memory copy of every market's book: exactly one `OrderBook` per market and one writer
 * (`applyFrame` for live/captured frames, `applyEvent` for normalized historical events); many readers
 * (actor, UI, recorder) read `BookView`s and subscribe to change notifications.
 *
 * - Sequencing: every frame with `sid` and `seq` goes through a `SequenceTracker`. Duplicates are ignored;
 *   a gap marks every book of that sid stale until a fresh snapshot for that market arrives. Deltas that
 *   reach a stale book are still applied (the view stays as current as possible; `stale` says not to trust it).
 * - A refused snapshot (a negative size) is handled as a gap on its sid, and its market's deltas are ignored
 *   until the next snapshot: they build on a book we could not read, not on the one we still show.
 * - Timestamps: snapshots carry none, so their event time is the last exchange time (`ts_ms`) seen on this
 *   stream (`lastTsMs`), else the caller's `recvMs`, else 0: one exchange clock for every event once the
 *   stream has shown it (decisions on a grid of exchange time depend on it).
 * - Notifications are synchronous and happen after the write is complete, so a listener always sees a
 *   consistent book. Each listener call is isolated by try/catch: a throwing listener never breaks the
 *   writer or other listeners (the error is counted and passed to `onListenerError`). Listeners must be
 *   cheap (set a flag, enqueue a ticker): anything slow belongs in the reader's own queue.
 * - Views: `book()` returns the live book typed read-only; reads within one synchronous turn are
 *   consistent, and `version` tells whether it changed since. `copyBook()` returns an independent copy to hold
 *   across `await`s.
 *
 * @example
 * const state = createSharedOrderbookState();
 * const off = state.subscribe((ticker, version) => dirty.add(ticker));
 * state.applyFrame(parseFrame(message), clock.now());
 * state.book('KXFED-26DEC-T4.00')?.bestBid('yes');
 */
export class SharedOrderbookState {
  private readonly books = new Map<string, OrderBook>();
  private readonly sidOf = new Map<string, number>();
  private readonly sequences = new SequenceTracker();
  /** Markets whose last snapshot was refused: their deltas wait for the next snapshot. */
  private readonly unreadable = new Set<string>();
  private listeners: readonly BookListener[] = [];
  private eventListeners: readonly BookEventListener[] = [];
  private readonly onListenerError: ((error: unknown, ticker: string) => void) | undefined;
  private lastExchangeTsMs: number | undefined;
  /** Running totals (read-only for callers). */
  readonly counters: Readonly<StateCounters> = {
    frames: 0,
    snapshots: 0,
    deltas: 0,
    ignored: 0,
    gaps: 0,
    crossed: 0,
    negative: 0,
  };
  /** Errors thrown by listeners (caught). */
  listenerErrors = 0;

  constructor(options: SharedOrderbookStateOptions = {}) {
    this.onListenerError = options.onListenerError;
  }

  /** The last exchange time (`ts_ms`) seen on the stream, if any. */
  get lastTsMs(): number | undefined {
    return this.lastExchangeTsMs;
  }

  /**
   * The writer for wire frames: sequence check, then the book update, then notifications.
   * `recvMs` (local receive time) stamps snapshots; without it they get the last exchange time.
   */
  applyFrame(frame: KalshiFrame, recvMs?: number): ApplyResult {
    const counters = this.counters as StateCounters;
    counters.frames++;
    let gap = false;
    const { sid, seq } = frame;
    if (sid !== undefined) {
      if (frame.type === 'subscribed') {
        // A (re)subscription starts a new seq sequence, even if the server reuses the sid number.
        this.sequences.forget(sid);
      } else if (seq !== undefined) {
        const status = this.sequences.observe(sid, seq);
        if (status === 'duplicate') {
          counters.ignored++;
          return { outcome: 'duplicate', update: undefined, gap: false, event: undefined };
        }
        if (status === 'gap') {
          counters.gaps++;
          gap = true;
          this.markSidStale(sid);
        }
      }
      if (frame.type === 'unsubscribed' || (frame.type === 'error' && TERMINAL_ERROR_CODES.has(frame.code))) {
        // The subscription is gone: its books stop updating and cannot be trusted.
        this.markSidStale(sid);
        this.sequences.forget(sid);
      }
    }
    if (frame.type === 'orderbook_delta' || frame.type === 'trade' || frame.type === 'ticker' || frame.type === 'fill') {
      if (frame.tsMs !== undefined) this.lastExchangeTsMs = frame.tsMs;
    }
    // Snapshots carry no time: once the stream has shown exchange time, that is the best clock for them
    // (a receive time on the local clock can lag or lead it); before that, the receive time.
    const event = frameToBookEvent(frame, this.lastExchangeTsMs ?? recvMs ?? 0);
    if (event === undefined) return { outcome: 'other', update: undefined, gap, event: undefined };
    if (sid !== undefined && event.kind !== 'trade' && this.sidOf.get(event.ticker) !== sid) {
      this.sidOf.set(event.ticker, sid);
    }
    return this.write(event, gap, sid);
  }

  /**
   * The writer for normalized events (historical paths: database, SessionData). No sequencing:
   * events are assumed to be in order and complete.
   */
  applyEvent(event: BookEvent): ApplyResult {
    (this.counters as StateCounters).frames++;
    if (event.kind !== 'snapshot') this.lastExchangeTsMs = event.tsMs;
    return this.write(event, false, undefined);
  }

  /** Applies one event; `sid` (live frames only) is the subscription a refused snapshot is resynced on. */
  private write(event: BookEvent, gap: boolean, sid: number | undefined): ApplyResult {
    const counters = this.counters as StateCounters;
    if (event.kind === 'trade') {
      const result: ApplyResult = { outcome: 'trade', update: undefined, gap, event };
      this.emitBefore(event);
      this.emitAfter(event, result);
      return result;
    }
    let book = this.books.get(event.ticker);
    let update: BookUpdateResult;
    let wasCrossed = false;
    if (event.kind === 'snapshot') {
      this.emitBefore(event);
      if (book === undefined) {
        book = new OrderBook(event.ticker);
        this.books.set(event.ticker, book);
      }
      counters.snapshots++;
      update = book.applySnapshot(event.yes, event.no);
      if (update !== 'negative') this.unreadable.delete(event.ticker);
      else {
        this.unreadable.add(event.ticker);
        // As if the frame had been lost: the same path as a sequence gap.
        if (sid !== undefined) {
          gap = true;
          this.markSidStale(sid);
        }
      }
    } else {
      if (book === undefined || this.unreadable.has(event.ticker)) {
        counters.ignored++;
        return { outcome: 'ignored', update: undefined, gap, event: undefined };
      }
      this.emitBefore(event);
      counters.deltas++;
      wasCrossed = book.isCrossed();
      update = book.applyDelta(event.side, event.priceUnits, event.deltaCenti);
    }
    if (update === 'negative') counters.negative++;
    else if (update === 'crossed' && !wasCrossed) counters.crossed++;
    this.notify(book);
    const result: ApplyResult = { outcome: event.kind, update, gap, event: update === 'negative' ? undefined : event };
    this.emitAfter(event, result);
    return result;
  }

  private emitBefore(event: BookEvent): void {
    const listeners = this.eventListeners;
    for (let i = 0; i < listeners.length; i++) {
      const before = listeners[i]!.before;
      if (before === undefined) continue;
      try {
        before.call(listeners[i], event);
      } catch (error) {
        this.listenerErrors++;
        this.onListenerError?.(error, event.ticker);
      }
    }
  }

  private emitAfter(event: BookEvent, result: ApplyResult): void {
    const listeners = this.eventListeners;
    for (let i = 0; i < listeners.length; i++) {
      const after = listeners[i]!.after;
      if (after === undefined) continue;
      try {
        after.call(listeners[i], event, result);
      } catch (error) {
        this.listenerErrors++;
        this.onListenerError?.(error, event.ticker);
      }
    }
  }

  private markSidStale(sid: number): void {
    for (const [ticker, s] of this.sidOf) {
      if (s !== sid) continue;
      const book = this.books.get(ticker);
      if (book !== undefined && !book.stale) {
        book.markStale();
        this.notify(book);
      }
    }
  }

  /** Marks every book stale and forgets all sids: call after a reconnect (sids may be renumbered). */
  resetSequences(): void {
    this.sequences.reset();
    this.sidOf.clear();
    for (const book of this.books.values()) {
      if (!book.stale) {
        book.markStale();
        this.notify(book);
      }
    }
  }

  private notify(book: OrderBook): void {
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i]!(book.ticker, book.version);
      } catch (error) {
        this.listenerErrors++;
        this.onListenerError?.(error, book.ticker);
      }
    }
  }

  /**
   * Registers a change listener; returns the function that removes it. Listeners run synchronously right
   * after each write (isolated: a throw is caught). Safe to (un)subscribe from inside a listener.
   */
  subscribe(listener: BookListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /**
   * Registers a `BookEventListener` (isolated like `subscribe`); returns the function that removes it.
   *
   * @example
   * const off = state.subscribeEvents({ before: (e) => runDueTicks(e.ticker, e.tsMs), after: (e) => temporal.observeEvent(e, state.book(e.ticker)!) });
   */
  subscribeEvents(listener: BookEventListener): () => void {
    this.eventListeners = [...this.eventListeners, listener];
    return () => {
      this.eventListeners = this.eventListeners.filter((l) => l !== listener);
    };
  }

  /** The live, read-only view of one market's book. */
  book(ticker: string): BookView | undefined {
    return this.books.get(ticker);
  }

  /** An independent copy of one market's book, safe to hold while the writer moves on. */
  copyBook(ticker: string): BookView | undefined {
    return this.books.get(ticker)?.clone();
  }

  /** Markets with a book, in order of their first snapshot. */
  markets(): string[] {
    return [...this.books.keys()];
  }

  /** The sid a market's book is maintained by, if known. */
  sidOfMarket(ticker: string): number | undefined {
    return this.sidOf.get(ticker);
  }
}

/** Creates an empty `SharedOrderbookState`. */
export function createSharedOrderbookState(options: SharedOrderbookStateOptions = {}): SharedOrderbookState {
  return new SharedOrderbookState(options);
}
