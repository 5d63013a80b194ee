import type { BookUpdateResult, Level, OrderBook, Side } from './orderBook';
import type { KalshiFrame } from './frames';

/** A full replacement of one market's book. */
export interface SnapshotEvent {
  readonly kind: 'snapshot';
  readonly ticker: string;
  /** Exchange time in epoch ms (snapshots carry none on the wire: the last known exchange or receive time). */
  readonly tsMs: number;
  readonly yes: readonly Level[];
  readonly no: readonly Level[];
}

/** A signed size change at one level. */
export interface DeltaEvent {
  readonly kind: 'delta';
  readonly ticker: string;
  readonly tsMs: number;
  readonly side: Side;
  readonly priceUnits: number;
  readonly deltaCenti: number;
}

/** A public trade: `takerSide` is the outcome the taker bought. */
export interface TradeEvent {
  readonly kind: 'trade';
  readonly ticker: string;
  readonly tsMs: number;
  readonly yesPriceUnits: number;
  readonly countCenti: number;
  readonly takerSide: Side;
}

/**
 * The normalized market-data event that live (WebSocket) and historical (capture, database) paths both
 * produce, so everything downstream sees one shape.
 */
export type BookEvent = SnapshotEvent | DeltaEvent | TradeEvent;

/** Applies a snapshot or delta to a book; trades do not change the book (deltas carry the liquidity change). */
export function applyBookEvent(book: OrderBook, event: BookEvent): BookUpdateResult {
  switch (event.kind) {
    case 'snapshot':
      return book.applySnapshot(event.yes, event.no);
    case 'delta':
      return book.applyDelta(event.side, event.priceUnits, event.deltaCenti);
    case 'trade':
      return 'ok';
  }
}

/**
 * Normalizes a parsed frame into a `BookEvent` (snapshot, delta or trade; other frames give undefined).
 * `fallbackTsMs` stamps frames without an exchange time: snapshots never carry one, and legacy deltas
 * may lack `ts_ms`. Callers pass the capture's receive time when known, else the last exchange time
 * seen on the stream (`SharedOrderbookState` does exactly this).
 *
 * @example
 * const e = frameToBookEvent(parseFrame(line), recvMs ?? lastTsMs);
 */
export function frameToBookEvent(frame: KalshiFrame, fallbackTsMs: number): BookEvent | undefined {
  switch (frame.type) {
    case 'orderbook_snapshot':
      return { kind: 'snapshot', ticker: frame.ticker, tsMs: fallbackTsMs, yes: frame.yes, no: frame.no };
    case 'orderbook_delta':
      return {
        kind: 'delta',
        ticker: frame.ticker,
        tsMs: frame.tsMs ?? fallbackTsMs,
        side: frame.side,
        priceUnits: frame.priceUnits,
        deltaCenti: frame.deltaCenti,
      };
    case 'trade':
      return {
        kind: 'trade',
        ticker: frame.ticker,
        tsMs: frame.tsMs,
        yesPriceUnits: frame.yesPriceUnits,
        countCenti: frame.countCenti,
        takerSide: frame.takerSide,
      };
    default:
      return undefined;
  }
}
