/**
 * The one base error of kflow. Every package throws `KflowError`s whose `code` is a string-literal union
 * of its own (`KflowError<'SEQUENCE_GAP' | ...>`), so callers can switch on `error.code`.
 * Expected outcomes (a rejected order, an infeasible action) are returned as data, not thrown.
 *
 * @example
 * try { parsePriceUnits('0.1x', 'price_dollars') } catch (e) { if (isKflowError(e, 'INVALID_NUMBER')) ... }
 */
export class KflowError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: Code, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KflowError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** Narrows an unknown value to a `KflowError`, optionally with a given code. */
export function isKflowError<Code extends string>(error: unknown, code?: Code): error is KflowError<Code> {
  return error instanceof KflowError && (code === undefined || error.code === code);
}

/** Codes raised by @kflow/orderbook. */
export type OrderbookErrorCode =
  | 'INVALID_NUMBER'
  | 'INVALID_FRAME'
  | 'SEQUENCE_GAP'
  | 'CROSSED_BOOK'
  | 'NEGATIVE_LEVEL'
  | 'UNKNOWN_MARKET';
