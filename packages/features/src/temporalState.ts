import { type BookEvent, type BookView, PRICE_ONE } from '@kflow/orderbook';
import { effectiveMid } from './marketPrices';

/** Time constants of the exponential decays, in ms. */
const TAU_1S = 1_000;
const TAU_10S = 10_000;
const TAU_60S = 60_000;


/**
 * Streaming activity and price-dynamics statistics of one market, keyed on exchange time.
 *
 * Windows are exponential decays (time constants 1 s, 10 s, 60 s) rather than exact sliding windows:
 * `update` is O(1) and allocation-free, and the state is a handful of numbers that can be saved into a
 * checkpoint and restored (the env does this to start episodes mid-session with a warm state).
 * Decays run on the event timestamps, never on wall-clock time, so a replay and the live path agree.
 *
 * @example
 * const temporal = new TemporalState();
 * book.applyDelta('yes', 4500, 100);
 * temporal.update(event.tsMs, book);        // after every book event
 * temporal.update(trade.tsMs, book, 250);   // a trade where takers bought 2.5 YES (negative: NO)
 */
export class TemporalState {
  /** Events seen since the last reset. */
  count = 0;
  /** Exchange time of the latest event (epoch ms). */
  lastTsMs = 0;
  /** Gap in ms between the latest event and the one before it. */
  gapMs = 0;
  /** Effective YES mid (probability) after the latest event. */
  mid = 0.5;
  // Decayed event counts, as of lastTsMs.
  count1s = 0;
  count10s = 0;
  count60s = 0;
  // Continuous-time EMAs of the mid (the mid is held constant between events).
  midEma10s = 0.5;
  midEma60s = 0.5;
  // Decayed sums of squared mid changes.
  realizedVar10s = 0;
  realizedVar60s = 0;
  // Decayed signed and unsigned taker volume, in contracts.
  tradeFlow60s = 0;
  tradeVolume60s = 0;

  /** Forgets everything (a new subscription or episode without history). */
  reset(): void {
    this.count = 0;
    this.lastTsMs = 0;
    this.gapMs = 0;
    this.mid = 0.5;
    this.count1s = this.count10s = this.count60s = 0;
    this.midEma10s = this.midEma60s = 0.5;
    this.realizedVar10s = this.realizedVar60s = 0;
    this.tradeFlow60s = this.tradeVolume60s = 0;
  }

  /**
   * Records one book event after it was applied to `book`. `signedTradeCenti` is a public trade's size
   * (+ takers bought YES, − takers bought NO), 0 for book changes. Timestamps that go backwards count as
   * simultaneous.
   */
  update(tsMs: number, book: BookView, signedTradeCenti = 0): void {
    const mid = effectiveMid(book) / PRICE_ONE;
    const trade = signedTradeCenti / 100;
    if (this.count === 0) {
      this.count = 1;
      this.lastTsMs = tsMs;
      this.gapMs = 0;
      this.mid = this.midEma10s = this.midEma60s = mid;
      this.count1s = this.count10s = this.count60s = 1;
      this.realizedVar10s = this.realizedVar60s = 0;
      this.tradeFlow60s = trade;
      this.tradeVolume60s = Math.abs(trade);
      return;
    }
    const dt = tsMs > this.lastTsMs ? tsMs - this.lastTsMs : 0;
    const a1 = Math.exp(-dt / TAU_1S);
    const a10 = Math.exp(-dt / TAU_10S);
    const a60 = Math.exp(-dt / TAU_60S);
    const prev = this.mid;
    const dm = mid - prev;
    this.count++;
    this.gapMs = dt;
    if (dt > 0) this.lastTsMs = tsMs;
    this.count1s = this.count1s * a1 + 1;
    this.count10s = this.count10s * a10 + 1;
    this.count60s = this.count60s * a60 + 1;
    // The old mid held during the gap, so the EMAs move toward it, then the new mid takes over.
    this.midEma10s = prev + (this.midEma10s - prev) * a10;
    this.midEma60s = prev + (this.midEma60s - prev) * a60;
    this.realizedVar10s = this.realizedVar10s * a10 + dm * dm;
    this.realizedVar60s = this.realizedVar60s * a60 + dm * dm;
    this.tradeFlow60s = this.tradeFlow60s * a60 + trade;
    this.tradeVolume60s = this.tradeVolume60s * a60 + Math.abs(trade);
    this.mid = mid;
  }

  /**
   * `update` for a normalized event that `book` has already applied (the live path:
   * `SharedOrderbookState.applyFrame(...).event`). Trades carry their signed size.
   *
   * @example
   * const { event } = state.applyFrame(frame, recvMs);
   * if (event) temporal.observeEvent(event, state.book(event.ticker)!);
   */
  observeEvent(event: BookEvent, book: BookView): void {
    if (event.kind === 'trade') this.update(event.tsMs, book, event.takerSide === 'yes' ? event.countCenti : -event.countCenti);
    else this.update(event.tsMs, book);
  }

  /** Writes the state into `out` at `offset` (`TEMPORAL_STATE_SIZE` values). */
  save(out: Float64Array, offset = 0): void {
    for (let i = 0; i < FIELDS.length; i++) out[offset + i] = this[FIELDS[i]!];
  }

  /** Restores a state written by `save` (bit-exact). */
  load(from: Float64Array, offset = 0): void {
    for (let i = 0; i < FIELDS.length; i++) this[FIELDS[i]!] = from[offset + i]!;
  }
}

/** Every field of the state, in `save` / `load` order (one list, so the two cannot disagree). */
const FIELDS = [
  'count',
  'lastTsMs',
  'gapMs',
  'mid',
  'count1s',
  'count10s',
  'count60s',
  'midEma10s',
  'midEma60s',
  'realizedVar10s',
  'realizedVar60s',
  'tradeFlow60s',
  'tradeVolume60s',
] as const satisfies readonly (keyof TemporalState)[];

/** Number of values in `TemporalState.save` / `load`. */
export const TEMPORAL_STATE_SIZE: number = FIELDS.length;
