import { KflowError, type WireNumber, parseFixed } from '@kflow/orderbook';
import type { PaperErrorCode } from './errors';

/**
 * Kalshi series fee types with a known formula (docs/kalshi-protocol.md §6.1). Unknown types are rejected rather
 * than guessed: resolve the series' `fee_type` from the API.
 */
export type FeeType = 'quadratic' | 'quadratic_with_maker_fees' | 'quadratic_with_combo_maker_fees';

/** `direct` members settle to $0.0001, `retail` (non-direct / FCM) members to $0.01 (docs/kalshi-protocol.md §6.2). */
export type MemberPrecision = 'direct' | 'retail';

/** A series' fee parameters. `multiplier` is the series `fee_multiplier` (default 1). */
export interface FeeSchedule {
  readonly feeType: FeeType;
  readonly multiplier?: WireNumber;
}

/** Fee rates in 1/10,000: the coefficient in `rate × C × P × (1 − P)`. */
export const FEE_RATES: Readonly<Record<FeeType, { readonly taker: number; readonly maker: number }>> = {
  quadratic: { taker: 700, maker: 0 },
  quadratic_with_maker_fees: { taker: 700, maker: 175 },
  quadratic_with_combo_maker_fees: { taker: 700, maker: 350 },
};

/** Balance granularity per member precision, in micro-dollars. */
export const MEMBER_PRECISION_MICROS: Readonly<Record<MemberPrecision, number>> = { direct: 100, retail: 10_000 };

/** Trade fees are rounded up to $0.0001 (a centicent). */
const CENTICENT_MICROS = 100;
const CENT_MICROS = 10_000;
const SPLIT = 10_000_000; // 1e7: the fee divisor 1e14 is SPLIT², see ceilDivByE14

/** The fee schedule used when a market has none: `quadratic`, multiplier 1 (fail closed: never cheaper than the real fee). */
export const DEFAULT_FEE_SCHEDULE: FeeSchedule = { feeType: 'quadratic' };

/**
 * A compiled fee schedule: exact integer math, no allocation per call.
 *
 * @example
 * const fees = createFeeModel({ feeType: 'quadratic' });
 * fees.tradeFeeMicros(1700, 552, true); // 54600 ($0.0546: 0.07 × 5.52 × 0.17 × 0.83 rounded up)
 */
export interface FeeModel {
  readonly feeType: FeeType;
  /** The multiplier M in 1/10,000 (1 → 10,000). */
  readonly multiplierUnits: number;
  /** The trade fee of one fill (before member-precision rounding), rounded up to $0.0001, in micro-dollars. */
  tradeFeeMicros(priceUnits: number, countCenti: number, isTaker: boolean): number;
}

/**
 * Narrows a series `fee_type` string to a known {@link FeeType}.
 *
 * @example
 * isFeeType('quadratic'); // true
 */
export function isFeeType(value: string): value is FeeType {
  return Object.hasOwn(FEE_RATES, value);
}

/**
 * Compiles a fee schedule; throws `UNKNOWN_FEE_TYPE` or `INVALID_ARGUMENT` for bad input.
 *
 * @example
 * createFeeModel({ feeType: 'quadratic_with_maker_fees' }).tradeFeeMicros(5000, 10_000, false); // 437500
 */
export function createFeeModel(schedule: FeeSchedule = DEFAULT_FEE_SCHEDULE): FeeModel {
  const { feeType } = schedule;
  if (!isFeeType(feeType)) {
    throw new KflowError<PaperErrorCode>('UNKNOWN_FEE_TYPE', `Unknown fee type "${String(feeType)}"`, {
      details: { feeType, known: Object.keys(FEE_RATES) },
    });
  }
  const multiplierUnits = parseFixed(schedule.multiplier ?? 1, 4, 'multiplier');
  if (multiplierUnits < 0) {
    throw new KflowError<PaperErrorCode>('INVALID_ARGUMENT', `Fee multiplier must be ≥ 0, got ${schedule.multiplier}`);
  }
  const rates = FEE_RATES[feeType];
  const taker = multiplierUnits * rates.taker;
  const maker = multiplierUnits * rates.maker;
  return {
    feeType,
    multiplierUnits,
    tradeFeeMicros(priceUnits, countCenti, isTaker) {
      const k = isTaker ? taker : maker;
      if (k === 0 || countCenti === 0) return 0;
      // fee$ = (M·10⁴)(rate·10⁴)(C·10²)(P·10⁴)((1−P)·10⁴) / 10¹⁸; in centicents (10⁻⁴ $) divide by 10¹⁴.
      return ceilDivByE14(k * priceUnits * (10_000 - priceUnits), countCenti) * CENTICENT_MICROS;
    },
  };
}

/** Exact floor division and remainder of safe integers (corrects the float quotient by ±1). */
function divMod(x: number, d: number, out: { q: number; r: number }): void {
  let q = Math.floor(x / d);
  let r = x - q * d;
  if (r < 0) {
    q--;
    r += d;
  } else if (r >= d) {
    q++;
    r -= d;
  }
  out.q = q;
  out.r = r;
}

const dm = { q: 0, r: 0 };

/**
 * ceil(a × b / 10¹⁴) exactly, for non-negative integers, without BigInt in the common case: a × b can pass
 * 2^53, so a is split in base 10⁷ and the quotient assembled from safe partial products.
 */
export function ceilDivByE14(a: number, b: number): number {
  if (Number.isSafeInteger(a) && Number.isSafeInteger(b)) {
    divMod(a, SPLIT, dm);
    const ah = dm.q;
    const al = dm.r;
    const t1 = ah * b;
    const t2 = al * b;
    if (Number.isSafeInteger(t1) && Number.isSafeInteger(t2)) {
      divMod(t2, SPLIT, dm);
      const t2l = dm.r;
      const s = t1 + dm.q; // a·b = s·10⁷ + t2l
      if (Number.isSafeInteger(s)) {
        divMod(s, SPLIT, dm); // a·b = q·10¹⁴ + r·10⁷ + t2l
        return dm.q + (dm.r > 0 || t2l > 0 ? 1 : 0);
      }
    }
  }
  const n = BigInt(a) * BigInt(b);
  const d = 100_000_000_000_000n;
  return Number((n + d - 1n) / d);
}

/** The outcome of charging one fill at member precision (all micro-dollars). */
export interface FeeCharge {
  /** The trade fee, rounded up to $0.0001 (Kalshi's `fee_cost`). */
  tradeFeeMicros: number;
  /** What flooring the balance change to member precision cost on top. */
  roundingFeeMicros: number;
  /** Whole cents returned from the order's accumulator. */
  rebateMicros: number;
  /**
   * Net fee taken from cash: trade + rounding − rebate. One fill can come out negative when a rebate lands
   * on it; an order's total never falls below its trade fees.
   */
  chargedMicros: number;
  /** The order's accumulator after this fill. */
  accumulatorMicros: number;
}

/** A zeroed {@link FeeCharge}, to reuse as the `out` argument of {@link chargeFee}. */
export function emptyFeeCharge(): FeeCharge {
  return { tradeFeeMicros: 0, roundingFeeMicros: 0, rebateMicros: 0, chargedMicros: 0, accumulatorMicros: 0 };
}

/**
 * Applies Kalshi's member-precision rounding to one fill (docs/kalshi-protocol.md §6.2): the balance change `revenue − tradeFee`
 * is floored to the member's precision, the overpayment goes into the order's accumulator, and every whole
 * cent accumulated comes back as a rebate, so the balance stays aligned to the precision and many small
 * fills converge to the single-fill fee. Writes into `out` (no allocation) and returns it.
 *
 * @example
 * const c = chargeFee(17_500, -500_000, 'retail', 0); // 1 @ $0.50: c.chargedMicros === 20_000 ($0.02)
 */
export function chargeFee(
  tradeFeeMicros: number,
  revenueMicros: number,
  precision: MemberPrecision,
  accumulatorMicros: number,
  out: FeeCharge = emptyFeeCharge(),
): FeeCharge {
  const step = MEMBER_PRECISION_MICROS[precision];
  const change = revenueMicros - tradeFeeMicros;
  const rem = change % step;
  const rounding = rem === 0 ? 0 : rem > 0 ? rem : rem + step;
  let acc = accumulatorMicros + rounding;
  const rebate = acc - (acc % CENT_MICROS);
  acc -= rebate;
  out.tradeFeeMicros = tradeFeeMicros;
  out.roundingFeeMicros = rounding;
  out.rebateMicros = rebate;
  out.chargedMicros = tradeFeeMicros + rounding - rebate;
  out.accumulatorMicros = acc;
  return out;
}

/** Options of {@link quoteFee}. */
export interface FeeQuoteOptions {
  readonly priceUnits: number;
  readonly countCenti: number;
  readonly isTaker?: boolean;
  readonly schedule?: FeeSchedule;
  readonly precision?: MemberPrecision;
}

/**
 * The fee of a single buy fill that opens a position (revenue = −price × count), on a fresh order.
 *
 * @example
 * quoteFee({ priceUnits: 5000, countCenti: 100, precision: 'retail' }); // { tradeFeeMicros: 17500, chargedMicros: 20000 }
 */
export function quoteFee(options: FeeQuoteOptions): { tradeFeeMicros: number; chargedMicros: number } {
  const { priceUnits, countCenti, isTaker = true, precision = 'direct' } = options;
  if (!Number.isInteger(priceUnits) || priceUnits < 0 || priceUnits > 10_000) {
    throw new KflowError<PaperErrorCode>('INVALID_ARGUMENT', `Price must be 0..10000 units, got ${priceUnits}`);
  }
  if (!Number.isInteger(countCenti) || countCenti < 0) {
    throw new KflowError<PaperErrorCode>('INVALID_ARGUMENT', `Count must be a non-negative integer of centi-contracts, got ${countCenti}`);
  }
  const trade = createFeeModel(options.schedule).tradeFeeMicros(priceUnits, countCenti, isTaker);
  const charge = chargeFee(trade, -priceUnits * countCenti, precision, 0);
  return { tradeFeeMicros: trade, chargedMicros: charge.chargedMicros };
}
