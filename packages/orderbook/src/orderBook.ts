import { KflowError } from './errors';
import { PRICE_ONE } from './units';

/** The two outcome legs. Kalshi books list bids only, for YES and for NO. */
export type Side = 'yes' | 'no';

/** A price level in exact units: [priceUnits, countCenti]. */
export type Level = readonly [priceUnits: number, countCenti: number];

/**
 * Outcome of a book mutation. `'negative'` (a delta would leave a level below zero, or a snapshot lists a
 * negative size; nothing is applied) and `'crossed'` (best YES bid + best NO bid ≥ $1 after the update) flag the book as needing a
 * resync; neither is ever clamped away.
 */
export type BookUpdateResult = 'ok' | 'negative' | 'crossed';

const INITIAL_CAPACITY = 16;

/**
 * Guards the book against programmer errors that typed arrays would otherwise hide (a fractional or
 * out-of-range price is silently truncated by `Int32Array`): prices are integers in [0, $1], sizes integers.
 */
function checkLevel(priceUnits: number, countCenti: number): void {
  if (!(Number.isInteger(priceUnits) && priceUnits >= 0 && priceUnits <= PRICE_ONE)) {
    throw new KflowError('INVALID_NUMBER', `Invalid price: ${priceUnits} (expected integer price units in [0, ${PRICE_ONE}])`, {
      details: { field: 'priceUnits', value: priceUnits },
    });
  }
  if (!Number.isSafeInteger(countCenti)) {
    throw new KflowError('INVALID_NUMBER', `Invalid size: ${countCenti} (expected integer centi-contracts)`, {
      details: { field: 'countCenti', value: countCenti },
    });
  }
}

/** Checks every level of a snapshot side (see `checkLevel`); false when one has a negative size. */
function nonNegativeLevels(levels: readonly Level[]): boolean {
  let ok = true;
  for (const [price, size] of levels) {
    checkLevel(price, size);
    if (size < 0) ok = false;
  }
  return ok;
}

/** One side's bids, ascending by price, so the best bid is the last level (Kalshi's order). */
class BidLadder {
  prices = new Int32Array(INITIAL_CAPACITY);
  sizes = new Float64Array(INITIAL_CAPACITY);
  length = 0;
  total = 0;

  /** Index of `price`, or `-(insertionPoint + 1)` when absent. */
  search(price: number): number {
    let lo = 0;
    let hi = this.length - 1;
    // Most updates hit the top of the book: check the best level first.
    if (hi >= 0 && this.prices[hi] === price) return hi;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const p = this.prices[mid]!;
      if (p < price) lo = mid + 1;
      else if (p > price) hi = mid - 1;
      else return mid;
    }
    return -(lo + 1);
  }

  /** Adds `delta` at `price`; returns false (and changes nothing) if the level would go negative. */
  add(price: number, delta: number): boolean {
    const idx = this.search(price);
    if (idx >= 0) {
      const next = this.sizes[idx]! + delta;
      if (next < 0) return false;
      if (next === 0) this.removeAt(idx);
      else this.sizes[idx] = next;
    } else {
      if (delta < 0) return false;
      if (delta === 0) return true;
      this.insertAt(-idx - 1, price, delta);
    }
    this.total += delta;
    return true;
  }

  // Shifts are plain loops: ladders are short and most changes sit near the best level (the end), where a
  // loop of a few iterations is several times faster than a native `copyWithin` call.
  private insertAt(at: number, price: number, size: number): void {
    if (this.length === this.prices.length) this.grow();
    const { prices, sizes } = this;
    for (let i = this.length; i > at; i--) {
      prices[i] = prices[i - 1]!;
      sizes[i] = sizes[i - 1]!;
    }
    prices[at] = price;
    sizes[at] = size;
    this.length++;
  }

  private removeAt(at: number): void {
    const { prices, sizes } = this;
    const last = --this.length;
    for (let i = at; i < last; i++) {
      prices[i] = prices[i + 1]!;
      sizes[i] = sizes[i + 1]!;
    }
  }

  private grow(): void {
    const prices = new Int32Array(this.prices.length * 2);
    prices.set(this.prices);
    const sizes = new Float64Array(this.sizes.length * 2);
    sizes.set(this.sizes);
    this.prices = prices;
    this.sizes = sizes;
  }

  clear(): void {
    this.length = 0;
    this.total = 0;
  }

  copyFrom(other: BidLadder): void {
    if (this.prices.length < other.length) {
      this.prices = new Int32Array(other.prices.length);
      this.sizes = new Float64Array(other.sizes.length);
    }
    this.prices.set(other.prices.subarray(0, other.length));
    this.sizes.set(other.sizes.subarray(0, other.length));
    this.length = other.length;
    this.total = other.total;
  }
}

/**
 * The read-only surface of a book. All reads are allocation-free; prices are integer price units
 * (1/10,000 $), sizes integer centi-contracts. Level index 0 is the best level.
 * Integer reads of an empty side return -1 (price) or 0 (size); derived floats return NaN.
 */
export interface BookView {
  readonly ticker: string;
  /** Increments on every mutation. */
  readonly version: number;
  /** True when the book may be wrong (sequence gap, negative level, crossed) until a fresh snapshot. */
  readonly stale: boolean;
  /** Number of price levels on one side. */
  levelCount(side: Side): number;
  /** Price of the `index`-th best level of one side (0 = best), or -1 past the last level. */
  priceAt(side: Side, index: number): number;
  /** Size of the `index`-th best level of one side (0 = best), or 0 past the last level. */
  sizeAt(side: Side, index: number): number;
  /** Size resting at `priceUnits` on one side (0 when there is no such level). */
  sizeAtPrice(side: Side, priceUnits: number): number;
  /** Best bid of one side, or -1 when the side is empty. */
  bestBid(side: Side): number;
  /** Size at the best bid of one side (0 when empty). */
  bestBidSize(side: Side): number;
  /** Best ask of one side: $1 minus the best bid of the other side, or -1 when that side is empty. */
  bestAsk(side: Side): number;
  /** Size at the best ask of one side (the size of the other side's best bid). */
  bestAskSize(side: Side): number;
  /** YES-leg spread (best ask − best bid) in price units; NaN unless both sides are present. */
  spread(): number;
  /** YES-leg mid in price units (may be a half unit); NaN unless both sides are present. */
  mid(): number;
  /** Size-weighted YES-leg mid in price units; NaN unless both sides are present. */
  microprice(): number;
  /** Total size of the best `levels` levels of one side. */
  depth(side: Side, levels: number): number;
  /** Total size of every level of one side. */
  totalDepth(side: Side): number;
  /** (YES depth − NO depth) / (YES depth + NO depth) over the best `levels` levels; 0 for an empty book. */
  imbalance(levels: number): number;
  /** True when the book is crossed or locked: best YES bid + best NO bid ≥ $1. */
  isCrossed(): boolean;
  /** The levels of one side, ascending by price (best last, as Kalshi sends them). Allocates. */
  levels(side: Side): Level[];
}

/**
 * One market's order book: YES bids and NO bids. A YES ask at p is a NO bid at 1 − p.
 *
 * @example
 * const book = new OrderBook('KXFED-26DEC-T4.00');
 * book.applySnapshot([[4500, 10000]], [[5300, 5000]]);
 * book.applyDelta('yes', 4600, 2500); // 'ok'
 * book.bestAsk('yes'); // 4700 (= 10000 − best NO bid 5300)
 */
export class OrderBook implements BookView {
  readonly ticker: string;
  version = 0;
  stale = true;
  private readonly yes = new BidLadder();
  private readonly no = new BidLadder();

  constructor(ticker: string) {
    this.ticker = ticker;
  }

  private ladder(side: Side): BidLadder {
    return side === 'yes' ? this.yes : this.no;
  }

  /**
   * Replaces both sides. Levels may come in any order; repeated prices are summed. A snapshot with a
   * negative size is rejected whole (`'negative'`): the levels stay as they were and the book is flagged.
   * Throws `INVALID_NUMBER` on a non-integer or out-of-range price or size.
   */
  applySnapshot(yes: readonly Level[], no: readonly Level[]): BookUpdateResult {
    const yesValid = nonNegativeLevels(yes);
    const noValid = nonNegativeLevels(no);
    if (!yesValid || !noValid) return this.flag('negative');
    this.yes.clear();
    this.no.clear();
    for (const [price, size] of yes) this.yes.add(price, size);
    for (const [price, size] of no) this.no.add(price, size);
    this.version++;
    this.stale = false;
    return this.isCrossed() ? this.flag('crossed') : 'ok';
  }

  /**
   * Adds a signed size change at one level; a level that reaches 0 is removed. A change that would leave
   * the level below 0 is not applied (`'negative'`). Throws `INVALID_NUMBER` on a non-integer or
   * out-of-range price or size.
   */
  applyDelta(side: Side, priceUnits: number, deltaCenti: number): BookUpdateResult {
    checkLevel(priceUnits, deltaCenti);
    if (!this.ladder(side).add(priceUnits, deltaCenti)) return this.flag('negative');
    this.version++;
    return this.isCrossed() ? this.flag('crossed') : 'ok';
  }

  /** Marks the book as needing a resync (e.g. after a sequence gap on its subscription). */
  markStale(): void {
    if (!this.stale) {
      this.stale = true;
      this.version++;
    }
  }

  /** Empties the book (it stays stale until a snapshot arrives). */
  clear(): void {
    this.yes.clear();
    this.no.clear();
    this.stale = true;
    this.version++;
  }

  private flag(result: BookUpdateResult): BookUpdateResult {
    this.stale = true;
    this.version++;
    return result;
  }

  levelCount(side: Side): number {
    return this.ladder(side).length;
  }

  priceAt(side: Side, index: number): number {
    const l = this.ladder(side);
    return index < l.length ? l.prices[l.length - 1 - index]! : -1;
  }

  sizeAt(side: Side, index: number): number {
    const l = this.ladder(side);
    return index < l.length ? l.sizes[l.length - 1 - index]! : 0;
  }

  sizeAtPrice(side: Side, priceUnits: number): number {
    const l = this.ladder(side);
    const idx = l.search(priceUnits);
    return idx >= 0 ? l.sizes[idx]! : 0;
  }

  bestBid(side: Side): number {
    return this.priceAt(side, 0);
  }

  bestBidSize(side: Side): number {
    return this.sizeAt(side, 0);
  }

  /** Best ask of `side` = $1 − best bid of the other side; -1 when that side is empty. */
  bestAsk(side: Side): number {
    const other = this.bestBid(side === 'yes' ? 'no' : 'yes');
    return other < 0 ? -1 : PRICE_ONE - other;
  }

  bestAskSize(side: Side): number {
    return this.bestBidSize(side === 'yes' ? 'no' : 'yes');
  }

  /** YES-leg spread in price units (NaN unless both sides are present). */
  spread(): number {
    const bid = this.bestBid('yes');
    const ask = this.bestAsk('yes');
    return bid < 0 || ask < 0 ? Number.NaN : ask - bid;
  }

  /** YES-leg mid in price units (may be a half unit; NaN unless both sides are present). */
  mid(): number {
    const bid = this.bestBid('yes');
    const ask = this.bestAsk('yes');
    return bid < 0 || ask < 0 ? Number.NaN : (bid + ask) / 2;
  }

  /** Size-weighted YES-leg mid: leans toward the side with less size at the touch. */
  microprice(): number {
    const bid = this.bestBid('yes');
    const ask = this.bestAsk('yes');
    if (bid < 0 || ask < 0) return Number.NaN;
    const bidSize = this.bestBidSize('yes');
    const askSize = this.bestAskSize('yes');
    return (bid * askSize + ask * bidSize) / (bidSize + askSize);
  }

  /** Total size of the best `levels` levels of one side. */
  depth(side: Side, levels: number): number {
    const l = this.ladder(side);
    let sum = 0;
    const stop = Math.max(0, l.length - levels);
    for (let i = l.length - 1; i >= stop; i--) sum += l.sizes[i]!;
    return sum;
  }

  totalDepth(side: Side): number {
    return this.ladder(side).total;
  }

  /** (YES depth − NO depth) / (YES depth + NO depth) over the top `levels`; 0 for an empty book. */
  imbalance(levels: number): number {
    const y = this.depth('yes', levels);
    const n = this.depth('no', levels);
    return y + n === 0 ? 0 : (y - n) / (y + n);
  }

  /** Crossed or locked: best YES bid + best NO bid ≥ $1. */
  isCrossed(): boolean {
    const y = this.bestBid('yes');
    const n = this.bestBid('no');
    return y >= 0 && n >= 0 && y + n >= PRICE_ONE;
  }

  /** Levels of one side, ascending by price (best last, as Kalshi sends them). Allocates. */
  levels(side: Side): Level[] {
    const l = this.ladder(side);
    const out: Level[] = [];
    for (let i = 0; i < l.length; i++) out.push([l.prices[i]!, l.sizes[i]!]);
    return out;
  }

  /** Makes this book an exact copy of `other` (reuses buffers). */
  copyFrom(other: OrderBook): void {
    this.yes.copyFrom(other.yes);
    this.no.copyFrom(other.no);
    this.stale = other.stale;
    this.version = other.version;
  }

  /** An independent copy of this book (levels, staleness and version). */
  clone(): OrderBook {
    const book = new OrderBook(this.ticker);
    book.copyFrom(this);
    return book;
  }

  /** Same levels on both sides (ignores version and staleness). */
  equals(other: BookView): boolean {
    for (const side of ['yes', 'no'] as const) {
      const n = this.levelCount(side);
      if (n !== other.levelCount(side)) return false;
      for (let i = 0; i < n; i++) {
        if (this.priceAt(side, i) !== other.priceAt(side, i) || this.sizeAt(side, i) !== other.sizeAt(side, i)) {
          return false;
        }
      }
    }
    return true;
  }
}
