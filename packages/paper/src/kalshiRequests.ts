/**
 * The paper client's Kalshi REST emulation at its boundary: one schema per request, parsing untrusted
 * input into exact units (docs/kalshi-protocol.md §5), and the Kalshi error body each refusal becomes. Nothing
 * here reads or changes an account or a book, so a refused request changes nothing by construction.
 *
 * zod stays inside this module: no schema type appears in a public signature.
 */
import {
  KflowError,
  MAX_COUNT_CENTI,
  PRICE_ONE,
  type SettlementResult,
  type WireNumber,
  centsToPriceUnits,
  contractsToCountCenti,
  formatCount,
  isKflowError,
  parseCountCenti,
  parsePriceUnits,
} from '@kflow/orderbook';
import { z } from 'zod';
import type { PaperErrorCode } from './errors';
import type { KalshiOrderStatus, PaperErrorCodeWire, PaperResponse } from './kalshiTypes';
import type { OrderActionResult, QueueModel } from './matchingEngine';
import type { OrderRejectReason, OrderRequest, TimeInForce } from './orders';

/** A refused request: a Kalshi error body with its HTTP status. */
export type Refusal = Extract<PaperResponse<never>, { readonly ok: false }>;

/** A Kalshi error response. */
export function error(status: 400 | 404 | 409, code: PaperErrorCodeWire, message: string, details?: string): Refusal {
  return { ok: false, status, error: details === undefined ? { code, message, service: 'exchange' } : { code, message, details, service: 'exchange' } };
}

/** A Kalshi success response. */
export function ok<T>(body: T, status: 200 | 201 = 200): PaperResponse<T> {
  return { ok: true, status, body };
}

const REJECT_CODES: Readonly<Record<OrderRejectReason, readonly [400 | 404 | 409, PaperErrorCodeWire]>> = {
  invalid_side: [400, 'invalid_parameters'],
  invalid_price: [400, 'invalid_price'],
  invalid_count: [400, 'invalid_order'],
  insufficient_balance: [400, 'insufficient_balance'],
  post_only_cross: [400, 'post_only_cross'],
  reduce_only_no_position: [400, 'invalid_order'],
  market_settled: [400, 'market_closed'],
  order_not_found: [404, 'not_found'],
};

/** The Kalshi error for an order action the matching engine refused. */
export function refused(result: OrderActionResult & { readonly ok: false }): Refusal {
  const [status, code] = REJECT_CODES[result.reason];
  return error(status, code, result.message);
}

// ---- field schemas ---------------------------------------------------------------------------------

type UnitParser = (value: WireNumber, field: string) => number;

const WIRE_NUMBER = z.union([z.string(), z.number()], { error: 'expected a decimal string or number' });

/** A wire number (of the JSON types `accepts` allows) in exact units, by one of the units.ts parsers. */
function units(accepts: z.ZodType<WireNumber>, parse: UnitParser, field: string) {
  return accepts.transform((value, ctx) => {
    try {
      return parse(value, field);
    } catch (e) {
      if (!isKflowError(e, 'INVALID_NUMBER')) throw e;
      ctx.issues.push({ code: 'custom', message: e.message, input: value });
      return z.NEVER;
    }
  });
}

/** A count in centi-contracts whose cost at any price is an exact micro-dollar amount (`MAX_COUNT_CENTI`). */
function count(accepts: z.ZodType<WireNumber>, parse: UnitParser, field: string) {
  return units(accepts, parse, field).refine((c) => Math.abs(c) <= MAX_COUNT_CENTI, `more than ${formatCount(MAX_COUNT_CENTI)} contracts`);
}

const TICKER = z.string().min(1);
/** Order ids and client order ids. */
const ID = z.string().min(1);
const TIME_IN_FORCE = z.enum(['good_till_canceled', 'immediate_or_cancel', 'fill_or_kill'] satisfies TimeInForce[]);
const PRICE = units(WIRE_NUMBER, parsePriceUnits, 'price');
const COUNT = count(WIRE_NUMBER, parseCountCenti, 'count');

/** Fields both create-order versions share, with Kalshi's defaults. */
const ORDER_OPTIONS = {
  client_order_id: ID.optional(),
  time_in_force: TIME_IN_FORCE.default('good_till_canceled'),
  post_only: z.boolean().default(false),
  reduce_only: z.boolean().default(false),
  // Type-checked, then ignored: a paper account trades alone in one account (docs/kalshi-protocol.md §5.1).
  subaccount: z.int().nonnegative().optional(),
};

/** The wire code of a refused field: prices and counts have their own, everything else is a bad parameter. */
const FIELD_CODES: Readonly<Record<string, PaperErrorCodeWire>> = {
  price: 'invalid_price',
  yes_price: 'invalid_price',
  no_price: 'invalid_price',
  yes_price_dollars: 'invalid_price',
  no_price_dollars: 'invalid_price',
  count: 'invalid_order',
  count_fp: 'invalid_order',
  reduce_by: 'invalid_order',
  reduce_to: 'invalid_order',
};

/** A rule across fields failed; `code` overrides the field's wire code. */
function issue(ctx: z.RefinementCtx, input: unknown, message: string, code?: PaperErrorCodeWire): typeof z.NEVER {
  ctx.issues.push({ code: 'custom', message, input, ...(code === undefined ? {} : { params: { code } }) });
  return z.NEVER;
}

// ---- requests ------------------------------------------------------------------------------------

/** A create-order request in the engine's V2 model, with what the response needs to echo. */
export interface ParsedOrder {
  readonly ticker: string;
  readonly clientOrderId: string | undefined;
  readonly request: OrderRequest;
  /** The body's version: the response has that version's shape. */
  readonly version: 1 | 2;
  readonly legacySide: 'yes' | 'no';
  readonly legacyAction: 'buy' | 'sell';
}

/** `POST /portfolio/events/orders` (V2): a side on the YES leg. */
const CREATE_ORDER_V2 = z
  .strictObject({
    ticker: TICKER,
    side: z.enum(['bid', 'ask']),
    price: PRICE,
    count: COUNT,
    self_trade_prevention_type: z.enum(['taker_at_cross', 'maker']).optional(),
    // Kalshi fields about routing and risk groups: type-checked, then ignored, since they cannot change a
    // paper account's fills. `expiration_time` would change them and is refused as unknown.
    cancel_order_on_pause: z.boolean().optional(),
    order_group_id: z.string().optional(),
    exchange_index: z.int().min(-1).optional(),
    ...ORDER_OPTIONS,
  })
  .transform(
    (b): ParsedOrder => ({
      ticker: b.ticker,
      clientOrderId: b.client_order_id,
      request: { side: b.side, priceUnits: b.price, countCenti: b.count, timeInForce: b.time_in_force, postOnly: b.post_only, reduceOnly: b.reduce_only },
      version: 2,
      legacySide: b.side === 'bid' ? 'yes' : 'no',
      legacyAction: 'buy',
    }),
  );

const V1_PRICE_FIELDS = ['yes_price', 'no_price', 'yes_price_dollars', 'no_price_dollars'] as const;

/** Legacy V1 (`POST /portfolio/orders`): yes/no + buy/sell, exactly one price field, normalised to V2. */
const CREATE_ORDER_V1 = z
  .strictObject({
    ticker: TICKER,
    side: z.enum(['yes', 'no']),
    action: z.enum(['buy', 'sell']),
    count: count(z.number(), contractsToCountCenti, 'count').optional(),
    count_fp: count(z.string(), parseCountCenti, 'count_fp').optional(),
    yes_price: units(z.number(), centsToPriceUnits, 'yes_price').optional(),
    no_price: units(z.number(), centsToPriceUnits, 'no_price').optional(),
    yes_price_dollars: units(z.string(), parsePriceUnits, 'yes_price_dollars').optional(),
    no_price_dollars: units(z.string(), parsePriceUnits, 'no_price_dollars').optional(),
    ...ORDER_OPTIONS,
  })
  .transform((b, ctx): ParsedOrder => {
    const given = V1_PRICE_FIELDS.filter((k) => b[k] !== undefined);
    if (given.length !== 1) return issue(ctx, b, `exactly one of ${V1_PRICE_FIELDS.join(', ')} should be provided`, 'invalid_order');
    const field = given[0]!;
    const priceUnits = b[field]!;
    if (b.count === undefined && b.count_fp === undefined) return issue(ctx, b, 'count or count_fp is required', 'invalid_order');
    if (b.count !== undefined && b.count_fp !== undefined && b.count !== b.count_fp) {
      return issue(ctx, b, 'count and count_fp disagree', 'invalid_order');
    }
    // Buying YES or selling NO is a bid on the YES leg; the other two are asks.
    const side = (b.side === 'yes') === (b.action === 'buy') ? 'bid' : 'ask';
    return {
      ticker: b.ticker,
      clientOrderId: b.client_order_id,
      request: {
        side,
        priceUnits: field.startsWith('yes') ? priceUnits : PRICE_ONE - priceUnits,
        countCenti: (b.count_fp ?? b.count)!,
        timeInForce: b.time_in_force,
        postOnly: b.post_only,
        reduceOnly: b.reduce_only,
      },
      version: 1,
      legacySide: b.side,
      legacyAction: b.action,
    };
  });

/** The create-order schema of `body`'s version: a V1 body is the one with an `action`. */
export function createOrderSchema(body: unknown): typeof CREATE_ORDER_V2 | typeof CREATE_ORDER_V1 {
  return typeof body === 'object' && body !== null && 'action' in body ? CREATE_ORDER_V1 : CREATE_ORDER_V2;
}

/** `DELETE /portfolio/events/orders/{order_id}` and `GET /portfolio/orders/{order_id}`. */
export const ORDER_ID = z.strictObject({ order_id: ID });

/** `POST /portfolio/events/orders/{order_id}/amend` (`count` = filled + desired remaining). */
export const AMEND_ORDER = z.strictObject({
  order_id: ID,
  body: z.strictObject({
    ticker: TICKER,
    side: z.enum(['bid', 'ask']),
    price: PRICE,
    count: COUNT,
    client_order_id: ID.optional(),
    updated_client_order_id: ID.optional(),
  }),
});

function reduction(field: 'reduce_by' | 'reduce_to') {
  return count(WIRE_NUMBER, parseCountCenti, field)
    .refine((c) => c >= 0, `${field} must not be negative`)
    .optional();
}

/** `POST /portfolio/events/orders/{order_id}/decrease` with exactly one of `reduce_by` / `reduce_to`. */
export const DECREASE_ORDER = z.strictObject({
  order_id: ID,
  body: z.strictObject({ reduce_by: reduction('reduce_by'), reduce_to: reduction('reduce_to') }).transform((b, ctx) => {
    if ((b.reduce_by === undefined) === (b.reduce_to === undefined)) return issue(ctx, b, 'give exactly one of reduce_by and reduce_to');
    return b.reduce_by === undefined ? { toCenti: b.reduce_to! } : { byCenti: b.reduce_by };
  }),
});

/** `GET /portfolio/orders` filters. */
export const GET_ORDERS = z.strictObject({
  ticker: TICKER.optional(),
  status: z.enum(['resting', 'canceled', 'executed'] satisfies KalshiOrderStatus[]).optional(),
});

/** `GET /portfolio/positions` filters (Kalshi's default: unsettled markets). */
export const GET_POSITIONS = z.strictObject({
  ticker: TICKER.optional(),
  settlement_status: z.enum(['unsettled', 'settled', 'all']).default('unsettled'),
});

/** `GET /portfolio/fills` filters. */
export const GET_FILLS = z.strictObject({ ticker: TICKER.optional(), order_id: ID.optional() });

/** A market settlement: the result exactly as Kalshi spells it, and the YES payout it implies. */
export const SETTLE = z
  .strictObject({
    ticker: TICKER,
    result: z.enum(['yes', 'no', 'scalar', 'void'] satisfies SettlementResult[]),
    settlement_value: units(z.string(), parsePriceUnits, 'settlement_value').optional(),
  })
  .transform((s, ctx) => {
    const implied = s.result === 'yes' ? PRICE_ONE : s.result === 'no' ? 0 : undefined;
    if (s.result === 'scalar' && s.settlement_value === undefined) return issue(ctx, s, 'a scalar result needs settlement_value (the YES payout)');
    if (implied !== undefined && s.settlement_value !== undefined && s.settlement_value !== implied) {
      return issue(ctx, s, `settlement_value ${s.settlement_value / PRICE_ONE} contradicts result ${s.result}`);
    }
    // A void market refunds cost whatever its value says (`PositionTracker.settle`).
    return { ticker: s.ticker, result: s.result, yesPayoutUnits: implied ?? s.settlement_value ?? 0 };
  });

/** A request's value (parsed, or looked up), or the Kalshi error that refuses the request. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | Refusal;

/** Parses one request with its schema; a refusal is a 400 whose code names what was wrong. */
export function parseRequest<S extends z.ZodType>(schema: S, input: unknown): Outcome<z.output<S>> {
  const r = schema.safeParse(input);
  if (r.success) return { ok: true, value: r.data };
  const first = r.error.issues[0]!;
  const params = first.code === 'custom' ? (first.params as { code?: PaperErrorCodeWire } | undefined) : undefined;
  const key = first.path.findLast((p) => typeof p === 'string');
  const code = params?.code ?? (key === undefined ? undefined : FIELD_CODES[key]) ?? 'invalid_parameters';
  return error(400, code, r.error.issues.map(describe).join('; '));
}

function describe(i: z.core.$ZodIssue): string {
  const message = i.code === 'unrecognized_keys' ? `unsupported field${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')} (remove it)` : i.message;
  return i.path.length === 0 ? message : `${i.path.join('.')}: ${message}`;
}

// ---- arguments of the non-REST methods (programmer errors: thrown) -----------------------------------

/** An object with these methods (the structural interfaces the client is given). */
function withMethods(...names: string[]) {
  return z.custom<object>(
    (v) => typeof v === 'object' && v !== null && names.every((n) => typeof (v as Record<string, unknown>)[n] === 'function'),
    `expected an object with ${names.map((n) => `${n}()`).join(', ')}`,
  );
}

const NON_NEGATIVE_INT = z.int().nonnegative();

/** `PaperClientOptions` beyond `mode` (checked first: anything but 'paper' is `LIVE_MODE_FORBIDDEN`). */
export const CLIENT_OPTIONS = z.strictObject({
  mode: z.literal('paper'),
  state: withMethods('subscribeEvents', 'markets', 'book'),
  clock: withMethods('now'),
  rng: withMethods('fork', 'int', 'state'),
  cashMicros: NON_NEGATIVE_INT,
  marketCashMicros: NON_NEGATIVE_INT.optional(),
  tickers: z.array(TICKER).optional(),
  precision: z.enum(['direct', 'retail']).optional(),
  // Fee schedules and grids are checked by the fee model and the engine that compile them.
  markets: z.record(z.string(), z.strictObject({ fees: z.looseObject({}).optional(), grid: z.array(z.looseObject({})).optional(), eventTicker: TICKER.optional() })).optional(),
  defaultFees: z.looseObject({}).optional(),
  queueModel: z.enum(['conservative', 'proportional'] satisfies QueueModel[]).optional(),
  latency: z.strictObject({ baseMs: NON_NEGATIVE_INT.optional(), jitterMs: NON_NEGATIVE_INT.optional() }).optional(),
  userId: z.string().min(1).optional(),
});

/** One argument of a non-REST method: `ticker` strings, the `subscribe` listener, a features buffer. */
export const ARGUMENTS = {
  ticker: TICKER,
  listener: z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', 'expected a function'),
  positionFeatures: z.looseObject({ positionLimitCenti: z.number() }),
} as const;

/**
 * Checks a programmer-supplied argument; throws `INVALID_ARGUMENT` naming `where` (the method or option)
 * and what was wrong.
 */
export function checkArgument(schema: z.ZodType, value: unknown, where: string): void {
  const r = schema.safeParse(value);
  if (r.success) return;
  throw new KflowError<PaperErrorCode>('INVALID_ARGUMENT', `${where}: ${r.error.issues.map(describe).join('; ')}`, { cause: r.error });
}
