import {
  type BookEvent,
  type BookView,
  KflowError,
  OrderBook,
  PRICE_ONE,
  type Rng,
  type SettlementResult,
  type Side,
  applyBookEvent,
} from '@kflow/orderbook';
import type { PaperErrorCode } from './errors';
import { type FeeModel, type FeeSchedule, MEMBER_PRECISION_MICROS } from './feeModel';
import type { OrderRejectReason, OrderRequest, OrderStatus, OrderUpdateReason, SimOrder, TimeInForce } from './orders';
import type { BookSide, FillOutcome, PositionTracker, SettlementRecord } from './positionTracker';
import { LINEAR_CENT_GRID, type PriceGrid, isValidOrderPrice } from './priceGrid';

// Hot paths read module-local copies: transpiled imports (tsx) are live-binding getters.
const ONE = PRICE_ONE;

/**
 * How reductions of the recorded size at a resting order's price advance its queue position:
 * - `conservative`: reductions come from behind the order; the size ahead only shrinks when the level
 *   holds less than it (ahead = min(ahead, level size)), e.g. when the level empties;
 * - `proportional`: reductions are spread over the level pro rata (ahead scales with the level size).
 */
export type QueueModel = 'conservative' | 'proportional';

/** Delay, in exchange milliseconds, between sending an order action and it reaching the book. */
export interface LatencyModel {
  readonly baseMs?: number;
  /** Uniform extra delay in [0, jitterMs] drawn from the engine's `rng`. */
  readonly jitterMs?: number;
}

/** Called for every fill. `outcome` is the tracker's reused object: copy what you keep. */
export type FillListener = (
  order: SimOrder,
  priceUnits: number,
  countCenti: number,
  isTaker: boolean,
  outcome: FillOutcome,
  tsMs: number,
) => void;

/** Options of {@link createMatchingEngine}: one market's book, the account it trades for, and the execution settings. */
export interface MatchingEngineOptions {
  readonly ticker: string;
  /** The recorded (or live) book of this market; the engine only reads it. */
  readonly book: BookView;
  /** The account: fills update it, balance checks read it. */
  readonly tracker: PositionTracker;
  /** The series fee schedule (default `quadratic`, M = 1). */
  readonly fees?: FeeSchedule;
  /** Valid order prices (default whole cents). */
  readonly grid?: PriceGrid;
  /** Default `conservative`. */
  readonly queueModel?: QueueModel;
  /** Default: no latency (orders reach the book when submitted). */
  readonly latency?: LatencyModel;
  /** Needed only for latency jitter. */
  readonly rng?: Rng;
  /** Reject orders the available balance cannot cover (default true). */
  readonly enforceBalance?: boolean;
  /**
   * Starting cash of this market's own account: the training episode's cash, the live actor's per-market
   * budget. With it, `cashMicros` reports this market's cash (start + realized PnL − cost of the position −
   * fees) and an order must fit both the shared tracker's and this market's available cash, so a market
   * traded beside others in one account behaves exactly as it does alone in an env episode.
   */
  readonly marketCashMicros?: number;
  readonly onFill?: FillListener;
  /** Called whenever an order changes status or size. */
  readonly onOrderUpdate?: (order: SimOrder) => void;
}

/** Result of an order action: the order, or why it was refused (nothing changed). */
export type OrderActionResult =
  | { readonly ok: true; readonly order: SimOrder }
  | { readonly ok: false; readonly reason: OrderRejectReason; readonly message: string };

class EngineOrder implements SimOrder {
  filledCenti = 0;
  status: OrderStatus = 'pending';
  lastUpdateReason: OrderUpdateReason = 'Created';
  queueAheadCenti = 0;
  lastUpdateMs: number;
  takerFillCostMicros = 0;
  makerFillCostMicros = 0;
  takerFeesMicros = 0;
  makerFeesMicros = 0;
  feeAccumulatorMicros = 0;
  /** Cash held back for this order by the balance check. */
  reservedMicros = 0;
  /** Whether the order is in the engine's resting list (until the next compaction). */
  listed = false;
  /** The book ladder the order rests on and its price there (a YES ask rests on the NO ladder at 1 − p). */
  ladder: Side;
  ladderPrice: number;

  constructor(
    readonly id: number,
    readonly ticker: string,
    readonly side: BookSide,
    public priceUnits: number,
    public initialCenti: number,
    public remainingCenti: number,
    readonly timeInForce: TimeInForce,
    readonly postOnly: boolean,
    readonly reduceOnly: boolean,
    readonly clientOrderId: string | undefined,
    readonly createdMs: number,
    public arrivalMs: number,
  ) {
    this.lastUpdateMs = createdMs;
    this.ladder = side === 'bid' ? 'yes' : 'no';
    this.ladderPrice = side === 'bid' ? priceUnits : ONE - priceUnits;
  }

  setPrice(priceUnits: number): void {
    this.priceUnits = priceUnits;
    this.ladderPrice = this.side === 'bid' ? priceUnits : ONE - priceUnits;
  }

  get isOpen(): boolean {
    return this.status === 'pending' || this.status === 'resting';
  }
}

/** Small price → amount map for one ladder (a handful of entries; linear scan, swap-remove, no allocation). */
class LevelAmounts {
  private prices = new Int32Array(8);
  private amounts = new Float64Array(8);
  size = 0;

  private find(price: number): number {
    for (let i = 0; i < this.size; i++) if (this.prices[i] === price) return i;
    return -1;
  }

  get(price: number): number {
    if (this.size === 0) return 0;
    const i = this.find(price);
    return i < 0 ? 0 : this.amounts[i]!;
  }

  add(price: number, amount: number): void {
    const i = this.find(price);
    if (i >= 0) {
      this.amounts[i]! += amount;
      return;
    }
    if (this.size === this.prices.length) {
      const prices = new Int32Array(this.size * 2);
      prices.set(this.prices);
      const amounts = new Float64Array(this.size * 2);
      amounts.set(this.amounts);
      this.prices = prices;
      this.amounts = amounts;
    }
    this.prices[this.size] = price;
    this.amounts[this.size++] = amount;
  }

  /** Sets the amount at `price` (removes the entry at ≤ 0). */
  set(price: number, amount: number): void {
    const i = this.find(price);
    if (amount > 0) {
      if (i >= 0) this.amounts[i] = amount;
      else this.add(price, amount);
    } else if (i >= 0) this.removeAt(i);
  }

  private removeAt(i: number): void {
    const last = --this.size;
    this.prices[i] = this.prices[last]!;
    this.amounts[i] = this.amounts[last]!;
  }
}

function reject(reason: OrderRejectReason, message: string): OrderActionResult & { readonly ok: false } {
  return { ok: false, reason, message };
}

/** floor(a × b / d), exact for the magnitudes used here (falls back to BigInt). */
function scaleFloor(a: number, b: number, d: number): number {
  const p = a * b;
  if (!Number.isSafeInteger(p)) return Number((BigInt(a) * BigInt(b)) / BigInt(d));
  const q = Math.floor(p / d);
  const r = p - q * d;
  return r < 0 ? q - 1 : r >= d ? q + 1 : q;
}

type PendingAction =
  | { readonly atMs: number; readonly kind: 'arrive' | 'cancel'; readonly order: EngineOrder }
  | { readonly atMs: number; readonly kind: 'decrease'; readonly order: EngineOrder; readonly remainingCenti: number }
  | {
      readonly atMs: number;
      readonly kind: 'amend';
      readonly order: EngineOrder;
      readonly priceUnits: number;
      readonly remainingCenti: number;
    };

/**
 * The fill simulator for one market: the one implementation behind the training env and the paper
 * client. It matches our orders against a book it only reads (recorded books are never changed by our
 * orders, the standard backtest assumption) and books every fill in a {@link PositionTracker}.
 *
 * - Taker orders walk the opposite side level by level (partial fills, one fill per level). Size we took
 *   stays taken (subtracted from the level) until others trade or cancel the recorded level down to it;
 *   size the book adds afterwards replenishes the level. The same recorded size is never filled twice.
 * - Resting orders keep a queue position: the recorded size ahead at their price on arrival. Reductions
 *   of that level advance it per the {@link QueueModel}; once nothing is ahead, further reductions of
 *   the level (it keeps trading down) fill the order, as do public trades at its price beyond the queue
 *   ahead and any move of the opposite side across its price (filled as maker at the order's price).
 * - Order actions reach the book after the configured latency; arrivals are processed by `advanceTo`.
 *
 * Per book event the work is O(our open orders in this market) and allocates nothing unless something
 * fills.
 *
 * @example
 * const engine = createMatchingEngine({ ticker, book, tracker });
 * engine.submit(buyYes(4700, 1000, { timeInForce: 'immediate_or_cancel' }), nowMs);
 * for (const event of recordedEvents) replayEvent(engine, book, event);
 */
export class MatchingEngine {
  readonly ticker: string;
  readonly book: BookView;
  readonly tracker: PositionTracker;
  readonly marketIndex: number;
  readonly fees: FeeModel;
  private readonly precisionMicros: number;
  readonly grid: PriceGrid;
  readonly queueModel: QueueModel;
  private readonly latencyBaseMs: number;
  private readonly latencyJitterMs: number;
  private readonly rng: Rng | undefined;
  private readonly enforceBalance: boolean;
  private readonly marketCashMicros: number | undefined;
  /** Cash held back for this market's open orders (the tracker sums every market's). */
  private reservedMicros = 0;
  private readonly onFill: FillListener | undefined;
  private readonly onOrderUpdate: ((order: SimOrder) => void) | undefined;
  private nextId = 1;
  /** Resting orders in arrival order. */
  private readonly resting: EngineOrder[] = [];
  /** Every open order (pending or resting) by id. */
  private readonly open = new Map<number, EngineOrder>();
  private readonly pending: PendingAction[] = [];
  /** Recorded size our taker fills (and crossing fills) took, per ladder (capped at the level's size). */
  private readonly consumedYes = new LevelAmounts();
  private readonly consumedNo = new LevelAmounts();
  /** Public trade size at our resting levels whose matching book reduction has not arrived yet. */
  private readonly tradeCreditYes = new LevelAmounts();
  private readonly tradeCreditNo = new LevelAmounts();
  private settled = false;
  /** Nesting of event loops over `resting` (listeners may call back in). */
  private depth = 0;

  constructor(options: MatchingEngineOptions) {
    this.ticker = options.ticker;
    this.book = options.book;
    this.tracker = options.tracker;
    this.marketIndex = options.tracker.addMarket(options.ticker, options.fees);
    this.fees = options.tracker.market(this.marketIndex).fees;
    this.precisionMicros = MEMBER_PRECISION_MICROS[options.tracker.precision];
    this.grid = options.grid ?? LINEAR_CENT_GRID;
    this.queueModel = options.queueModel ?? 'conservative';
    this.latencyBaseMs = options.latency?.baseMs ?? 0;
    this.latencyJitterMs = options.latency?.jitterMs ?? 0;
    this.rng = options.rng;
    if (this.latencyJitterMs > 0 && !this.rng) {
      throw new KflowError<PaperErrorCode>('INVALID_ARGUMENT', 'latency.jitterMs needs an rng');
    }
    this.enforceBalance = options.enforceBalance ?? true;
    if (options.marketCashMicros !== undefined && !Number.isSafeInteger(options.marketCashMicros)) {
      throw new KflowError<PaperErrorCode>('INVALID_ARGUMENT', 'marketCashMicros must be a safe integer');
    }
    this.marketCashMicros = options.marketCashMicros;
    this.onFill = options.onFill;
    this.onOrderUpdate = options.onOrderUpdate;
  }

  /** Number of resting orders. */
  get restingCount(): number {
    return this.resting.length;
  }

  /** Whether order actions wait for their latency to elapse (`advanceTo` has work to do). */
  get hasPendingActions(): boolean {
    return this.pending.length > 0;
  }

  /** Number of open orders (pending and resting). */
  get openOrderCount(): number {
    return this.open.size;
  }

  /**
   * Cash of this market's account when `marketCashMicros` is set (start + realized PnL − cost of the
   * position − fees, which is exactly what a tracker holding only this market would hold), else the
   * tracker's cash.
   */
  get cashMicros(): number {
    if (this.marketCashMicros === undefined) return this.tracker.cashMicros;
    const m = this.tracker.market(this.marketIndex);
    return this.marketCashMicros + m.realizedPnlMicros - m.costMicros - m.feesPaidMicros;
  }

  /** Cash an order may still use: the tracker's available cash, capped by this market's account if it has one. */
  get availableMicros(): number {
    const shared = this.tracker.availableMicros;
    return this.marketCashMicros === undefined ? shared : Math.min(shared, this.cashMicros - this.reservedMicros);
  }

  /** Remaining size of the resting orders on one side (allocation-free; e.g. for observations). */
  restingCenti(side: BookSide): number {
    let sum = 0;
    for (let i = 0; i < this.resting.length; i++) {
      const o = this.resting[i]!;
      if (o.side === side && o.status === 'resting') sum += o.remainingCenti;
    }
    return sum;
  }

  /** Open orders (pending and resting), oldest first. Allocates. */
  openOrders(): SimOrder[] {
    return [...this.open.values()];
  }

  /** An open order by id. */
  order(id: number): SimOrder | undefined {
    return this.open.get(id);
  }

  /**
   * Sends an order. Refusals (bad price or count, insufficient balance, post-only that would cross,
   * reduce-only without a position, settled market) change nothing. Without latency the order is matched
   * at once; otherwise it waits for `advanceTo` to reach its arrival time.
   */
  submit(request: OrderRequest, nowMs: number): OrderActionResult {
    const reserve = this.check(request);
    if (typeof reserve !== 'number') return reserve;
    const { side, priceUnits, countCenti } = request;
    const order = new EngineOrder(
      this.nextId++,
      this.ticker,
      side,
      priceUnits,
      countCenti,
      countCenti,
      request.timeInForce ?? 'good_till_canceled',
      request.postOnly ?? false,
      request.reduceOnly ?? false,
      request.clientOrderId,
      nowMs,
      nowMs + this.latencyMs(),
    );
    order.reservedMicros = reserve;
    this.tracker.reservedMicros += reserve;
    this.reservedMicros += reserve;
    this.open.set(order.id, order);
    if (order.arrivalMs <= nowMs && this.pending.length === 0) {
      this.arrive(order, nowMs);
      this.compact();
    } else this.schedule({ atMs: order.arrivalMs, kind: 'arrive', order }, nowMs);
    return { ok: true, order };
  }

  /** Why `submit` would refuse `request` right now, or undefined. Changes nothing. */
  validate(request: OrderRequest): (OrderActionResult & { readonly ok: false }) | undefined {
    const checked = this.check(request);
    return typeof checked === 'number' ? undefined : checked;
  }

  /** The refusal, or the cash the order must hold back. */
  private check(request: OrderRequest): (OrderActionResult & { readonly ok: false }) | number {
    const { side, priceUnits, countCenti } = request;
    if (this.settled) return reject('market_settled', `${this.ticker} has settled`);
    if (side !== 'bid' && side !== 'ask') return reject('invalid_side', `Unknown side ${String(side)}`);
    if (!isValidOrderPrice(this.grid, priceUnits)) {
      return reject('invalid_price', `Price ${priceUnits} is outside (0, 10000) or off the market's grid`);
    }
    if (!Number.isSafeInteger(countCenti) || countCenti <= 0) {
      return reject('invalid_count', `Count must be a positive whole number of centi-contracts, got ${countCenti}`);
    }
    if (request.reduceOnly && this.closable(side) === 0) {
      return reject('reduce_only_no_position', 'reduce_only order with no position to reduce');
    }
    if (request.postOnly && this.wouldTake(side, priceUnits)) {
      return reject('post_only_cross', 'post_only order would cross the book');
    }
    const need = this.enforceBalance ? this.requiredMicros(side, priceUnits, countCenti) : 0;
    if (need > this.availableMicros) {
      return reject('insufficient_balance', `Order needs ${need} micro-dollars, ${this.availableMicros} available`);
    }
    return need;
  }

  /** Cancels an open order (after the latency). */
  cancel(orderId: number, nowMs: number): OrderActionResult {
    const order = this.open.get(orderId);
    if (!order) return reject('order_not_found', `No open order ${orderId}`);
    this.schedule({ atMs: nowMs + this.latencyMs(), kind: 'cancel', order }, nowMs);
    return { ok: true, order };
  }

  /** Cancels every open order; returns how many were open. */
  cancelAll(nowMs: number): number {
    const n = this.open.size;
    if (n === 0) return 0;
    // A copy: listeners may place new orders while these are canceled.
    for (const order of Array.from(this.open.values())) this.cancel(order.id, nowMs);
    return n;
  }

  /** Reduces an order's remaining count to `remainingCenti` (keeps its queue position; 0 cancels). */
  decrease(orderId: number, remainingCenti: number, nowMs: number): OrderActionResult {
    const order = this.open.get(orderId);
    if (!order) return reject('order_not_found', `No open order ${orderId}`);
    if (!Number.isSafeInteger(remainingCenti) || remainingCenti < 0 || remainingCenti > order.remainingCenti) {
      return reject('invalid_count', `Cannot decrease ${order.remainingCenti} to ${remainingCenti}`);
    }
    this.schedule({ atMs: nowMs + this.latencyMs(), kind: 'decrease', order, remainingCenti }, nowMs);
    return { ok: true, order };
  }

  /**
   * Changes price and count (Kalshi amend: `countCenti` = already filled + desired remaining). The order
   * loses its queue position and is matched again at the new price.
   */
  amend(orderId: number, priceUnits: number, countCenti: number, nowMs: number): OrderActionResult {
    const order = this.open.get(orderId);
    if (!order) return reject('order_not_found', `No open order ${orderId}`);
    if (!isValidOrderPrice(this.grid, priceUnits)) return reject('invalid_price', `Price ${priceUnits} is invalid`);
    const remainingCenti = countCenti - order.filledCenti;
    if (!Number.isSafeInteger(countCenti) || remainingCenti <= 0) {
      return reject('invalid_count', `Amended count must exceed the filled ${order.filledCenti}, got ${countCenti}`);
    }
    if (order.postOnly && this.wouldTake(order.side, priceUnits)) {
      return reject('post_only_cross', 'post_only order would cross the book');
    }
    if (this.enforceBalance) {
      const need = this.requiredMicros(order.side, priceUnits, remainingCenti, order);
      if (need > this.availableMicros + order.reservedMicros) {
        return reject('insufficient_balance', `Amended order needs ${need} micro-dollars`);
      }
    }
    this.schedule({ atMs: nowMs + this.latencyMs(), kind: 'amend', order, priceUnits, remainingCenti }, nowMs);
    return { ok: true, order };
  }

  /** Carries out order actions due at or before `tsMs`. Call it before applying an event stamped `tsMs`. */
  advanceTo(tsMs: number): void {
    while (this.pending.length > 0 && this.pending[0]!.atMs <= tsMs) {
      this.run(this.pending.shift()!);
    }
    this.compact();
  }

  /** Call after the book applied a delta (`deltaCenti` signed) at `priceUnits` of `side`. */
  onDelta(side: Side, priceUnits: number, deltaCenti: number, tsMs: number): void {
    const newSize = this.book.sizeAtPrice(side, priceUnits);
    const consumed = side === 'yes' ? this.consumedYes : this.consumedNo;
    // What we took stays taken until others trade or cancel the level down to it; size added later is new.
    if (deltaCenti < 0 && consumed.size > 0) {
      const taken = consumed.get(priceUnits);
      if (taken > newSize) consumed.set(priceUnits, newSize);
    }
    this.depth++;
    try {
      if (deltaCenti < 0 && this.resting.length > 0) this.onReduction(side, priceUnits, -deltaCenti, newSize, tsMs);
      this.crossCheck(tsMs);
    } finally {
      this.depth--;
    }
    this.advanceTo(tsMs);
  }

  /**
   * Call for a public trade (`takerSide` = the outcome the taker bought). Throws `INVALID_ARGUMENT` for
   * anything that is not a trade (no positive size, a price off (0, 1), another side, no time), before
   * touching a queue: a negative size would push our orders back.
   */
  onTrade(yesPriceUnits: number, countCenti: number, takerSide: Side, tsMs: number): void {
    if (
      !(Number.isInteger(yesPriceUnits) && yesPriceUnits > 0 && yesPriceUnits < ONE) ||
      !(Number.isSafeInteger(countCenti) && countCenti > 0) ||
      (takerSide !== 'yes' && takerSide !== 'no') ||
      !Number.isSafeInteger(tsMs)
    ) {
      throw new KflowError<PaperErrorCode>(
        'INVALID_ARGUMENT',
        `Not a public trade: ${JSON.stringify({ yesPriceUnits, countCenti, takerSide, tsMs })} (expected a price in (0, ${ONE}) units, a positive centi-contract count, 'yes' or 'no', epoch ms)`,
      );
    }
    this.depth++;
    try {
      if (this.resting.length > 0) this.onPublicTrade(yesPriceUnits, countCenti, takerSide, tsMs);
      this.crossCheck(tsMs);
    } finally {
      this.depth--;
    }
    this.advanceTo(tsMs);
  }

  /**
   * Call after the book changed in any way (a snapshot, a resync, or a change known only as "this book
   * changed", as from `SharedOrderbookState`), with `before`, a copy of the book before the change. The
   * difference is replayed level by level through `onDelta` (best first, YES then NO), so a snapshot
   * moves queues and fills our orders exactly as the same change arriving as deltas would: the training
   * replay and the live paper client share this one rule.
   */
  onBookChange(before: BookView, tsMs: number): void {
    const after = this.book;
    for (let s = 0; s < 2; s++) {
      const side: Side = s === 0 ? 'yes' : 'no';
      // Merge both ladders (best first: prices descend) and report every level whose size changed.
      const n = after.levelCount(side);
      const m = before.levelCount(side);
      let i = 0;
      let j = 0;
      while (i < n || j < m) {
        const ap = i < n ? after.priceAt(side, i) : -1;
        const bp = j < m ? before.priceAt(side, j) : -1;
        if (ap === bp) {
          const d = after.sizeAt(side, i) - before.sizeAt(side, j);
          if (d !== 0) this.onDelta(side, ap, d, tsMs);
          i++;
          j++;
        } else if (ap > bp) {
          this.onDelta(side, ap, after.sizeAt(side, i++), tsMs);
        } else {
          this.onDelta(side, bp, -before.sizeAt(side, j++), tsMs);
        }
      }
    }
    this.advanceTo(tsMs);
  }

  /** Settles the market: cancels open orders, then pays out through the tracker. */
  settle(result: SettlementResult, yesPayoutUnits: number, tsMs: number): SettlementRecord {
    for (const order of Array.from(this.open.values())) this.finish(order, 'canceled', 'CloseCancel', tsMs);
    this.pending.length = 0;
    this.compact();
    this.settled = true;
    return this.tracker.settle(this.marketIndex, result, yesPayoutUnits, tsMs);
  }

  // ---------------------------------------------------------------------------------------------------

  private latencyMs(): number {
    return this.latencyBaseMs + (this.latencyJitterMs > 0 ? this.rng!.int(this.latencyJitterMs + 1) : 0);
  }

  private schedule(action: PendingAction, nowMs: number): void {
    if (action.atMs <= nowMs && this.pending.length === 0) {
      this.run(action);
      this.compact();
      return;
    }
    let i = this.pending.length;
    while (i > 0 && this.pending[i - 1]!.atMs > action.atMs) i--;
    this.pending.splice(i, 0, action);
  }

  private run(action: PendingAction): void {
    const order = action.order;
    if (!order.isOpen) return;
    switch (action.kind) {
      case 'arrive':
        return this.arrive(order, action.atMs);
      case 'cancel':
        return this.finish(order, 'canceled', 'Cancel', action.atMs);
      case 'decrease':
        if (action.remainingCenti === 0) return this.finish(order, 'canceled', 'Decrease', action.atMs);
        this.resize(order, Math.min(action.remainingCenti, order.remainingCenti), 'Decrease', action.atMs);
        return;
      case 'amend': {
        const need = this.enforceBalance ? this.requiredMicros(order.side, action.priceUnits, action.remainingCenti, order) : 0;
        this.tracker.reservedMicros += need - order.reservedMicros;
        this.reservedMicros += need - order.reservedMicros;
        order.reservedMicros = need;
        order.setPrice(action.priceUnits);
        order.remainingCenti = action.remainingCenti;
        order.initialCenti = order.filledCenti + action.remainingCenti;
        order.status = 'pending';
        order.lastUpdateReason = 'Amend';
        return this.arrive(order, action.atMs);
      }
    }
  }

  /** The order reaches the book: cap, take, then rest or finish. */
  private arrive(order: EngineOrder, tsMs: number): void {
    if (order.reduceOnly) {
      const cap = this.closable(order.side);
      if (cap === 0) return this.finish(order, 'canceled', 'ReduceOnlyCancel', tsMs);
      if (order.remainingCenti > cap) this.resize(order, cap, order.lastUpdateReason, tsMs);
    }
    if (order.postOnly) {
      if (this.wouldTake(order.side, order.priceUnits)) return this.finish(order, 'canceled', 'PostOnlyCrossCancel', tsMs);
    } else {
      if (
        order.timeInForce === 'fill_or_kill' &&
        this.takeable(order.side, order.priceUnits, order.remainingCenti) < order.remainingCenti
      ) {
        return this.finish(order, 'canceled', 'FillOrKillCancel', tsMs);
      }
      this.walk(order, true, tsMs);
      if (!order.isOpen) return;
    }
    if (order.timeInForce !== 'good_till_canceled') return this.finish(order, 'canceled', 'ImmediateOrCancel', tsMs);
    order.status = 'resting';
    order.lastUpdateMs = tsMs;
    order.queueAheadCenti = Math.max(
      0,
      this.book.sizeAtPrice(order.ladder, order.ladderPrice) -
        (order.ladder === 'yes' ? this.consumedYes : this.consumedNo).get(order.ladderPrice),
    );
    if (!order.listed) {
      order.listed = true;
      this.resting.push(order);
    }
    this.onOrderUpdate?.(order);
  }

  /** Contracts the position holds on the outcome an order of `side` would close. */
  private closable(side: BookSide): number {
    const pos = this.tracker.positionCenti(this.marketIndex);
    return side === 'bid' ? (pos < 0 ? -pos : 0) : pos > 0 ? pos : 0;
  }

  /**
   * Cash an order could need: its net cost if it filled now plus a fee bound. It nets against the position
   * only as far as other open orders on the same side have not already claimed it.
   */
  private requiredMicros(side: BookSide, priceUnits: number, countCenti: number, except?: EngineOrder): number {
    let claimed = 0;
    if (this.open.size > 0) for (const o of this.open.values()) if (o.side === side && o !== except) claimed += o.remainingCenti;
    const flow = this.tracker.cashFlowMicros(this.marketIndex, side, priceUnits, countCenti, claimed);
    // Taker rates are at least maker rates for every fee type, so the taker fee bounds both.
    const feeBound = this.fees.tradeFeeMicros(priceUnits, countCenti, true);
    return Math.max(0, -flow) + feeBound + this.precisionMicros;
  }

  /**
   * Our own front-most resting order on `side` at its best price (highest bid / lowest ask), or undefined.
   * An incoming order that reaches its price would trade with ourselves.
   */
  private ownBest(side: BookSide): EngineOrder | undefined {
    let best: EngineOrder | undefined;
    for (let i = 0; i < this.resting.length; i++) {
      const o = this.resting[i]!;
      if (o.side !== side || o.status !== 'resting') continue;
      if (
        !best ||
        (side === 'bid' ? o.priceUnits > best.priceUnits : o.priceUnits < best.priceUnits) ||
        (o.priceUnits === best.priceUnits && o.queueAheadCenti < best.queueAheadCenti)
      ) {
        best = o;
      }
    }
    return best;
  }

  /** Our own resting order that an order of `side` at `limit` would cross (self-trade), or undefined. */
  private selfCross(side: BookSide, limit: number): EngineOrder | undefined {
    const own = this.resting.length > 0 ? this.ownBest(side === 'bid' ? 'ask' : 'bid') : undefined;
    return own && (side === 'bid' ? limit >= own.priceUnits : limit <= own.priceUnits) ? own : undefined;
  }

  /** Whether an order at `limit` would trade at once (with the book or with our own resting order). */
  private wouldTake(side: BookSide, limit: number): boolean {
    return this.takeable(side, limit, 1) > 0 || this.selfCross(side, limit) !== undefined;
  }

  /**
   * Unconsumed opposite size an order at `limit` could take now, up to `max`. It stops at our own resting
   * order on the other side: only the recorded size ahead of it can be taken (self-trade prevention).
   */
  private takeable(side: BookSide, limit: number, max: number): number {
    const opp: Side = side === 'bid' ? 'no' : 'yes';
    const consumed = opp === 'yes' ? this.consumedYes : this.consumedNo;
    const own = this.selfCross(side, limit);
    const n = this.book.levelCount(opp);
    let total = 0;
    for (let i = 0; i < n && total < max; i++) {
      const lp = this.book.priceAt(opp, i);
      const yesPrice = side === 'bid' ? ONE - lp : lp;
      if (side === 'bid' ? yesPrice > limit : yesPrice < limit) break;
      if (own && (side === 'bid' ? yesPrice > own.priceUnits : yesPrice < own.priceUnits)) break;
      let avail = this.book.sizeAt(opp, i) - consumed.get(lp);
      if (own && yesPrice === own.priceUnits && avail > own.queueAheadCenti) avail = own.queueAheadCenti;
      if (avail > 0) total += avail;
    }
    return Math.min(total, max);
  }

  /**
   * Walks the opposite side up to the order's price, taking unconsumed size level by level. As a taker
   * each level fills at its own price, and the walk stops at our own resting order on the other side
   * (Kalshi's default self-trade prevention, `taker_at_cross`: the incoming order's rest is canceled). As a
   * resting order crossed by the book (`taker` false) every fill is at the order's price.
   */
  private walk(order: EngineOrder, taker: boolean, tsMs: number): void {
    const bid = order.side === 'bid';
    const opp: Side = bid ? 'no' : 'yes';
    const consumed = bid ? this.consumedNo : this.consumedYes;
    const own = taker ? this.selfCross(order.side, order.priceUnits) : undefined;
    const n = this.book.levelCount(opp);
    for (let i = 0; i < n && order.isOpen; i++) {
      const lp = this.book.priceAt(opp, i);
      const yesPrice = bid ? ONE - lp : lp;
      if (bid ? yesPrice > order.priceUnits : yesPrice < order.priceUnits) break;
      if (own && (bid ? yesPrice > own.priceUnits : yesPrice < own.priceUnits)) break;
      const atOwn = own !== undefined && yesPrice === own.priceUnits;
      let avail = this.book.sizeAt(opp, i) - consumed.get(lp);
      if (atOwn && avail > own.queueAheadCenti) avail = own.queueAheadCenti;
      if (avail <= 0) continue;
      const take = this.fill(order, taker ? yesPrice : order.priceUnits, Math.min(avail, order.remainingCenti), taker, tsMs);
      if (take > 0) consumed.add(lp, take);
      // What we took at our own order's level was ahead of it.
      if (atOwn) own.queueAheadCenti -= take;
    }
    if (own && order.isOpen) this.finish(order, 'canceled', 'SelfTradeCancel', tsMs);
  }

  /** A public trade: fills our orders at (or better than) its price beyond the recorded queue ahead. */
  private onPublicTrade(yesPriceUnits: number, countCenti: number, takerSide: Side, tsMs: number): void {
    // A taker buying YES lifts asks (our `ask` orders); a taker buying NO hits YES bids (our `bid` orders).
    const hit: BookSide = takerSide === 'yes' ? 'ask' : 'bid';
    let budget = countCenti;
    let atLevel = false;
    for (let i = 0; i < this.resting.length; i++) {
      const o = this.resting[i]!;
      if (o.side !== hit || o.status !== 'resting') continue;
      const same = o.priceUnits === yesPriceUnits;
      // An order priced better than the trade was in front of everything that traded.
      const better = hit === 'bid' ? o.priceUnits > yesPriceUnits : o.priceUnits < yesPriceUnits;
      if (!same && !better) continue;
      const ahead = same ? o.queueAheadCenti : 0;
      if (same) {
        atLevel = true;
        o.queueAheadCenti = ahead > countCenti ? ahead - countCenti : 0;
      }
      if (budget > ahead) budget -= this.fillMaker(o, budget - ahead, tsMs);
    }
    if (atLevel) {
      // The book reduction that reports this trade must not advance the queue a second time.
      const ladder: Side = hit === 'bid' ? 'yes' : 'no';
      const price = hit === 'bid' ? yesPriceUnits : ONE - yesPriceUnits;
      const credits = ladder === 'yes' ? this.tradeCreditYes : this.tradeCreditNo;
      credits.set(price, Math.min(credits.get(price) + countCenti, this.book.sizeAtPrice(ladder, price)));
    }
  }

  /** A reduction of `r` at a ladder level: advance queues, fill orders already at the front. */
  private onReduction(side: Side, price: number, r: number, newSize: number, tsMs: number): void {
    const credits = side === 'yes' ? this.tradeCreditYes : this.tradeCreditNo;
    if (credits.size > 0) {
      // Part of this reduction is a trade we already accounted for in onTrade.
      const credit = credits.get(price);
      const absorbed = Math.min(credit, r);
      credits.set(price, credit - absorbed);
      r -= absorbed;
    }
    if (r === 0) return;
    const before = newSize + r;
    let budget = r;
    for (let i = 0; i < this.resting.length; i++) {
      const o = this.resting[i]!;
      if (o.ladderPrice !== price || o.ladder !== side || o.status !== 'resting') continue;
      if (o.queueAheadCenti === 0) {
        if (budget > 0) budget -= this.fillMaker(o, budget, tsMs);
        continue;
      }
      const ahead =
        this.queueModel === 'conservative' ? o.queueAheadCenti : scaleFloor(o.queueAheadCenti, newSize, before);
      o.queueAheadCenti = ahead < newSize ? ahead : newSize;
    }
  }

  private fillMaker(order: EngineOrder, max: number, tsMs: number): number {
    return this.fill(order, order.priceUnits, Math.min(max, order.remainingCenti), false, tsMs);
  }

  /** Books one fill (capped for reduce-only orders); returns the count filled. */
  private fill(order: EngineOrder, priceUnits: number, countCenti: number, isTaker: boolean, tsMs: number): number {
    if (order.reduceOnly) {
      const cap = this.closable(order.side);
      if (cap === 0) {
        this.finish(order, 'canceled', 'ReduceOnlyCancel', tsMs);
        return 0;
      }
      if (countCenti > cap) countCenti = cap;
    }
    if (countCenti <= 0) return 0;
    const outcome = this.tracker.applyFill(this.marketIndex, order.side, priceUnits, countCenti, isTaker, order, tsMs);
    const cost = countCenti * (order.side === 'bid' ? priceUnits : ONE - priceUnits);
    if (isTaker) {
      order.takerFillCostMicros += cost;
      order.takerFeesMicros += outcome.fee.chargedMicros;
    } else {
      order.makerFillCostMicros += cost;
      order.makerFeesMicros += outcome.fee.chargedMicros;
    }
    order.filledCenti += countCenti;
    this.release(order, order.remainingCenti - countCenti);
    order.remainingCenti -= countCenti;
    order.lastUpdateReason = 'Trade';
    order.lastUpdateMs = tsMs;
    if (order.remainingCenti === 0) order.status = 'executed';
    this.onFill?.(order, priceUnits, countCenti, isTaker, outcome, tsMs);
    if (order.remainingCenti === 0) this.finish(order, 'executed', 'Trade', tsMs);
    else if (order.reduceOnly && order.remainingCenti > this.closable(order.side)) {
      const cap = this.closable(order.side);
      if (cap === 0) this.finish(order, 'canceled', 'ReduceOnlyCancel', tsMs);
      else this.resize(order, cap, 'ReduceOnlyCancel', tsMs);
    } else if (order.status === 'resting') this.onOrderUpdate?.(order);
    return countCenti;
  }

  /** Releases the reservation share of the part no longer open. */
  private release(order: EngineOrder, remainingAfter: number): void {
    const keep = remainingAfter <= 0 ? 0 : scaleFloor(order.reservedMicros, remainingAfter, order.remainingCenti);
    this.tracker.reservedMicros -= order.reservedMicros - keep;
    this.reservedMicros -= order.reservedMicros - keep;
    order.reservedMicros = keep;
  }

  private resize(order: EngineOrder, remainingCenti: number, reason: OrderUpdateReason, tsMs: number): void {
    this.release(order, remainingCenti);
    order.remainingCenti = remainingCenti;
    order.lastUpdateReason = reason;
    order.lastUpdateMs = tsMs;
    if (order.status === 'resting') this.onOrderUpdate?.(order);
  }

  private finish(order: EngineOrder, status: 'canceled' | 'executed', reason: OrderUpdateReason, tsMs: number): void {
    this.release(order, 0);
    order.status = status;
    order.lastUpdateReason = reason;
    order.lastUpdateMs = tsMs;
    this.open.delete(order.id);
    this.onOrderUpdate?.(order);
  }

  /** Fills resting orders that the opposite side now crosses (as makers, at their own price). */
  private crossCheck(tsMs: number): void {
    for (let i = 0; i < this.resting.length; i++) {
      const o = this.resting[i]!;
      if (o.status !== 'resting') continue;
      const best = this.book.bestBid(o.side === 'bid' ? 'no' : 'yes');
      if (best >= 0 && (o.side === 'bid' ? best + o.priceUnits >= ONE : best >= o.priceUnits)) this.walk(o, false, tsMs);
    }
  }

  /**
   * Drops orders that stopped resting from the resting list, in place. Runs only when the outermost
   * public call returns, so loops over the list (which may re-enter through listeners) stay valid.
   */
  private compact(): void {
    if (this.depth > 0) return;
    let w = 0;
    for (let r = 0; r < this.resting.length; r++) {
      const o = this.resting[r]!;
      if (o.status === 'resting') this.resting[w++] = o;
      else o.listed = false;
    }
    if (w !== this.resting.length) this.resting.length = w;
  }
}

/**
 * Creates a {@link MatchingEngine}.
 *
 * @example
 * const engine = createMatchingEngine({ ticker: book.ticker, book, tracker, queueModel: 'proportional' });
 */
export function createMatchingEngine(options: MatchingEngineOptions): MatchingEngine {
  return new MatchingEngine(options);
}

/** The book before a replayed snapshot (scratch: `replayEvent` is synchronous and never re-entered). */
const beforeSnapshot = new OrderBook('replay');

/**
 * Replays one event on the engine's book: order actions due by `tsMs` (default the event's time), then
 * the book update, then fills. A snapshot reaches the engine as its difference from the previous book
 * (`onBookChange`). The one way events reach the matching engine: the env's replay and the paper
 * client's live copy both go through it.
 *
 * @example
 * for (const event of events) replayEvent(engine, book, event);
 */
export function replayEvent(engine: MatchingEngine, book: OrderBook, event: BookEvent, tsMs = event.tsMs): void {
  engine.advanceTo(tsMs);
  if (event.kind === 'snapshot') beforeSnapshot.copyFrom(book);
  const result = applyBookEvent(book, event);
  switch (event.kind) {
    case 'delta':
      // A rejected (negative) delta changed nothing, so our orders must not see it either.
      if (result !== 'negative') engine.onDelta(event.side, event.priceUnits, event.deltaCenti, tsMs);
      return;
    case 'trade':
      return engine.onTrade(event.yesPriceUnits, event.countCenti, event.takerSide, tsMs);
    case 'snapshot':
      return engine.onBookChange(beforeSnapshot, tsMs);
  }
}
