import { KflowError } from './errors';

/**
 * Exact fixed-point units (docs/architecture.md §3, Units):
 * - price: integer 1/10,000 dollar (`"0.1700"` → 1700), domain 0..10,000;
 * - count: integer 1/100 contract (`"5.52"` → 552), signed for deltas;
 * - money: integer micro-dollars; price units × count units is exactly micro-dollars.
 * Conversions never go through binary floating point: strings are parsed digit by digit.
 */
export const PRICE_SCALE = 10_000;
/** Count units per contract: counts are integer 1/100 contract (centi-contracts). */
export const COUNT_SCALE = 100;
/** Money units per dollar: money is integer micro-dollars. */
export const MICROS_PER_DOLLAR = 1_000_000;
/** One whole contract pays $1: 10,000 price units. */
export const PRICE_ONE = PRICE_SCALE;

/**
 * The largest size (centi-contracts) a book level, delta or trade may have: the largest count whose cost at
 * any price (count × price units, ≤ count × `PRICE_ONE`) is still an exact micro-dollar integer. About 9
 * billion contracts, far beyond any real market.
 */
export const MAX_COUNT_CENTI = Math.floor(Number.MAX_SAFE_INTEGER / PRICE_ONE);

/** A number as it appears on the wire: a decimal string (`"0.1700"`) or a JSON number. */
export type WireNumber = string | number;

/** 10^0 .. 10^15 (parseFixed supports up to 15 decimals). */
const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);

function invalid(field: string, value: unknown, why: string): KflowError<'INVALID_NUMBER'> {
  return new KflowError('INVALID_NUMBER', `Invalid number in field "${field}": ${JSON.stringify(value)} (${why})`, {
    details: { field, value },
  });
}

/**
 * Parses a decimal string (or JSON number) into an integer scaled by 10^`decimals`.
 * Extra fractional digits are accepted only when they are zeros ("0.560000" at 4 decimals); anything
 * that would need rounding is an error naming the field.
 */
export function parseFixed(value: WireNumber, decimals: number, field: string): number {
  if (!(decimals >= 0 && decimals < POW10.length && Number.isInteger(decimals))) {
    throw new RangeError(`decimals must be an integer in [0, ${POW10.length - 1}]`);
  }
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(field, value, 'not finite');
    text = String(value);
    if (text.includes('e')) {
      if (!Number.isInteger(value)) throw invalid(field, value, 'exponent notation');
      text = BigInt(value).toString();
    }
  } else if (typeof value === 'string') {
    text = value;
  } else {
    throw invalid(field, value, 'expected a decimal string or number');
  }
  const len = text.length;
  let i = 0;
  let negative = false;
  if (len > 0 && (text.charCodeAt(0) === 45 /* - */ || text.charCodeAt(0) === 43) /* + */) {
    negative = text.charCodeAt(0) === 45;
    i = 1;
  }
  let intPart = 0;
  let digits = 0;
  for (; i < len; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    intPart = intPart * 10 + c;
    digits++;
  }
  let frac = 0;
  let fracDigits = 0;
  if (i < len && text.charCodeAt(i) === 46 /* . */) {
    i++;
    for (; i < len; i++) {
      const c = text.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      if (fracDigits < decimals) {
        frac = frac * 10 + c;
      } else if (c !== 0) {
        throw invalid(field, value, `more than ${decimals} decimals`);
      }
      fracDigits++;
      digits++;
    }
  }
  if (i !== len || digits === 0) throw invalid(field, value, 'not a decimal number');
  if (fracDigits < decimals) frac *= POW10[decimals - fracDigits]!;
  const result = intPart * POW10[decimals]! + frac;
  if (!Number.isSafeInteger(result)) throw invalid(field, value, 'out of range');
  return negative && result !== 0 ? -result : result;
}

/** `"0.1700"` → 1700. Prices must lie in [0, 1] dollars. */
export function parsePriceUnits(value: WireNumber, field = 'price'): number {
  const units = parseFixed(value, 4, field);
  if (units < 0 || units > PRICE_SCALE) throw invalid(field, value, 'price outside [0, 1]');
  return units;
}

/** `"5.52"` → 552; `"-1.84"` → -184 (deltas are signed). */
export function parseCountCenti(value: WireNumber, field = 'count'): number {
  return parseFixed(value, 2, field);
}

/** `"0.054600"` → 54600 micro-dollars. */
export function parseMicros(value: WireNumber, field = 'amount'): number {
  return parseFixed(value, 6, field);
}

/** Legacy integer cents (before 2026-03-12): 17 → 1700 price units. */
export function centsToPriceUnits(value: WireNumber, field = 'price'): number {
  const cents = parseFixed(value, 0, field);
  if (cents < 0 || cents > 100) throw invalid(field, value, 'legacy cent price outside [0, 100]');
  return cents * 100;
}

/** Legacy integer contract counts: -54 → -5400 centi-contracts. */
export function contractsToCountCenti(value: WireNumber, field = 'count'): number {
  return parseScaledInteger(value, COUNT_SCALE, field);
}

/**
 * A legacy integer field (no decimals allowed) times `scale`, exact: `parseScaledInteger(3, 10_000, 'taker_fees')`
 * turns 3 cents into 30,000 micro-dollars. A product beyond 2^53 is an error, never a rounded number.
 */
export function parseScaledInteger(value: WireNumber, scale: number, field: string): number {
  const scaled = parseFixed(value, 0, field) * scale;
  if (!Number.isSafeInteger(scaled)) throw invalid(field, value, 'out of range');
  return scaled;
}

function formatScaled(value: number, decimals: number): string {
  if (!Number.isSafeInteger(value)) throw new RangeError(`Not a safe integer: ${value}`);
  const negative = value < 0;
  const abs = String(negative ? -value : value).padStart(decimals + 1, '0');
  const cut = abs.length - decimals;
  const text = decimals === 0 ? abs : `${abs.slice(0, cut)}.${abs.slice(cut)}`;
  return negative ? `-${text}` : text;
}

/** 1700 → `"0.1700"`. */
export function formatPrice(priceUnits: number): string {
  return formatScaled(priceUnits, 4);
}

/** 552 → `"5.52"`. */
export function formatCount(countCenti: number): string {
  return formatScaled(countCenti, 2);
}

/**
 * Micro-dollars as a dollar string with `decimals` places (6 by default, Kalshi's `*_dollars` money
 * precision). Fewer places must be exact: rounding money is the caller's explicit decision.
 */
export function formatMicros(micros: number, decimals = 6): string {
  if (decimals > 6 || decimals < 0) throw new RangeError('decimals must be in [0, 6]');
  const step = 10 ** (6 - decimals);
  if (micros % step !== 0) throw new RangeError(`${micros} micro-dollars is not exact at ${decimals} decimals`);
  return formatScaled(micros / step, decimals);
}
