import type { BookEvent } from './bookEvent';
import type { Level } from './orderBook';

/** Event kinds in `MarketSeries.kind`. */
export const EventKind = {
  DeltaYes: 0,
  DeltaNo: 1,
  TradeTakerYes: 2,
  TradeTakerNo: 3,
  /** A mid-session snapshot (e.g. after a resync); `qty` holds its index in `snapshots`. */
  Snapshot: 4,
} as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

/** Both bid ladders of a book at one moment, `[priceUnits, countCenti]` levels ascending by price. */
export interface BookSnapshot {
  readonly yes: readonly Level[];
  readonly no: readonly Level[];
}

/** How a market settled: YES, NO, void (refunded) or a scalar value. */
export type SettlementResult = 'yes' | 'no' | 'void' | 'scalar';

/** A market's recorded settlement. */
export interface Settlement {
  readonly result: SettlementResult;
  /** Payout of one YES contract in price units (10,000 for YES, 0 for NO, the value for scalar). */
  readonly yesPayoutUnits: number;
  readonly tsMs: number;
}

/**
 * One market's recorded events in columnar form (about 19 bytes per event). Event `i` is
 * (`tsMs[i]`, `kind[i]`, `price[i]`, `qty[i]`): a delta's signed centi-contract change, a trade's
 * centi-contract count, or a snapshot's index.
 */
export interface MarketSeries {
  readonly ticker: string;
  readonly initial: BookSnapshot;
  readonly initialTsMs: number;
  readonly length: number;
  readonly tsMs: Float64Array;
  readonly kind: Uint8Array;
  readonly price: Uint16Array;
  readonly qty: Float64Array;
  readonly snapshots: readonly BookSnapshot[];
  readonly settlement?: Settlement;
}

/**
 * A recorded session in memory: what the env trains on. It holds no database or socket handle, so
 * code that only has a `SessionData` cannot do I/O.
 */
export interface SessionData {
  readonly id: string;
  readonly markets: readonly MarketSeries[];
}

class SeriesBuilder {
  length = 0;
  tsMs = new Float64Array(256);
  kind = new Uint8Array(256);
  price = new Uint16Array(256);
  qty = new Float64Array(256);
  snapshots: BookSnapshot[] = [];
  settlement: Settlement | undefined;

  constructor(
    readonly ticker: string,
    readonly initial: BookSnapshot,
    readonly initialTsMs: number,
  ) {}

  push(tsMs: number, kind: EventKind, price: number, qty: number): void {
    if (this.length === this.tsMs.length) {
      const n = this.length * 2;
      const grow = <T extends Float64Array | Uint8Array | Uint16Array>(a: T, make: (n: number) => T): T => {
        const b = make(n);
        b.set(a);
        return b;
      };
      this.tsMs = grow(this.tsMs, (k) => new Float64Array(k));
      this.kind = grow(this.kind, (k) => new Uint8Array(k));
      this.price = grow(this.price, (k) => new Uint16Array(k));
      this.qty = grow(this.qty, (k) => new Float64Array(k));
    }
    const i = this.length++;
    this.tsMs[i] = tsMs;
    this.kind[i] = kind;
    this.price[i] = price;
    this.qty[i] = qty;
  }

  build(): MarketSeries {
    const n = this.length;
    const series: MarketSeries = {
      ticker: this.ticker,
      initial: this.initial,
      initialTsMs: this.initialTsMs,
      length: n,
      tsMs: this.tsMs.slice(0, n),
      kind: this.kind.slice(0, n),
      price: this.price.slice(0, n),
      qty: this.qty.slice(0, n),
      snapshots: this.snapshots,
    };
    return this.settlement ? { ...series, settlement: this.settlement } : series;
  }
}

/** Accumulates normalized events into a `SessionData` (see `createSessionDataBuilder`). */
export interface SessionDataBuilder {
  /** Appends one event; events of a market before its first snapshot are dropped (no book to apply them to). */
  add(event: BookEvent): void;
  /** Records a market's settlement (from `market_lifecycle_v2` or market metadata). */
  settle(ticker: string, settlement: Settlement): void;
  /** The session accumulated so far, in columnar form. */
  build(): SessionData;
}

/**
 * Builds a `SessionData` from normalized events in arrival order. A market starts at its first
 * snapshot; events before it are dropped (they cannot be applied to an unknown book).
 *
 * @example
 * const b = createSessionDataBuilder('sim-42'); for (const e of events) b.add(e); const session = b.build();
 */
export function createSessionDataBuilder(id: string): SessionDataBuilder {
  const series = new Map<string, SeriesBuilder>();
  return {
    add(event) {
      const s = series.get(event.ticker);
      if (event.kind === 'snapshot') {
        const snap: BookSnapshot = { yes: event.yes, no: event.no };
        if (!s) series.set(event.ticker, new SeriesBuilder(event.ticker, snap, event.tsMs));
        else {
          s.snapshots.push(snap);
          s.push(event.tsMs, EventKind.Snapshot, 0, s.snapshots.length - 1);
        }
        return;
      }
      if (!s) return;
      if (event.kind === 'delta') {
        s.push(event.tsMs, event.side === 'yes' ? EventKind.DeltaYes : EventKind.DeltaNo, event.priceUnits, event.deltaCenti);
      } else {
        s.push(event.tsMs, event.takerSide === 'yes' ? EventKind.TradeTakerYes : EventKind.TradeTakerNo, event.yesPriceUnits, event.countCenti);
      }
    },
    settle(ticker, settlement) {
      const s = series.get(ticker);
      if (s) s.settlement = settlement;
    },
    build() {
      return { id, markets: [...series.values()].map((s) => s.build()) };
    },
  };
}

/**
 * Event `i` of a series as a `BookEvent` (allocates; for replays outside the env's hot path).
 *
 * @example
 * const first = seriesEvent(session.markets[0]!, 0);
 */
export function seriesEvent(series: MarketSeries, i: number): BookEvent {
  const ticker = series.ticker;
  const tsMs = series.tsMs[i]!;
  const kind = series.kind[i]!;
  const price = series.price[i]!;
  const qty = series.qty[i]!;
  if (kind === EventKind.DeltaYes || kind === EventKind.DeltaNo) {
    return { kind: 'delta', ticker, tsMs, side: kind === EventKind.DeltaYes ? 'yes' : 'no', priceUnits: price, deltaCenti: qty };
  }
  if (kind === EventKind.TradeTakerYes || kind === EventKind.TradeTakerNo) {
    return { kind: 'trade', ticker, tsMs, yesPriceUnits: price, countCenti: qty, takerSide: kind === EventKind.TradeTakerYes ? 'yes' : 'no' };
  }
  const snap = series.snapshots[qty]!;
  return { kind: 'snapshot', ticker, tsMs, yes: snap.yes, no: snap.no };
}

/**
 * A whole session as one stream of `BookEvent`s, as a live feed would deliver it: each market's initial
 * snapshot, then its events, markets interleaved by exchange time (each market's own order kept). Feed it
 * to `SharedOrderbookState.applyEvent` to replay a recording through live consumers.
 *
 * @example
 * for (const event of sessionEvents(session)) state.applyEvent(event);
 */
export function* sessionEvents(session: SessionData): Generator<BookEvent> {
  const markets = session.markets;
  const next = markets.map(() => -1); // -1: the initial snapshot is next
  const timeOf = (m: number): number => {
    const s = markets[m]!;
    const i = next[m]!;
    return i < 0 ? s.initialTsMs : i < s.length ? s.tsMs[i]! : Number.POSITIVE_INFINITY;
  };
  for (;;) {
    let best = -1;
    let bestTs = Number.POSITIVE_INFINITY;
    for (let m = 0; m < markets.length; m++) {
      const t = timeOf(m);
      if (t < bestTs) {
        best = m;
        bestTs = t;
      }
    }
    if (best < 0) return;
    const s = markets[best]!;
    const i = next[best]!++;
    yield i < 0 ? { kind: 'snapshot', ticker: s.ticker, tsMs: s.initialTsMs, yes: s.initial.yes, no: s.initial.no } : seriesEvent(s, i);
  }
}
