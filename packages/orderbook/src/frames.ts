import { KflowError, isKflowError } from './errors';
import type { Level, Side } from './orderBook';
import {
  MAX_COUNT_CENTI,
  PRICE_ONE,
  centsToPriceUnits,
  contractsToCountCenti,
  formatCount,
  parseCountCenti,
  parseMicros,
  parsePriceUnits,
  parseScaledInteger,
  type WireNumber,
} from './units';

/**
 * Typed Kalshi WebSocket v2 frames (docs/kalshi-protocol.md §3). Values are converted to exact units while parsing:
 * prices in price units (1/10,000 $), counts in centi-contracts, money in micro-dollars, times in epoch ms.
 * Both the current fixed-point wire format (`*_dollars`, `*_fp`) and the legacy integer-cent format
 * (before 2026-03-12) are accepted; when both are present the fixed-point fields win. Values that reach a
 * book are range-checked: level, delta and trade prices strictly between $0 and $1, sizes within
 * ±`MAX_COUNT_CENTI`, trade sizes above 0.
 *
 * Every frame carries the envelope's `id` (command id), `sid` and `seq` as found on the wire (`undefined`
 * when absent), so a `SequenceTracker` can count every sequenced frame, acks included.
 */
interface FrameHeader {
  readonly id: number | undefined;
  readonly sid: number | undefined;
  readonly seq: number | undefined;
}

/** Reply to `subscribe`; `sid` comes from `msg.sid`. */
export interface SubscribedFrame extends FrameHeader {
  readonly type: 'subscribed';
  readonly sid: number;
  readonly channel: string;
}

/** Reply to `unsubscribe`: the subscription `sid` is closed. */
export interface UnsubscribedFrame extends FrameHeader {
  readonly type: 'unsubscribed';
}

/** One live subscription, as listed by `list_subscriptions`. */
export interface SubscriptionInfo {
  readonly channel: string;
  readonly sid: number;
}

/**
 * Acknowledgement. After `update_subscription` `msg` holds the full market list (`marketTickers`); after
 * `list_subscriptions` it is an array (`subscriptions`). Either may be absent (`skip_ticker_ack`).
 */
export interface OkFrame extends FrameHeader {
  readonly type: 'ok';
  readonly marketTickers: readonly string[] | undefined;
  readonly subscriptions: readonly SubscriptionInfo[] | undefined;
}

/** A command or subscription error (`code` 10 and 25 are terminal: resubscribe). */
export interface ErrorFrame extends FrameHeader {
  readonly type: 'error';
  readonly code: number;
  readonly message: string;
  readonly marketTicker: string | undefined;
  readonly marketTickers: readonly string[] | undefined;
}

/** Full book of one market: bids only, `[priceUnits, countCenti]`, in wire order (ascending). */
export interface OrderbookSnapshotFrame extends FrameHeader {
  readonly type: 'orderbook_snapshot';
  readonly ticker: string;
  readonly marketId: string | undefined;
  readonly yes: readonly Level[];
  readonly no: readonly Level[];
}

/** Signed size change at one bid level. `tsMs` is `ts_ms`, else the parsed RFC 3339 `ts`, else undefined. */
export interface OrderbookDeltaFrame extends FrameHeader {
  readonly type: 'orderbook_delta';
  readonly ticker: string;
  readonly marketId: string | undefined;
  readonly side: Side;
  readonly priceUnits: number;
  readonly deltaCenti: number;
  readonly tsMs: number | undefined;
  readonly clientOrderId: string | undefined;
}

/** A public trade; `takerSide` is the outcome the taker bought (`taker_outcome_side`, else `taker_side`). */
export interface TradeFrame extends FrameHeader {
  readonly type: 'trade';
  readonly tradeId: string | undefined;
  readonly ticker: string;
  readonly yesPriceUnits: number;
  readonly noPriceUnits: number;
  readonly countCenti: number;
  readonly takerSide: Side;
  readonly tsMs: number;
}

/** Market ticker summary (no seq on the wire). Fields absent on the wire are undefined. */
export interface TickerFrame extends FrameHeader {
  readonly type: 'ticker';
  readonly ticker: string;
  readonly marketId: string | undefined;
  readonly lastPriceUnits: number | undefined;
  readonly yesBidUnits: number | undefined;
  readonly yesAskUnits: number | undefined;
  readonly yesBidSizeCenti: number | undefined;
  readonly yesAskSizeCenti: number | undefined;
  readonly volumeCenti: number | undefined;
  readonly openInterestCenti: number | undefined;
  readonly tsMs: number;
}

/**
 * One of your fills. `side` is the outcome bought (`outcome_side`, else `purchased_side`, else the
 * deprecated `side`, which is the aggressor's side and inverts on maker fills).
 */
export interface FillFrame extends FrameHeader {
  readonly type: 'fill';
  readonly tradeId: string | undefined;
  readonly orderId: string;
  readonly clientOrderId: string | undefined;
  readonly ticker: string;
  readonly isTaker: boolean;
  readonly side: Side;
  readonly action: string | undefined;
  readonly bookSide: 'bid' | 'ask' | undefined;
  readonly yesPriceUnits: number;
  readonly countCenti: number;
  /** Total fee of this fill (`fee_cost`). */
  readonly feeMicros: number | undefined;
  readonly postPositionCenti: number | undefined;
  readonly tsMs: number;
}

/** Your position in one market (signed: + YES, − NO). Legacy frames used integer 1/10,000 $ money. */
export interface MarketPositionFrame extends FrameHeader {
  readonly type: 'market_position';
  readonly ticker: string;
  readonly positionCenti: number;
  readonly positionCostMicros: number;
  readonly realizedPnlMicros: number;
  readonly feesPaidMicros: number;
  readonly volumeCenti: number | undefined;
  readonly subaccount: number | undefined;
}

/** An update of one of your orders. */
export interface UserOrderFrame extends FrameHeader {
  readonly type: 'user_order';
  readonly orderId: string;
  readonly clientOrderId: string | undefined;
  readonly ticker: string;
  readonly status: string;
  /** Outcome side (`outcome_side`, else `side`). */
  readonly side: Side;
  readonly bookSide: 'bid' | 'ask' | undefined;
  readonly yesPriceUnits: number;
  readonly fillCountCenti: number;
  readonly remainingCountCenti: number;
  readonly initialCountCenti: number | undefined;
  readonly takerFeesMicros: number | undefined;
  readonly makerFeesMicros: number | undefined;
  readonly createdTsMs: number | undefined;
}

/** Market lifecycle (`created`, `determined`, `settled`, ...). Wire times are seconds; here ms. */
export interface MarketLifecycleFrame extends FrameHeader {
  readonly type: 'market_lifecycle_v2';
  readonly ticker: string;
  readonly eventType: string;
  readonly result: string | undefined;
  /** `settlement_value` (dollars) in price units. */
  readonly settlementValueUnits: number | undefined;
  readonly openTsMs: number | undefined;
  readonly closeTsMs: number | undefined;
  readonly determinationTsMs: number | undefined;
  readonly settledTsMs: number | undefined;
  readonly isDeactivated: boolean | undefined;
}

/** Any other message type: passed through untouched (`sid`/`seq` still read so sequencing stays exact). */
export interface UnknownFrame extends FrameHeader {
  readonly type: 'unknown';
  readonly wireType: string;
  readonly raw: unknown;
}

/** Any parsed Kalshi WebSocket v2 message, discriminated by `type`. */
export type KalshiFrame =
  | SubscribedFrame
  | UnsubscribedFrame
  | OkFrame
  | ErrorFrame
  | OrderbookSnapshotFrame
  | OrderbookDeltaFrame
  | TradeFrame
  | TickerFrame
  | FillFrame
  | MarketPositionFrame
  | UserOrderFrame
  | MarketLifecycleFrame
  | UnknownFrame;

/** The `type` tag of a {@link KalshiFrame}. */
export type KalshiFrameType = KalshiFrame['type'];

/** Result of {@link safeParseFrame}: the frame, or the `INVALID_FRAME` error it raised. */
export type SafeParseResult =
  | { readonly ok: true; readonly frame: KalshiFrame }
  | { readonly ok: false; readonly error: KflowError<'INVALID_FRAME'> };

type Json = Record<string, unknown>;

// ---- validation helpers ----
// Plain functions, no per-frame closures. A field's name is a constant key; the "msg." path is only
// built when an error is thrown, so valid frames allocate nothing but their result.

function fail(field: string, why: string, cause?: unknown): never {
  throw new KflowError('INVALID_FRAME', `Invalid frame field "${field}": ${why}`, {
    cause,
    details: { field },
  });
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function absent(v: unknown): v is undefined | null {
  return v === undefined || v === null;
}

function reqString(msg: Json, key: string): string {
  const v = msg[key];
  if (typeof v !== 'string') fail(`msg.${key}`, absent(v) ? 'missing' : 'expected a string');
  return v;
}

function optString(msg: Json, key: string): string | undefined {
  const v = msg[key];
  if (absent(v)) return undefined;
  if (typeof v !== 'string') fail(`msg.${key}`, 'expected a string');
  return v;
}

/** An optional integer read by name (header fields, list entries). */
function header(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(field, 'expected an integer');
  return v;
}

function optInt(msg: Json, key: string): number | undefined {
  const v = msg[key];
  if (absent(v)) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(`msg.${key}`, 'expected an integer');
  return v;
}

function reqInt(msg: Json, key: string): number {
  const v = optInt(msg, key);
  if (v === undefined) fail(`msg.${key}`, 'missing');
  return v;
}

function optBool(msg: Json, key: string): boolean | undefined {
  const v = msg[key];
  if (absent(v)) return undefined;
  if (typeof v !== 'boolean') fail(`msg.${key}`, 'expected a boolean');
  return v;
}

function wireNumber(v: unknown, key: string): WireNumber {
  if (typeof v !== 'string' && typeof v !== 'number') fail(`msg.${key}`, 'expected a decimal string or number');
  return v;
}

function reqSide(msg: Json, key: string): Side {
  const v = msg[key];
  if (v === 'yes' || v === 'no') return v;
  return fail(`msg.${key}`, absent(v) ? 'missing' : `expected "yes" or "no", got ${JSON.stringify(v)}`);
}

function optSide(msg: Json, key: string): Side | undefined {
  return absent(msg[key]) ? undefined : reqSide(msg, key);
}

function optBookSide(msg: Json, key: string): 'bid' | 'ask' | undefined {
  const v = msg[key];
  if (absent(v)) return undefined;
  if (v !== 'bid' && v !== 'ask') fail(`msg.${key}`, `expected "bid" or "ask", got ${JSON.stringify(v)}`);
  return v;
}

/** Parses one wire number into exact units (the `units.ts` parsers), naming `field` on error. */
type UnitParser = (value: WireNumber, field: string) => number;

/** How one quantity is written: the current fixed-point field and the legacy integer field (before 2026-03-12). */
interface WireFormat {
  readonly current: UnitParser;
  readonly legacy: UnitParser;
}

/** Prices: dollars (`"0.1700"`), legacy integer cents. */
const PRICE: WireFormat = { current: parsePriceUnits, legacy: centsToPriceUnits };
/** Counts: 2-decimal contracts (`"5.52"`), legacy integer contracts. */
const COUNT: WireFormat = { current: parseCountCenti, legacy: contractsToCountCenti };
/** Order money (fees): dollars, legacy integer cents. */
const MONEY_CENTS: WireFormat = { current: parseMicros, legacy: (v, field) => parseScaledInteger(v, 10_000, field) };
/** `market_position` money: dollars, legacy integer centi-cents (1/10,000 $). */
const MONEY_CENTI_CENTS: WireFormat = { current: parseMicros, legacy: (v, field) => parseScaledInteger(v, 100, field) };

/** `format` whose parsed units must lie in [min, max]; `range` says what the field allows. */
function within(format: WireFormat, min: number, max: number, range: string): WireFormat {
  const check =
    (parse: UnitParser): UnitParser =>
    (value, field) => {
      const units = parse(value, field);
      if (units < min || units > max) fail(`msg.${field}`, `${JSON.stringify(value)} is outside ${range}`);
      return units;
    };
  return { current: check(format.current), legacy: check(format.legacy) };
}

// Values that reach a book are range-checked here, not by the book, so a collector or replay counts and
// skips the frame instead of failing later (book totals, costs and `formatCount` need exact integers).
/** Level and trade prices: order prices, strictly between $0 and $1. */
const BOOK_PRICE = within(PRICE, 1, PRICE_ONE - 1, 'the order prices (0, 1) dollars');
/** Level sizes and deltas (signed): at most `MAX_COUNT_CENTI` either way. */
const BOOK_SIZE = within(COUNT, -MAX_COUNT_CENTI, MAX_COUNT_CENTI, `±${formatCount(MAX_COUNT_CENTI)} contracts`);
/** Trade sizes: something traded, at most `MAX_COUNT_CENTI`. */
const TRADE_SIZE = within(COUNT, 1, MAX_COUNT_CENTI, `(0, ${formatCount(MAX_COUNT_CENTI)}] contracts`);

/** An optional wire number in exact units; undefined when absent. */
function optNumber(msg: Json, key: string, parse: UnitParser): number | undefined {
  const v = msg[key];
  return absent(v) ? undefined : parse(wireNumber(v, key), key);
}

/** The current field `key`, else the legacy field `legacyKey`; undefined when both are absent. */
function optUnits(msg: Json, format: WireFormat, key: string, legacyKey: string): number | undefined {
  return optNumber(msg, key, format.current) ?? optNumber(msg, legacyKey, format.legacy);
}

function reqUnits(msg: Json, format: WireFormat, key: string, legacyKey: string): number {
  const v = optUnits(msg, format, key, legacyKey);
  if (v === undefined) fail(`msg.${key}`, `missing (nor legacy "${legacyKey}")`);
  return v;
}

/** `ts_ms` (epoch ms), else `ts` in epoch seconds (trade, ticker, fill). */
function reqTimeMs(msg: Json): number {
  const ms = optInt(msg, 'ts_ms');
  if (ms !== undefined) return ms;
  const s = optInt(msg, 'ts');
  if (s === undefined) fail('msg.ts_ms', 'missing (nor "ts")');
  return s * 1000;
}

function optSecondsAsMs(msg: Json, key: string): number | undefined {
  const s = optInt(msg, key);
  return s === undefined ? undefined : s * 1000;
}

/**
 * RFC 3339 → epoch ms, exact to the millisecond (sub-ms digits are truncated: `Date.parse` rejects
 * nanosecond fractions such as Kalshi's legacy `"2025-08-12T21:00:32.539836022Z"`).
 */
function rfc3339Ms(text: string, field: string): number {
  const dot = text.indexOf('.');
  let normalized = text;
  if (dot >= 0) {
    let end = dot + 1;
    while (end < text.length && text.charCodeAt(end) >= 48 && text.charCodeAt(end) <= 57) end++;
    const frac = text.slice(dot + 1, Math.min(end, dot + 4)).padEnd(3, '0');
    normalized = `${text.slice(0, dot)}.${frac}${text.slice(end)}`;
  }
  const ms = Date.parse(normalized);
  if (Number.isNaN(ms)) fail(field, `not an RFC 3339 time: ${JSON.stringify(text)}`);
  return ms;
}

function optStringArray(v: unknown, path: string): readonly string[] | undefined {
  if (absent(v)) return undefined;
  if (!Array.isArray(v)) fail(path, 'expected an array of strings');
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') fail(`${path}[${i}]`, 'expected a string');
  return v as string[];
}

function msgObject(o: Json): Json {
  const msg = o.msg;
  if (!isObject(msg)) fail('msg', msg === undefined ? 'missing' : 'expected an object');
  return msg;
}

// ---- per-type parsers ----

function parseLevels(v: unknown, key: string, legacyCents: boolean): Level[] {
  if (!Array.isArray(v)) fail(`msg.${key}`, 'expected an array of [price, count] levels');
  const out: Level[] = [];
  let i = 0;
  let part = 0;
  try {
    for (; i < v.length; i++) {
      const level: unknown = v[i];
      if (!Array.isArray(level) || level.length < 2) fail(`msg.${key}[${i}]`, 'expected a [price, count] pair');
      part = 0;
      const p = wireNumber(level[0], key);
      const priceUnits = legacyCents ? BOOK_PRICE.legacy(p, key) : BOOK_PRICE.current(p, key);
      part = 1;
      out.push([priceUnits, BOOK_SIZE.current(wireNumber(level[1], key), key)]);
    }
  } catch (error) {
    if (isKflowError(error, 'INVALID_FRAME') && error.details.field !== `msg.${key}`) throw error;
    fail(`msg.${key}[${i}][${part}]`, error instanceof Error ? error.message : String(error), error);
  }
  return out;
}

/** One snapshot side: `<side>_dollars_fp`, else legacy `<side>_dollars`, else legacy cents `<side>`. */
function snapshotSide(msg: Json, fpKey: string, dollarsKey: string, centsKey: string): Level[] | undefined {
  const fp = msg[fpKey];
  if (!absent(fp)) return parseLevels(fp, fpKey, false);
  const dollars = msg[dollarsKey];
  if (!absent(dollars)) return parseLevels(dollars, dollarsKey, false);
  const cents = msg[centsKey];
  if (!absent(cents)) return parseLevels(cents, centsKey, true);
  return undefined;
}

const EMPTY_LEVELS: readonly Level[] = Object.freeze([]);

function parseSnapshot(o: Json, id: number | undefined, sid: number | undefined, seq: number | undefined): OrderbookSnapshotFrame {
  const msg = msgObject(o);
  const ticker = reqString(msg, 'market_ticker');
  const yes = snapshotSide(msg, 'yes_dollars_fp', 'yes_dollars', 'yes');
  const no = snapshotSide(msg, 'no_dollars_fp', 'no_dollars', 'no');
  // An absent side is empty, but a snapshot without any book key is malformed, not an empty book.
  if (yes === undefined && no === undefined) fail('msg.yes_dollars_fp', 'snapshot has no yes/no levels in any known format');
  return {
    type: 'orderbook_snapshot',
    id,
    sid,
    seq,
    ticker,
    marketId: optString(msg, 'market_id'),
    yes: yes ?? EMPTY_LEVELS,
    no: no ?? EMPTY_LEVELS,
  };
}

function parseDelta(o: Json, id: number | undefined, sid: number | undefined, seq: number | undefined): OrderbookDeltaFrame {
  const msg = msgObject(o);
  // The hot path of replay and the live feed: named property reads (monomorphic on Kalshi's fixed key
  // order) for the current format, the generic helpers only for legacy or unusual values.
  const ticker = msg.market_ticker;
  const side = msg.side;
  const p = msg.price_dollars;
  const d = msg.delta_fp;
  const t = msg.ts_ms;
  const marketId = msg.market_id;
  const clientOrderId = msg.client_order_id;
  let tsMs: number | undefined;
  if (typeof t === 'number' && Number.isSafeInteger(t)) tsMs = t;
  else {
    tsMs = optInt(msg, 'ts_ms');
    if (tsMs === undefined) {
      const ts = optString(msg, 'ts');
      if (ts !== undefined) tsMs = rfc3339Ms(ts, 'msg.ts');
    }
  }
  return {
    type: 'orderbook_delta',
    id,
    sid,
    seq,
    ticker: typeof ticker === 'string' ? ticker : reqString(msg, 'market_ticker'),
    marketId: typeof marketId === 'string' ? marketId : optString(msg, 'market_id'),
    side: side === 'yes' || side === 'no' ? side : reqSide(msg, 'side'),
    priceUnits: typeof p === 'string' ? BOOK_PRICE.current(p, 'price_dollars') : reqUnits(msg, BOOK_PRICE, 'price_dollars', 'price'),
    deltaCenti: typeof d === 'string' ? BOOK_SIZE.current(d, 'delta_fp') : reqUnits(msg, BOOK_SIZE, 'delta_fp', 'delta'),
    tsMs,
    clientOrderId: clientOrderId === undefined ? undefined : optString(msg, 'client_order_id'),
  };
}

function parseTrade(o: Json, id: number | undefined, sid: number | undefined, seq: number | undefined): TradeFrame {
  const msg = msgObject(o);
  const yesPriceUnits = reqUnits(msg, BOOK_PRICE, 'yes_price_dollars', 'yes_price');
  return {
    type: 'trade',
    id,
    sid,
    seq,
    tradeId: optString(msg, 'trade_id'),
    ticker: reqString(msg, 'market_ticker'),
    yesPriceUnits,
    noPriceUnits: optUnits(msg, BOOK_PRICE, 'no_price_dollars', 'no_price') ?? PRICE_ONE - yesPriceUnits,
    countCenti: reqUnits(msg, TRADE_SIZE, 'count_fp', 'count'),
    takerSide: optSide(msg, 'taker_outcome_side') ?? reqSide(msg, 'taker_side'),
    tsMs: reqTimeMs(msg),
  };
}

function parseTicker(o: Json, id: number | undefined, sid: number | undefined, seq: number | undefined): TickerFrame {
  const msg = msgObject(o);
  return {
    type: 'ticker',
    id,
    sid,
    seq,
    ticker: reqString(msg, 'market_ticker'),
    marketId: optString(msg, 'market_id'),
    lastPriceUnits: optUnits(msg, PRICE, 'price_dollars', 'price'),
    yesBidUnits: optUnits(msg, PRICE, 'yes_bid_dollars', 'yes_bid'),
    yesAskUnits: optUnits(msg, PRICE, 'yes_ask_dollars', 'yes_ask'),
    yesBidSizeCenti: optUnits(msg, COUNT, 'yes_bid_size_fp', 'yes_bid_size'),
    yesAskSizeCenti: optUnits(msg, COUNT, 'yes_ask_size_fp', 'yes_ask_size'),
    volumeCenti: optUnits(msg, COUNT, 'volume_fp', 'volume'),
    openInterestCenti: optUnits(msg, COUNT, 'open_interest_fp', 'open_interest'),
    tsMs: reqTimeMs(msg),
  };
}

function parseFill(o: Json, id: number | undefined, sid: number | undefined, seq: number | undefined): FillFrame {
  const msg = msgObject(o);
  return {
    type: 'fill',
    id,
    sid,
    seq,
    tradeId: optString(msg, 'trade_id'),
    orderId: reqString(msg, 'order_id'),
    clientOrderId: optString(msg, 'client_order_id'),
    ticker: reqString(msg, 'market_ticker'),
    isTaker: optBool(msg, 'is_taker') ?? fail('msg.is_taker', 'missing'),
    side: optSide(msg, 'outcome_side') ?? optSide(msg, 'purchased_side') ?? reqSide(msg, 'side'),
    action: optString(msg, 'action'),
    bookSide: optBookSide(msg, 'book_side'),
    yesPriceUnits: reqUnits(msg, PRICE, 'yes_price_dollars', 'yes_price'),
    countCenti: reqUnits(msg, COUNT, 'count_fp', 'count'),
    // fee_cost is always fixed-point dollars (6 decimals); there is no legacy integer twin.
    feeMicros: optNumber(msg, 'fee_cost', parseMicros),
    postPositionCenti: optUnits(msg, COUNT, 'post_position_fp', 'post_position'),
    tsMs: reqTimeMs(msg),
  };
}

function parseMarketPosition(o: Json, id: number | undefined, sid: number | undefined, seq: number | undefined): MarketPositionFrame {
  const msg = msgObject(o);
  return {
    type: 'market_position',
    id,
    sid,
    seq,
    ticker: reqString(msg, 'market_ticker'),
    positionCenti: reqUnits(msg, COUNT, 'position_fp', 'position'),
    positionCostMicros: reqUnits(msg, MONEY_CENTI_CENTS, 'position_cost_dollars', 'position_cost'),
    realizedPnlMicros: reqUnits(msg, MONEY_CENTI_CENTS, 'realized_pnl_dollars', 'realized_pnl'),
    feesPaidMicros: reqUnits(msg, MONEY_CENTI_CENTS, 'fees_paid_dollars', 'fees_paid'),
    volumeCenti: optUnits(msg, COUNT, 'volume_fp', 'volume'),
    subaccount: optInt(msg, 'subaccount'),
  };
}

function parseUserOrder(o: Json, id: number | undefined, sid: number | undefined, seq: number | undefined): UserOrderFrame {
  const msg = msgObject(o);
  return {
    type: 'user_order',
    id,
    sid,
    seq,
    orderId: reqString(msg, 'order_id'),
    clientOrderId: optString(msg, 'client_order_id'),
    ticker: optString(msg, 'market_ticker') ?? reqString(msg, 'ticker'),
    status: reqString(msg, 'status'),
    side: optSide(msg, 'outcome_side') ?? reqSide(msg, 'side'),
    bookSide: optBookSide(msg, 'book_side'),
    yesPriceUnits: reqUnits(msg, PRICE, 'yes_price_dollars', 'yes_price'),
    fillCountCenti: reqUnits(msg, COUNT, 'fill_count_fp', 'fill_count'),
    remainingCountCenti: reqUnits(msg, COUNT, 'remaining_count_fp', 'remaining_count'),
    initialCountCenti: optUnits(msg, COUNT, 'initial_count_fp', 'initial_count'),
    takerFeesMicros: optUnits(msg, MONEY_CENTS, 'taker_fees_dollars', 'taker_fees'),
    makerFeesMicros: optUnits(msg, MONEY_CENTS, 'maker_fees_dollars', 'maker_fees'),
    createdTsMs: optInt(msg, 'created_ts_ms'),
  };
}

function parseLifecycle(o: Json, id: number | undefined, sid: number | undefined, seq: number | undefined): MarketLifecycleFrame {
  const msg = msgObject(o);
  return {
    type: 'market_lifecycle_v2',
    id,
    sid,
    seq,
    ticker: reqString(msg, 'market_ticker'),
    eventType: reqString(msg, 'event_type'),
    result: optString(msg, 'result'),
    settlementValueUnits: optNumber(msg, 'settlement_value', parsePriceUnits),
    openTsMs: optSecondsAsMs(msg, 'open_ts'),
    closeTsMs: optSecondsAsMs(msg, 'close_ts'),
    determinationTsMs: optSecondsAsMs(msg, 'determination_ts'),
    settledTsMs: optSecondsAsMs(msg, 'settled_ts'),
    isDeactivated: optBool(msg, 'is_deactivated'),
  };
}

function parseSubscriptions(v: unknown[]): SubscriptionInfo[] {
  const out: SubscriptionInfo[] = [];
  for (let i = 0; i < v.length; i++) {
    const s = v[i];
    if (!isObject(s)) fail(`msg[${i}]`, 'expected a {channel, sid} object');
    const channel = s.channel;
    if (typeof channel !== 'string') fail(`msg[${i}].channel`, 'expected a string');
    const sid = header(s.sid, `msg[${i}].sid`);
    if (sid === undefined) fail(`msg[${i}].sid`, 'missing');
    out.push({ channel, sid });
  }
  return out;
}

function parseObject(o: Json): KalshiFrame {
  const type = o.type;
  if (typeof type !== 'string') fail('type', type === undefined ? 'missing' : 'expected a string');
  // Named reads (not o[key]) keep these property loads monomorphic per frame shape.
  const id = header(o.id, 'id');
  const sid = header(o.sid, 'sid');
  const seq = header(o.seq, 'seq');
  switch (type) {
    case 'orderbook_delta':
      return parseDelta(o, id, sid, seq);
    case 'orderbook_snapshot':
      return parseSnapshot(o, id, sid, seq);
    case 'trade':
      return parseTrade(o, id, sid, seq);
    case 'ticker':
      return parseTicker(o, id, sid, seq);
    case 'fill':
      return parseFill(o, id, sid, seq);
    case 'market_position':
      return parseMarketPosition(o, id, sid, seq);
    case 'user_order':
      return parseUserOrder(o, id, sid, seq);
    case 'market_lifecycle_v2':
      return parseLifecycle(o, id, sid, seq);
    case 'subscribed': {
      const msg = msgObject(o);
      return { type, id, sid: sid ?? reqInt(msg, 'sid'), seq, channel: reqString(msg, 'channel') };
    }
    case 'unsubscribed':
      return { type, id, sid, seq };
    case 'ok': {
      const msg = o.msg;
      if (Array.isArray(msg)) return { type, id, sid, seq, marketTickers: undefined, subscriptions: parseSubscriptions(msg) };
      const marketTickers = isObject(msg) ? optStringArray(msg.market_tickers, 'msg.market_tickers') : undefined;
      return { type, id, sid, seq, marketTickers, subscriptions: undefined };
    }
    case 'error': {
      const msg = msgObject(o);
      return {
        type,
        id,
        sid,
        seq,
        code: reqInt(msg, 'code'),
        message: optString(msg, 'msg') ?? '',
        marketTicker: optString(msg, 'market_ticker'),
        marketTickers: optStringArray(msg.market_tickers, 'msg.market_tickers'),
      };
    }
    default:
      return { type: 'unknown', wireType: type, id, sid, seq, raw: o };
  }
}

/**
 * Parses one Kalshi WebSocket message (a JSON string or an already-parsed value) into a typed frame in
 * exact units. Unknown message types come back as `{ type: 'unknown', raw }`; malformed input throws
 * `KflowError<'INVALID_FRAME'>` naming the offending field (the underlying error is chained as `cause`).
 *
 * @example
 * const f = parseFrame('{"type":"orderbook_delta","sid":1,"seq":3,"msg":{"market_ticker":"T","market_id":"m",' +
 *   '"price_dollars":"0.9600","delta_fp":"-54.00","side":"yes","ts_ms":1669149841000}}');
 * if (f.type === 'orderbook_delta') f.priceUnits; // 9600 (f.deltaCenti === -5400)
 */
export function parseFrame(input: unknown): KalshiFrame {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new KflowError('INVALID_FRAME', `Invalid frame: not JSON (${(error as Error).message})`, {
        cause: error,
        details: { field: '' },
      });
    }
  }
  if (!isObject(value)) fail('', 'expected a JSON object');
  try {
    return parseObject(value);
  } catch (error) {
    if (isKflowError(error, 'INVALID_NUMBER')) {
      const field = `msg.${String(error.details.field)}`;
      throw new KflowError('INVALID_FRAME', `Invalid frame field "${field}": ${error.message}`, {
        cause: error,
        details: { field },
      });
    }
    throw error;
  }
}

/**
 * Like `parseFrame`, but returns the error instead of throwing (for loops that count and skip bad lines).
 *
 * @example
 * const r = safeParseFrame(line); if (!r.ok) errors++; else handle(r.frame);
 */
export function safeParseFrame(input: unknown): SafeParseResult {
  try {
    return { ok: true, frame: parseFrame(input) };
  } catch (error) {
    if (isKflowError(error, 'INVALID_FRAME')) return { ok: false, error };
    throw error;
  }
}

