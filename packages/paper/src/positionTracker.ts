import { type BookView, KflowError, PRICE_ONE, type SettlementResult } from '@kflow/orderbook';
import type { PaperErrorCode } from './errors';
import {
  type FeeCharge,
  type FeeModel,
  type FeeSchedule,
  MEMBER_PRECISION_MICROS,
  type MemberPrecision,
  chargeFee,
  createFeeModel,
  emptyFeeCharge,
} from './feeModel';

// Hot paths read module-local copies: transpiled imports (tsx) are live-binding getters.
const ONE = PRICE_ONE;
const charge = chargeFee;

/**
 * The V2 order side on the YES leg: `bid` buys YES at p (≡ sells NO at 1 − p), `ask` sells YES at p
 * (≡ buys NO at 1 − p).
 */
export type BookSide = 'bid' | 'ask';

/** One market's position, Kalshi convention. All money in micro-dollars, counts in centi-contracts. */
export interface MarketPositionView {
  readonly ticker: string;
  /** Index in the tracker (stable; use it on hot paths). */
  readonly index: number;
  readonly fees: FeeModel;
  /** Signed: + YES contracts, − NO contracts (Kalshi `position_fp`). */
  readonly positionCenti: number;
  /** What the current position cost (Kalshi `market_exposure`): YES at its YES price, NO at its NO price. */
  readonly costMicros: number;
  /** Closed-out and settled profit, before fees (fees are in `feesPaidMicros`). */
  readonly realizedPnlMicros: number;
  /** Fees charged (trade fee + member-precision rounding − rebates + settlement rounding). */
  readonly feesPaidMicros: number;
  /** Sum over fills of the price paid for the outcome bought × count. */
  readonly totalTradedMicros: number;
  /** Contracts traded (Kalshi `volume`). */
  readonly volumeCenti: number;
  readonly lastUpdatedMs: number;
  /** Set once the market has settled; settled markets accept no fills. */
  readonly settlement: SettlementRecord | undefined;
}

/** Kalshi-style settlement record (`GET /portfolio/settlements`). */
export interface SettlementRecord {
  readonly ticker: string;
  readonly result: SettlementResult;
  /** Payout of one YES contract in price units. */
  readonly yesPayoutUnits: number;
  /** Position held at settlement (+ YES / − NO). */
  readonly positionCenti: number;
  readonly costMicros: number;
  /** Cash paid out (floored to member precision). */
  readonly revenueMicros: number;
  /** The market's total fees at settlement (trading fees + settlement rounding). */
  readonly feesPaidMicros: number;
  readonly tsMs: number;
}

/** Per-order fee accumulator (docs/kalshi-protocol.md §6.2): carried on the order across its fills. */
export interface FeeAccumulator {
  feeAccumulatorMicros: number;
}

/** What one fill did (a reused object: copy what you need before the next fill). */
export interface FillOutcome {
  market: number;
  /** Cash change from the contracts alone (− paid, + received), before fees. */
  cashFlowMicros: number;
  /** Part of the fill that closed an opposite position. */
  closedCenti: number;
  /** Realized PnL of the closed part (before fees). */
  realizedPnlMicros: number;
  postPositionCenti: number;
  readonly fee: FeeCharge;
}

/** How positions are marked: `mid` (YES mid) or `touch` (what selling at the best bid would raise now). */
export type MarkMode = 'mid' | 'touch';

/** Plain-data copy of the tracker's state (for tests, persistence and deep equality). */
export interface TrackerState {
  readonly cashMicros: number;
  readonly reservedMicros: number;
  readonly markets: readonly Omit<MarketPositionView, 'fees'>[];
}

/** Options of {@link createPositionTracker}. */
export interface PositionTrackerOptions {
  /** Starting cash in micro-dollars. */
  readonly cashMicros: number;
  /** Member precision for fee rounding (default `direct`). */
  readonly precision?: MemberPrecision;
}

class MarketState implements MarketPositionView {
  positionCenti = 0;
  costMicros = 0;
  realizedPnlMicros = 0;
  feesPaidMicros = 0;
  totalTradedMicros = 0;
  volumeCenti = 0;
  lastUpdatedMs = 0;
  settlement: SettlementRecord | undefined = undefined;
  constructor(
    readonly ticker: string,
    readonly index: number,
    readonly fees: FeeModel,
  ) {}
}

/** floor(a × b / d) for non-negative safe integers, exact. */
function mulDivFloor(a: number, b: number, d: number): number {
  const p = a * b;
  if (!Number.isSafeInteger(p)) return Number((BigInt(a) * BigInt(b)) / BigInt(d));
  const q = Math.floor(p / d);
  const r = p - q * d; // the float quotient can be off by one: correct it
  return r < 0 ? q - 1 : r >= d ? q + 1 : q;
}

function fail(code: PaperErrorCode, message: string): KflowError<PaperErrorCode> {
  return new KflowError<PaperErrorCode>(code, message);
}

/**
 * Cash and positions across markets, the Kalshi way: one signed position per market, where YES and NO
 * net against each other. A bid (buy YES at p) first closes NO contracts — the YES+NO pair is worth $1, so
 * the account receives 1 − p per contract — and then opens YES, paying p. An ask (sell YES at p = buy NO
 * at 1 − p) first closes YES, receiving p, then opens NO, paying 1 − p as collateral. Selling YES from flat
 * therefore costs money; it never credits the sale price.
 *
 * @example
 * const t = new PositionTracker({ cashMicros: 100_000_000 });
 * const m = t.addMarket('KXFED-26DEC-T4.00', { feeType: 'quadratic' });
 * t.applyFill(m, 'bid', 1700, 552, true); // buy 5.52 YES @ 0.17 (taker)
 * t.applyFill(m, 'ask', 1600, 116, true); // buy 1.16 NO @ 0.84: position 5.52 → 4.36
 */
export class PositionTracker {
  cashMicros: number;
  /** Cash held back for open orders (maintained by the matching engines that share this tracker). */
  reservedMicros = 0;
  readonly precision: MemberPrecision;
  private readonly states: MarketState[] = [];
  private readonly byTicker = new Map<string, number>();
  /** The outcome of the latest `applyFill` (reused). */
  readonly lastFill: FillOutcome = {
    market: -1,
    cashFlowMicros: 0,
    closedCenti: 0,
    realizedPnlMicros: 0,
    postPositionCenti: 0,
    fee: emptyFeeCharge(),
  };

  constructor(options: PositionTrackerOptions) {
    if (!Number.isSafeInteger(options.cashMicros)) throw fail('INVALID_ARGUMENT', 'cashMicros must be a safe integer');
    this.cashMicros = options.cashMicros;
    this.precision = options.precision ?? 'direct';
  }

  /** Cash not held back for open orders. */
  get availableMicros(): number {
    return this.cashMicros - this.reservedMicros;
  }

  /** Registers a market (idempotent) and returns its index. */
  addMarket(ticker: string, fees?: FeeSchedule): number {
    const known = this.byTicker.get(ticker);
    if (known !== undefined) return known;
    const index = this.states.length;
    this.states.push(new MarketState(ticker, index, createFeeModel(fees)));
    this.byTicker.set(ticker, index);
    return index;
  }

  /** Index of a market, or -1. */
  marketIndex(ticker: string): number {
    return this.byTicker.get(ticker) ?? -1;
  }

  /** Number of markets the tracker has seen. */
  get marketCount(): number {
    return this.states.length;
  }

  /** The position view of a market by index; throws `UNKNOWN_MARKET` for an unknown index. */
  market(index: number): MarketPositionView {
    const s = this.states[index];
    if (!s) throw fail('UNKNOWN_MARKET', `No market with index ${index}`);
    return s;
  }

  /** Signed position of a market (+ YES / − NO), allocation-free. */
  positionCenti(index: number): number {
    return this.states[index]!.positionCenti;
  }

  /**
   * The cash change (before fees) a fill would cause, without applying it: negative when it costs money.
   * `claimedCenti` of the position are treated as already promised to other orders (they do not net).
   */
  cashFlowMicros(index: number, side: BookSide, priceUnits: number, countCenti: number, claimedCenti = 0): number {
    const pos = this.states[index]!.positionCenti;
    // Contracts held on the outcome this fill closes (NO for a bid, YES for an ask).
    const held = Math.max(0, (side === 'bid' ? -pos : pos) - claimedCenti);
    const closed = countCenti < held ? countCenti : held;
    const opened = countCenti - closed;
    return side === 'bid'
      ? closed * (ONE - priceUnits) - opened * priceUnits
      : closed * priceUnits - opened * (ONE - priceUnits);
  }

  /**
   * Applies one fill: updates position, cost basis, realized PnL, cash and fees. `accumulator` is the
   * order's fee accumulator (omit for a fresh one per fill). Returns `lastFill` (reused, no allocation).
   */
  applyFill(
    index: number,
    side: BookSide,
    priceUnits: number,
    countCenti: number,
    isTaker: boolean,
    accumulator?: FeeAccumulator,
    tsMs = 0,
  ): FillOutcome {
    const s = this.states[index];
    if (!s) throw fail('UNKNOWN_MARKET', `No market with index ${index}`);
    if (s.settlement) throw fail('MARKET_SETTLED', `${s.ticker} has settled`);
    if (!(countCenti > 0) || !Number.isInteger(countCenti) || !(priceUnits >= 0 && priceUnits <= ONE)) {
      throw fail('INVALID_ARGUMENT', `Invalid fill ${countCenti} @ ${priceUnits}`);
    }
    const bid = side === 'bid';
    // Price of the outcome this fill buys, and of the outcome it closes.
    const buyPrice = bid ? priceUnits : ONE - priceUnits;
    const closePrice = ONE - buyPrice;
    const pos = s.positionCenti;
    const held = bid ? (pos < 0 ? -pos : 0) : pos > 0 ? pos : 0;
    const closed = countCenti < held ? countCenti : held;
    const opened = countCenti - closed;
    let realized = 0;
    let cashFlow = 0;
    if (closed > 0) {
      const costClosed = closed === held ? s.costMicros : mulDivFloor(s.costMicros, closed, held);
      const proceeds = closed * closePrice;
      realized = proceeds - costClosed;
      s.costMicros -= costClosed;
      cashFlow += proceeds;
    }
    if (opened > 0) {
      const cost = opened * buyPrice;
      s.costMicros += cost;
      cashFlow -= cost;
    }
    s.positionCenti = bid ? pos + countCenti : pos - countCenti;
    s.realizedPnlMicros += realized;
    s.totalTradedMicros += countCenti * buyPrice;
    s.volumeCenti += countCenti;
    const fee = charge(
      s.fees.tradeFeeMicros(priceUnits, countCenti, isTaker),
      cashFlow,
      this.precision,
      accumulator ? accumulator.feeAccumulatorMicros : 0,
      this.lastFill.fee,
    );
    if (accumulator) accumulator.feeAccumulatorMicros = fee.accumulatorMicros;
    s.feesPaidMicros += fee.chargedMicros;
    s.lastUpdatedMs = tsMs;
    this.cashMicros += cashFlow - fee.chargedMicros;
    const out = this.lastFill;
    out.market = index;
    out.cashFlowMicros = cashFlow;
    out.closedCenti = closed;
    out.realizedPnlMicros = realized;
    out.postPositionCenti = s.positionCenti;
    return out;
  }

  /**
   * Value of a market's position if YES paid `yesPayoutUnits` per contract (10,000 = YES wins, 0 = NO wins).
   * Exact micro-dollars.
   */
  settlementValueMicros(index: number, yesPayoutUnits: number): number {
    const pos = this.states[index]!.positionCenti;
    return pos >= 0 ? pos * yesPayoutUnits : -pos * (ONE - yesPayoutUnits);
  }

  /**
   * Settles a market: winning contracts pay $1 (YES/NO), scalar pays `yesPayoutUnits` per YES and the rest
   * per NO, void refunds the cost. The payout is floored to member precision; the remainder is a fee.
   */
  settle(index: number, result: SettlementResult, yesPayoutUnits: number, tsMs = 0): SettlementRecord {
    const s = this.states[index];
    if (!s) throw fail('UNKNOWN_MARKET', `No market with index ${index}`);
    if (s.settlement) throw fail('MARKET_SETTLED', `${s.ticker} has already settled`);
    const payoutUnits = result === 'yes' ? ONE : result === 'no' ? 0 : yesPayoutUnits;
    if (!Number.isInteger(payoutUnits) || payoutUnits < 0 || payoutUnits > ONE) {
      throw fail('INVALID_ARGUMENT', `Invalid YES payout ${yesPayoutUnits}`);
    }
    const exact = result === 'void' ? s.costMicros : this.settlementValueMicros(index, payoutUnits);
    const step = MEMBER_PRECISION_MICROS[this.precision];
    const revenue = exact - (exact % step);
    const record: SettlementRecord = {
      ticker: s.ticker,
      result,
      yesPayoutUnits: payoutUnits,
      positionCenti: s.positionCenti,
      costMicros: s.costMicros,
      revenueMicros: revenue,
      feesPaidMicros: s.feesPaidMicros + (exact - revenue),
      tsMs,
    };
    this.cashMicros += revenue;
    s.realizedPnlMicros += exact - s.costMicros;
    s.feesPaidMicros += exact - revenue;
    s.positionCenti = 0;
    s.costMicros = 0;
    s.lastUpdatedMs = tsMs;
    s.settlement = record;
    return record;
  }

  /**
   * Value of one market's position in micro-dollars (may be fractional at a half-unit mid). `mid` marks
   * at the YES mid (falls back to `touch` when the book is one-sided); `touch` values YES at the best YES
   * bid and NO at the best NO bid (what selling now would raise at the touch; 0 without a bid).
   */
  markMicros(index: number, book: BookView, mode: MarkMode = 'mid'): number {
    const pos = this.states[index]!.positionCenti;
    if (pos === 0) return 0;
    if (mode === 'mid') {
      const mid = book.mid();
      if (!Number.isNaN(mid)) return pos > 0 ? pos * mid : -pos * (ONE - mid);
    }
    const bid = book.bestBid(pos > 0 ? 'yes' : 'no');
    return bid < 0 ? 0 : (pos > 0 ? pos : -pos) * bid;
  }

  /** Cash plus every market marked with `mode`; `bookOf(index)` returns the market's book (or undefined: marked at 0). */
  portfolioValueMicros(bookOf: (index: number) => BookView | undefined, mode: MarkMode = 'mid'): number {
    let value = this.cashMicros;
    for (let i = 0; i < this.states.length; i++) {
      if (this.states[i]!.positionCenti === 0) continue;
      const book = bookOf(i);
      if (book) value += this.markMicros(i, book, mode);
    }
    return value;
  }

  /** Total cost of open positions (Kalshi market exposure summed). */
  exposureMicros(): number {
    let sum = 0;
    for (const s of this.states) sum += s.costMicros;
    return sum;
  }

  /** A plain-data copy of everything (deep-equal comparable). */
  state(): TrackerState {
    return {
      cashMicros: this.cashMicros,
      reservedMicros: this.reservedMicros,
      markets: this.states.map((s) => ({
        ticker: s.ticker,
        index: s.index,
        positionCenti: s.positionCenti,
        costMicros: s.costMicros,
        realizedPnlMicros: s.realizedPnlMicros,
        feesPaidMicros: s.feesPaidMicros,
        totalTradedMicros: s.totalTradedMicros,
        volumeCenti: s.volumeCenti,
        lastUpdatedMs: s.lastUpdatedMs,
        settlement: s.settlement,
      })),
    };
  }
}

/**
 * Creates a {@link PositionTracker}.
 *
 * @example
 * const tracker = createPositionTracker({ cashMicros: 100_000_000, precision: 'retail' }); // $100
 */
export function createPositionTracker(options: PositionTrackerOptions): PositionTracker {
  return new PositionTracker(options);
}
