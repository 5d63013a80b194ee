import {
  type BookView,
  type Clock,
  KflowError,
  OrderBook,
  PRICE_ONE,
  type Rng,
  type RngState,
  type SettlementResult,
  type SharedOrderbookState,
  type BookEvent,
  type ApplyResult,
  centsToPriceUnits,
  contractsToCountCenti,
  formatCount,
  formatMicros,
  formatPrice,
  isKflowError,
  parseCountCenti,
  parsePriceUnits,
  uuidFromRng,
} from '@kflow/orderbook';
import type { PositionFeaturesInput } from '@kflow/features';
import type { PaperErrorCode } from './errors';
import type { FeeSchedule, MemberPrecision } from './feeModel';
import type {
  AmendOrderRequest,
  AmendOrderResponse,
  CancelOrderResponse,
  CreateOrderV1Request,
  CreateOrderV2Request,
  CreateOrderV2Response,
  DecreaseOrderRequest,
  DecreaseOrderResponse,
  FillMessage,
  KalshiBalance,
  KalshiFill,
  KalshiMarketPosition,
  KalshiOrder,
  KalshiOrderStatus,
  KalshiSettlement,
  MarketPositionMessage,
  PaperErrorCodeWire,
  PaperResponse,
  UserEvent,
  UserOrderMessage,
} from './kalshiTypes';
import { type LatencyModel, MatchingEngine, type OrderActionResult, type QueueModel, replayEvent } from './matchingEngine';
import type { OrderRejectReason, OrderRequest, SimOrder, TimeInForce } from './orders';
import { type PositionFeaturesBuffer, writePositionFeatures } from './positionFeatures';
import { type FillOutcome, type MarketPositionView, PositionTracker } from './positionTracker';
import type { PriceGrid } from './priceGrid';

/** Per-market settings (defaults: the client's `defaultFees`, whole-cent grid). */
export interface PaperMarketConfig {
  readonly fees?: FeeSchedule;
  readonly grid?: PriceGrid;
  /** For settlement records; default: the ticker up to its last `-`. */
  readonly eventTicker?: string;
}

/** Options of {@link createPaperClient}. */
export interface PaperClientOptions {
  /** Must be `'paper'`: anything else (notably `'live'`) throws `LIVE_MODE_FORBIDDEN`. */
  readonly mode: string;
  /** The live books; resting orders fill as they move. */
  readonly state: SharedOrderbookState;
  readonly clock: Clock;
  /** Order and trade ids (and latency jitter) come from here. */
  readonly rng: Rng;
  /** Starting cash in micro-dollars (before any `marketCashMicros` deposits). */
  readonly cashMicros: number;
  /**
   * Gives every market its own account of this much cash, deposited into the client's balance when the
   * client first follows the market: the market's orders must fit its own account too, and its position
   * features report its own cash (`MatchingEngine`'s `marketCashMicros`). The live actor uses this so each
   * market trades exactly as in a training episode.
   */
  readonly marketCashMicros?: number;
  /** Follow only these markets (default: every market of the shared state). */
  readonly tickers?: readonly string[];
  /** Default `direct`. */
  readonly precision?: MemberPrecision;
  readonly markets?: Readonly<Record<string, PaperMarketConfig>>;
  /** Fees of markets without a config (default `quadratic`, M = 1: fail closed). */
  readonly defaultFees?: FeeSchedule;
  readonly queueModel?: QueueModel;
  readonly latency?: LatencyModel;
  readonly userId?: string;
}

/** Plain-data copy of everything the client holds (for tests and persistence). */
export interface PaperClientState {
  readonly tracker: ReturnType<PositionTracker['state']>;
  readonly orders: readonly KalshiOrder[];
  readonly fills: readonly KalshiFill[];
  readonly settlements: readonly KalshiSettlement[];
  readonly rng: RngState;
}

interface OrderMeta {
  readonly orderId: string;
  clientOrderId: string;
  readonly ticker: string;
  readonly legacySide: 'yes' | 'no';
  readonly legacyAction: 'buy' | 'sell';
  readonly createdMs: number;
  sim: SimOrder | undefined;
}

interface Market {
  /** Matches against `book`, this client's copy of the live book. */
  readonly engine: MatchingEngine;
  /** The live book (written by the state's owner). */
  readonly live: BookView;
  /**
   * The live book as of the last trusted event: order actions due at an event meet the book as it was
   * before it (as in a replay), then the event is applied to it.
   */
  readonly book: OrderBook;
  readonly eventTicker: string;
}

type ParsedOrder = { readonly request: OrderRequest; readonly legacySide: 'yes' | 'no'; readonly legacyAction: 'buy' | 'sell' };

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function error(status: 400 | 404 | 409, code: PaperErrorCodeWire, message: string, details?: string): PaperResponse<never> {
  return { ok: false, status, error: details === undefined ? { code, message, service: 'exchange' } : { code, message, details, service: 'exchange' } };
}

function ok<T>(body: T, status: 200 | 201 = 200): PaperResponse<T> {
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

function refused(result: OrderActionResult & { readonly ok: false }): PaperResponse<never> {
  const [status, code] = REJECT_CODES[result.reason];
  return error(status, code, result.message);
}

const TIME_IN_FORCE: readonly TimeInForce[] = ['good_till_canceled', 'immediate_or_cancel', 'fill_or_kill'];

/** Runs a parser; a KflowError (bad number) becomes a 400 with `code`. */
function parseOr<T>(code: PaperErrorCodeWire, parse: () => T): T | PaperResponse<never> {
  try {
    return parse();
  } catch (e) {
    if (isKflowError(e)) return error(400, code, e.message);
    throw e;
  }
}

function isResponse(value: unknown): value is PaperResponse<never> {
  return typeof value === 'object' && value !== null && 'ok' in value && (value as { ok: unknown }).ok === false;
}

/**
 * A Kalshi-compatible paper trading account over a live `SharedOrderbookState`. It accepts Kalshi's V2
 * order requests (and V1 yes/no buy/sell bodies), answers with Kalshi's JSON shapes, fills orders with the
 * same {@link MatchingEngine} and {@link PositionTracker} the training env uses, and emits Kalshi-shaped
 * `fill`, `user_order` and `market_position` events. Refused requests return a Kalshi error body and change
 * nothing.
 *
 * Book notifications say only which book changed, so the engine of each market matches against the
 * client's copy of the live book, and each change reaches it as level deltas (`onBookChange`) after the
 * order actions that were due before it, exactly as in a replay. Public trades are not in the shared
 * state: pass them to `onTrade` if you subscribe to the trade channel.
 *
 * @example
 * const client = createPaperClient({ mode: 'paper', state, clock: systemClock, rng: createRng(1), cashMicros: 100_000_000 });
 * client.subscribe((event) => console.log(event.type, event.msg));
 * const r = client.createOrder({ ticker, side: 'bid', price: '0.4500', count: '10.00', time_in_force: 'good_till_canceled' });
 */
export class PaperClient {
  readonly tracker: PositionTracker;
  private readonly state: SharedOrderbookState;
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly options: PaperClientOptions;
  private readonly userId: string;
  private readonly markets = new Map<string, Market>();
  /** Markets whose engine has order actions waiting for their latency (the only ones `advance` visits). */
  private readonly waiting = new Set<Market>();
  private readonly follow: ReadonlySet<string> | undefined;
  private readonly orders = new Map<string, OrderMeta>();
  private readonly metaOfSim = new Map<SimOrder, OrderMeta>();
  /** The order being created while its engine may already report fills for it. */
  private creating: OrderMeta | undefined;
  private readonly fills: KalshiFill[] = [];
  private readonly settlements: KalshiSettlement[] = [];
  private listeners: readonly { readonly sid: number; readonly listener: (event: UserEvent) => void }[] = [];
  private nextSid = 1;
  private readonly unsubscribeState: () => void;
  /** Errors thrown by event listeners (caught). */
  listenerErrors = 0;

  constructor(options: PaperClientOptions) {
    if (options.mode !== 'paper') {
      throw new KflowError<PaperErrorCode>(
        'LIVE_MODE_FORBIDDEN',
        `The paper client runs only in mode 'paper' (got ${JSON.stringify(options.mode)}); live trading is not supported`,
      );
    }
    this.options = options;
    this.state = options.state;
    this.clock = options.clock;
    this.rng = options.rng;
    this.userId = options.userId ?? 'paper-user';
    this.follow = options.tickers === undefined ? undefined : new Set(options.tickers);
    this.tracker = new PositionTracker({ cashMicros: options.cashMicros, precision: options.precision ?? 'direct' });
    for (const ticker of this.state.markets()) this.market(ticker);
    this.unsubscribeState = this.state.subscribeEvents({ after: (event, result) => this.onEvent(event, result) });
  }

  /** Stops following the shared state. */
  close(): void {
    this.unsubscribeState();
  }

  /** Subscribes to `fill`, `user_order` and `market_position` events; returns the unsubscribe function. */
  subscribe(listener: (event: UserEvent) => void): () => void {
    const entry = { sid: this.nextSid++, listener };
    this.listeners = [...this.listeners, entry];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== entry);
    };
  }

  /** `POST /portfolio/events/orders` (V2 body) or a V1 body (with `action`), answered in the matching shape. */
  createOrder(body: CreateOrderV2Request): PaperResponse<CreateOrderV2Response>;
  createOrder(body: CreateOrderV1Request): PaperResponse<{ readonly order: KalshiOrder }>;
  createOrder(body: unknown): PaperResponse<CreateOrderV2Response | { readonly order: KalshiOrder }>;
  createOrder(body: unknown): PaperResponse<CreateOrderV2Response | { readonly order: KalshiOrder }> {
    const now = this.advance();
    if (typeof body !== 'object' || body === null) return error(400, 'invalid_parameters', 'Request body must be an object');
    const b = body as Record<string, unknown>;
    if (typeof b.ticker !== 'string') return error(400, 'invalid_parameters', 'ticker is required');
    const v1 = 'action' in b;
    const parsed = v1 ? this.parseV1(b) : this.parseV2(b);
    if (isResponse(parsed)) return parsed;
    const market = this.markets.get(b.ticker);
    if (!market) return error(404, 'market_not_found', `No market ${b.ticker}`);
    const clientOrderId = typeof b.client_order_id === 'string' ? b.client_order_id : undefined;
    if (clientOrderId !== undefined && this.findByClientId(clientOrderId)) {
      return error(409, 'order_already_exists', `client_order_id ${clientOrderId} is already in use`);
    }
    const invalid = market.engine.validate(parsed.request);
    if (invalid) return refused(invalid);
    // Everything is valid: from here on state changes (ids are drawn, the order is matched).
    const orderId = uuidFromRng(this.rng);
    const meta: OrderMeta = {
      orderId,
      clientOrderId: clientOrderId ?? uuidFromRng(this.rng),
      ticker: b.ticker,
      legacySide: parsed.legacySide,
      legacyAction: parsed.legacyAction,
      createdMs: now,
      sim: undefined,
    };
    this.orders.set(orderId, meta);
    this.creating = meta;
    const result = market.engine.submit({ ...parsed.request, clientOrderId: meta.clientOrderId }, now);
    this.creating = undefined;
    this.watch(market);
    if (!result.ok) throw new KflowError<PaperErrorCode>('INVALID_ARGUMENT', `Validated order refused: ${result.message}`);
    this.bind(meta, result.order);
    if (v1) return ok({ order: this.kalshiOrder(meta) }, 201);
    const o = result.order;
    const response: CreateOrderV2Response = {
      order_id: orderId,
      client_order_id: meta.clientOrderId,
      fill_count: formatCount(o.filledCenti),
      remaining_count: formatCount(o.status === 'resting' || o.status === 'pending' ? o.remainingCenti : 0),
      ts_ms: now,
    };
    if (o.filledCenti === 0) return ok(response, 201);
    const yesCost = o.side === 'bid' ? o.takerFillCostMicros + o.makerFillCostMicros : o.filledCenti * PRICE_ONE - o.takerFillCostMicros - o.makerFillCostMicros;
    return ok(
      {
        ...response,
        average_fill_price: perContract(yesCost, o.filledCenti),
        average_fee_paid: perContract(o.takerFeesMicros + o.makerFeesMicros, o.filledCenti),
      },
      201,
    );
  }

  /** `DELETE /portfolio/events/orders/{order_id}`. */
  cancelOrder(orderId: string): PaperResponse<CancelOrderResponse> {
    const now = this.advance();
    const found = this.openOrder(orderId);
    if (isResponse(found)) return found;
    const remaining = found.sim.remainingCenti;
    const result = found.market.engine.cancel(found.sim.id, now);
    this.watch(found.market);
    if (!result.ok) return refused(result);
    return ok({ order_id: orderId, client_order_id: found.meta.clientOrderId, reduced_by: formatCount(remaining), ts_ms: now });
  }

  /** `POST /portfolio/events/orders/{order_id}/amend` (`count` = filled + desired remaining). */
  amendOrder(orderId: string, body: AmendOrderRequest): PaperResponse<AmendOrderResponse> {
    const now = this.advance();
    const found = this.openOrder(orderId);
    if (isResponse(found)) return found;
    const { meta, sim, market } = found;
    if (body.ticker !== meta.ticker || body.side !== sim.side) {
      return error(400, 'invalid_order', 'ticker and side must match the order');
    }
    const price = parseOr('invalid_price', () => parsePriceUnits(body.price, 'price'));
    if (isResponse(price)) return price;
    const count = parseOr('invalid_order', () => parseCountCenti(body.count, 'count'));
    if (isResponse(count)) return count;
    const updated = body.updated_client_order_id;
    if (updated !== undefined && updated !== meta.clientOrderId && this.findByClientId(updated)) {
      return error(409, 'order_already_exists', `client_order_id ${updated} is already in use`);
    }
    const result = market.engine.amend(sim.id, price, count, now);
    this.watch(market);
    if (!result.ok) return refused(result);
    if (updated !== undefined) meta.clientOrderId = updated;
    return ok({
      order_id: orderId,
      remaining_count: formatCount(this.remaining(result.order)),
      fill_count: formatCount(result.order.filledCenti),
      ts_ms: now,
    });
  }

  /** `POST /portfolio/events/orders/{order_id}/decrease` with exactly one of `reduce_by` / `reduce_to`. */
  decreaseOrder(orderId: string, body: DecreaseOrderRequest): PaperResponse<DecreaseOrderResponse> {
    const now = this.advance();
    const found = this.openOrder(orderId);
    if (isResponse(found)) return found;
    const { sim, market } = found;
    if ((body.reduce_by === undefined) === (body.reduce_to === undefined)) {
      return error(400, 'invalid_parameters', 'Give exactly one of reduce_by and reduce_to');
    }
    const amount = parseOr('invalid_order', () => parseCountCenti((body.reduce_by ?? body.reduce_to)!, 'reduce_by'));
    if (isResponse(amount)) return amount;
    const target = body.reduce_by !== undefined ? sim.remainingCenti - amount : amount;
    if (amount < 0 || target < 0 || target > sim.remainingCenti) {
      return error(400, 'invalid_order', `Cannot decrease ${formatCount(sim.remainingCenti)} to ${formatCount(target)}`);
    }
    const result = market.engine.decrease(sim.id, target, now);
    this.watch(market);
    if (!result.ok) return refused(result);
    return ok({ order_id: orderId, remaining_count: formatCount(this.remaining(result.order)), ts_ms: now });
  }

  /** `GET /portfolio/orders`, newest first. */
  getOrders(query: { readonly ticker?: string; readonly status?: KalshiOrderStatus } = {}): PaperResponse<{
    readonly orders: KalshiOrder[];
    readonly cursor: string;
  }> {
    this.advance();
    const orders = [...this.orders.values()]
      .reverse()
      .map((m) => this.kalshiOrder(m))
      .filter((o) => (query.ticker === undefined || o.ticker === query.ticker) && (query.status === undefined || o.status === query.status));
    return ok({ orders, cursor: '' });
  }

  /** `GET /portfolio/orders/{order_id}`. */
  getOrder(orderId: string): PaperResponse<{ readonly order: KalshiOrder }> {
    this.advance();
    const meta = this.orders.get(orderId);
    return meta ? ok({ order: this.kalshiOrder(meta) }) : error(404, 'not_found', `No order ${orderId}`);
  }

  /** `GET /portfolio/positions`: markets traded and not settled (or settled, or all). */
  getPositions(
    query: { readonly ticker?: string; readonly settlement_status?: 'unsettled' | 'settled' | 'all' } = {},
  ): PaperResponse<{ readonly market_positions: KalshiMarketPosition[]; readonly event_positions: never[]; readonly cursor: string }> {
    this.advance();
    const status = query.settlement_status ?? 'unsettled';
    const out: KalshiMarketPosition[] = [];
    for (const [ticker, market] of this.markets) {
      const p = this.tracker.market(market.engine.marketIndex);
      if (query.ticker !== undefined && ticker !== query.ticker) continue;
      if (p.volumeCenti === 0 && p.positionCenti === 0) continue;
      if ((status === 'unsettled' && p.settlement) || (status === 'settled' && !p.settlement)) continue;
      out.push({
        ticker,
        position_fp: formatCount(p.positionCenti),
        market_exposure_dollars: formatMicros(p.costMicros),
        realized_pnl_dollars: formatMicros(p.realizedPnlMicros),
        fees_paid_dollars: formatMicros(p.feesPaidMicros),
        total_traded_dollars: formatMicros(p.totalTradedMicros),
        resting_orders_count: market.engine.restingCount,
        last_updated_ts: iso(p.lastUpdatedMs),
      });
    }
    return ok({ market_positions: out, event_positions: [], cursor: '' });
  }

  /** `GET /portfolio/fills`, newest first. */
  getFills(query: { readonly ticker?: string; readonly order_id?: string } = {}): PaperResponse<{
    readonly fills: KalshiFill[];
    readonly cursor: string;
  }> {
    this.advance();
    const fills = this.fills
      .filter((f) => (query.ticker === undefined || f.ticker === query.ticker) && (query.order_id === undefined || f.order_id === query.order_id))
      .reverse();
    return ok({ fills, cursor: '' });
  }

  /** `GET /portfolio/balance`. */
  getBalance(): PaperResponse<KalshiBalance> {
    const now = this.advance();
    let positions = 0;
    for (const m of this.markets.values()) positions += this.tracker.markMicros(m.engine.marketIndex, m.engine.book, 'mid');
    const available = this.tracker.availableMicros;
    return ok({
      balance: Math.floor(available / 10_000),
      portfolio_value: Math.floor(positions / 10_000),
      balance_dollars: formatMicros(available),
      updated_ts: Math.floor(now / 1000),
    });
  }

  /** `GET /portfolio/settlements`, newest first. */
  getSettlements(): PaperResponse<{ readonly settlements: KalshiSettlement[]; readonly cursor: string }> {
    return ok({ settlements: [...this.settlements].reverse(), cursor: '' });
  }

  /**
   * Settles a market (from `market_lifecycle_v2` or market data): cancels its open orders and pays out.
   * `settlementValue` is the YES payout in dollars, needed for `scalar`.
   */
  settle(ticker: string, result: SettlementResult, settlementValue?: string): PaperResponse<KalshiSettlement> {
    const now = this.advance();
    const market = this.markets.get(ticker);
    if (!market) return error(404, 'market_not_found', `No market ${ticker}`);
    const p = this.tracker.market(market.engine.marketIndex);
    if (p.settlement) return error(400, 'market_closed', `${ticker} has already settled`);
    const payout = parseOr('invalid_parameters', () =>
      result === 'scalar' ? parsePriceUnits(settlementValue ?? '', 'settlement_value') : result === 'yes' ? PRICE_ONE : 0,
    );
    if (isResponse(payout)) return payout;
    const rec = market.engine.settle(result, payout, now);
    const yes = rec.positionCenti > 0;
    const settlement: KalshiSettlement = {
      ticker,
      event_ticker: market.eventTicker,
      market_result: result,
      yes_count_fp: formatCount(yes ? rec.positionCenti : 0),
      yes_total_cost_dollars: formatMicros(yes ? rec.costMicros : 0),
      no_count_fp: formatCount(yes ? 0 : -rec.positionCenti),
      no_total_cost_dollars: formatMicros(yes ? 0 : rec.costMicros),
      revenue: Math.floor(rec.revenueMicros / 10_000),
      settled_time: iso(now),
      fee_cost: formatMicros(rec.feesPaidMicros),
      value: Math.floor(rec.yesPayoutUnits / 100),
    };
    this.settlements.push(settlement);
    this.emitPosition(market.engine.marketIndex, ticker);
    return ok(settlement);
  }

  /**
   * The account numbers of one market for `buildObservation` (what the live actor feeds its policy),
   * computed by the same {@link writePositionFeatures} as the training env. Throws `UNKNOWN_MARKET`.
   *
   * @example
   * buildObservation(obs, state.book(ticker)!, temporal, client.writePositionFeatures(ticker, account), nowMs);
   */
  writePositionFeatures(ticker: string, out: PositionFeaturesBuffer): PositionFeaturesInput {
    const market = this.markets.get(ticker);
    if (!market) throw new KflowError<PaperErrorCode>('UNKNOWN_MARKET', `No market ${ticker}`);
    return writePositionFeatures(market.engine, out);
  }

  /** Open orders (pending or resting) of one market; 0 for a market the client does not follow. */
  openOrderCount(ticker: string): number {
    return this.markets.get(ticker)?.engine.openOrderCount ?? 0;
  }

  /** Ids of one market's open orders, oldest first (the order `MatchingEngine.cancelAll` cancels in). */
  openOrderIds(ticker: string): string[] {
    const market = this.markets.get(ticker);
    if (!market) return [];
    return market.engine.openOrders().map((o) => this.metaOf(o).orderId);
  }

  /** One market's position, cost, realized PnL and fees (Kalshi convention), or undefined if not followed. */
  marketPosition(ticker: string): MarketPositionView | undefined {
    const market = this.markets.get(ticker);
    return market && this.tracker.market(market.engine.marketIndex);
  }

  /** Carries out order actions whose latency has elapsed (also done on every call and book update). */
  advance(): number {
    const now = this.clock.now();
    for (const m of this.waiting) {
      m.engine.advanceTo(now);
      if (!m.engine.hasPendingActions) this.waiting.delete(m);
    }
    return now;
  }

  /** Remembers a market whose engine now has actions waiting for their latency. */
  private watch(market: Market): void {
    if (market.engine.hasPendingActions) this.waiting.add(market);
  }

  /** A plain-data copy of all state (deep-equal comparable). */
  snapshot(): PaperClientState {
    return {
      tracker: this.tracker.state(),
      orders: [...this.orders.values()].map((m) => this.kalshiOrder(m)),
      fills: [...this.fills],
      settlements: [...this.settlements],
      rng: this.rng.state(),
    };
  }

  // ---------------------------------------------------------------------------------------------------

  private market(ticker: string): Market | undefined {
    const known = this.markets.get(ticker);
    if (known) return known;
    if (this.follow !== undefined && !this.follow.has(ticker)) return undefined;
    const live = this.state.book(ticker);
    if (!live) return undefined;
    const book = new OrderBook(ticker);
    copyBook(book, live);
    const config = this.options.markets?.[ticker] ?? {};
    const marketCash = this.options.marketCashMicros;
    if (marketCash !== undefined) this.tracker.cashMicros += marketCash;
    const fees = config.fees ?? this.options.defaultFees;
    const grid = config.grid;
    const latency = this.options.latency;
    const engine = new MatchingEngine({
      ticker,
      book,
      tracker: this.tracker,
      ...(fees ? { fees } : {}),
      ...(grid ? { grid } : {}),
      ...(this.options.queueModel ? { queueModel: this.options.queueModel } : {}),
      ...(latency ? { latency, rng: this.rng.fork() } : {}),
      ...(marketCash === undefined ? {} : { marketCashMicros: marketCash }),
      onFill: (order, price, count, isTaker, outcome, tsMs) => this.onFill(order, price, count, isTaker, outcome, tsMs),
      onOrderUpdate: (order) => this.onOrderUpdate(order),
    });
    const dash = ticker.lastIndexOf('-');
    const eventTicker = config.eventTicker ?? (dash > 0 ? ticker.slice(0, dash) : ticker);
    const market: Market = { engine, live, book, eventTicker };
    this.markets.set(ticker, market);
    return market;
  }

  /**
   * An event the shared state applied: replayed on this client's copy of the book exactly as a recorded
   * event is in training (`replayEvent`: due order actions, then the change, then fills), at the client's
   * clock time. Other markets' due actions wait for their own next event or API call.
   */
  private onEvent(event: BookEvent, result: ApplyResult): void {
    const market = this.markets.get(event.ticker) ?? this.market(event.ticker);
    if (!market) return;
    const now = this.clock.now();
    // A stale book (sequence gap) is not trusted: the copy stays at the last trusted state, so the resync
    // snapshot is replayed as one difference. A refused (negative) delta changed nothing.
    if (event.kind !== 'trade' && (market.live.stale || result.event === undefined)) {
      market.engine.advanceTo(now);
      return;
    }
    replayEvent(market.engine, market.book, event, now);
    if (!market.engine.hasPendingActions) this.waiting.delete(market);
  }

  private parseV2(b: Record<string, unknown>): ParsedOrder | PaperResponse<never> {
    const side = b.side;
    if (side !== 'bid' && side !== 'ask') return error(400, 'invalid_parameters', 'side must be "bid" or "ask"');
    const tif = this.parseTif(b.time_in_force);
    if (isResponse(tif)) return tif;
    const price = parseOr('invalid_price', () => parsePriceUnits(b.price as string, 'price'));
    if (isResponse(price)) return price;
    const count = parseOr('invalid_order', () => parseCountCenti(b.count as string, 'count'));
    if (isResponse(count)) return count;
    return {
      request: { side, priceUnits: price, countCenti: count, timeInForce: tif, postOnly: b.post_only === true, reduceOnly: b.reduce_only === true },
      legacySide: side === 'bid' ? 'yes' : 'no',
      legacyAction: 'buy',
    };
  }

  /** V1: yes/no + buy/sell and one of four price fields, normalised to the V2 YES-leg model. */
  private parseV1(b: Record<string, unknown>): ParsedOrder | PaperResponse<never> {
    const outcome = b.side;
    const action = b.action;
    if ((outcome !== 'yes' && outcome !== 'no') || (action !== 'buy' && action !== 'sell')) {
      return error(400, 'invalid_parameters', 'side must be yes|no and action buy|sell');
    }
    const prices = (['yes_price', 'no_price', 'yes_price_dollars', 'no_price_dollars'] as const).filter((k) => b[k] !== undefined);
    if (prices.length !== 1) {
      return error(400, 'invalid_order', 'invalid order', 'exactly one of yes_price, no_price, yes_price_dollars, or no_price_dollars should be provided');
    }
    const field = prices[0]!;
    const raw = b[field] as string | number;
    const units = parseOr('invalid_price', () => (field.endsWith('_dollars') ? parsePriceUnits(raw, field) : centsToPriceUnits(raw, field)));
    if (isResponse(units)) return units;
    const yesPrice = field.startsWith('yes') ? units : PRICE_ONE - units;
    const count = parseOr('invalid_order', () =>
      b.count_fp !== undefined ? parseCountCenti(b.count_fp as string, 'count_fp') : contractsToCountCenti(b.count as number, 'count'),
    );
    if (isResponse(count)) return count;
    const tif = this.parseTif(b.time_in_force);
    if (isResponse(tif)) return tif;
    // Buying YES or selling NO is a bid on the YES leg; the other two are asks.
    const side = (outcome === 'yes') === (action === 'buy') ? 'bid' : 'ask';
    return {
      request: { side, priceUnits: yesPrice, countCenti: count, timeInForce: tif, postOnly: b.post_only === true, reduceOnly: b.reduce_only === true },
      legacySide: outcome,
      legacyAction: action,
    };
  }

  private parseTif(value: unknown): TimeInForce | PaperResponse<never> {
    if (value === undefined) return 'good_till_canceled';
    return TIME_IN_FORCE.includes(value as TimeInForce)
      ? (value as TimeInForce)
      : error(400, 'invalid_parameters', `Unknown time_in_force ${JSON.stringify(value)}`);
  }

  private openOrder(orderId: string): { meta: OrderMeta; sim: SimOrder; market: Market } | PaperResponse<never> {
    const meta = this.orders.get(orderId);
    const sim = meta?.sim;
    const market = meta && this.markets.get(meta.ticker);
    if (!meta || !sim || !market) return error(404, 'not_found', `No order ${orderId}`);
    if (sim.status !== 'resting' && sim.status !== 'pending') return error(404, 'not_found', `Order ${orderId} is ${sim.status}`);
    return { meta, sim, market };
  }

  private findByClientId(clientOrderId: string): OrderMeta | undefined {
    for (const m of this.orders.values()) if (m.clientOrderId === clientOrderId) return m;
    return undefined;
  }

  private remaining(o: SimOrder): number {
    return o.status === 'resting' || o.status === 'pending' ? o.remainingCenti : 0;
  }

  private bind(meta: OrderMeta, sim: SimOrder): void {
    if (meta.sim) return;
    meta.sim = sim;
    this.metaOfSim.set(sim, meta);
  }

  private metaOf(order: SimOrder): OrderMeta {
    const meta = this.metaOfSim.get(order) ?? this.creating;
    if (!meta) throw new KflowError<PaperErrorCode>('INVALID_ARGUMENT', `Order ${order.id} is not this client's`);
    this.bind(meta, order);
    return meta;
  }

  private kalshiOrder(meta: OrderMeta): KalshiOrder {
    const o = meta.sim!;
    const outcome = o.side === 'bid' ? 'yes' : 'no';
    return {
      order_id: meta.orderId,
      user_id: this.userId,
      client_order_id: meta.clientOrderId,
      ticker: meta.ticker,
      side: meta.legacySide,
      action: meta.legacyAction,
      type: 'limit',
      status: o.status === 'pending' ? 'resting' : o.status,
      outcome_side: outcome,
      book_side: o.side,
      yes_price_dollars: formatPrice(o.priceUnits),
      no_price_dollars: formatPrice(PRICE_ONE - o.priceUnits),
      fill_count_fp: formatCount(o.filledCenti),
      remaining_count_fp: formatCount(this.remaining(o)),
      initial_count_fp: formatCount(o.initialCenti),
      taker_fees_dollars: formatMicros(o.takerFeesMicros),
      maker_fees_dollars: formatMicros(o.makerFeesMicros),
      taker_fill_cost_dollars: formatMicros(o.takerFillCostMicros),
      maker_fill_cost_dollars: formatMicros(o.makerFillCostMicros),
      time_in_force: o.timeInForce,
      post_only: o.postOnly,
      reduce_only: o.reduceOnly,
      queue_position_fp: formatCount(o.queueAheadCenti),
      last_update_reason: o.lastUpdateReason,
      created_time: iso(meta.createdMs),
      created_ts_ms: meta.createdMs,
      last_update_time: iso(o.lastUpdateMs),
      subaccount_number: 0,
    };
  }

  private onFill(order: SimOrder, price: number, count: number, isTaker: boolean, outcome: FillOutcome, tsMs: number): void {
    const meta = this.metaOf(order);
    const tradeId = uuidFromRng(this.rng);
    const outcomeSide = order.side === 'bid' ? 'yes' : 'no';
    const fill: KalshiFill = {
      fill_id: tradeId,
      trade_id: tradeId,
      order_id: meta.orderId,
      client_order_id: meta.clientOrderId,
      ticker: meta.ticker,
      market_ticker: meta.ticker,
      side: meta.legacySide,
      action: meta.legacyAction,
      outcome_side: outcomeSide,
      book_side: order.side,
      purchased_side: outcomeSide,
      count_fp: formatCount(count),
      yes_price_dollars: formatPrice(price),
      no_price_dollars: formatPrice(PRICE_ONE - price),
      is_taker: isTaker,
      fee_cost: formatMicros(outcome.fee.tradeFeeMicros),
      post_position_fp: formatCount(outcome.postPositionCenti),
      created_time: iso(tsMs),
      ts: Math.floor(tsMs / 1000),
      ts_ms: tsMs,
      subaccount_number: 0,
    };
    this.fills.push(fill);
    if (this.listeners.length === 0) return;
    const msg: FillMessage = {
      trade_id: tradeId,
      order_id: fill.order_id,
      client_order_id: fill.client_order_id,
      market_ticker: fill.market_ticker,
      is_taker: isTaker,
      side: fill.side,
      action: fill.action,
      outcome_side: outcomeSide,
      book_side: order.side,
      purchased_side: outcomeSide,
      yes_price_dollars: fill.yes_price_dollars,
      count_fp: fill.count_fp,
      fee_cost: fill.fee_cost,
      post_position_fp: fill.post_position_fp,
      ts: fill.ts,
      ts_ms: tsMs,
      subaccount: 0,
    };
    this.emit((sid) => ({ type: 'fill', sid, msg }));
    this.emitPosition(outcome.market, meta.ticker);
  }

  private onOrderUpdate(order: SimOrder): void {
    const meta = this.metaOf(order);
    if (this.listeners.length === 0) return;
    const o = this.kalshiOrder(meta);
    const msg: UserOrderMessage = {
      order_id: o.order_id,
      user_id: o.user_id,
      ticker: o.ticker,
      status: o.status,
      side: o.outcome_side,
      is_yes: o.outcome_side === 'yes',
      outcome_side: o.outcome_side,
      book_side: o.book_side,
      yes_price_dollars: o.yes_price_dollars,
      fill_count_fp: o.fill_count_fp,
      remaining_count_fp: o.remaining_count_fp,
      initial_count_fp: o.initial_count_fp,
      taker_fill_cost_dollars: o.taker_fill_cost_dollars,
      maker_fill_cost_dollars: o.maker_fill_cost_dollars,
      taker_fees_dollars: o.taker_fees_dollars,
      maker_fees_dollars: o.maker_fees_dollars,
      client_order_id: o.client_order_id,
      last_update_reason: o.last_update_reason,
      created_time: o.created_time,
      created_ts_ms: o.created_ts_ms,
      subaccount_number: 0,
    };
    this.emit((sid) => ({ type: 'user_order', sid, msg }));
  }

  private emitPosition(index: number, ticker: string): void {
    if (this.listeners.length === 0) return;
    const p = this.tracker.market(index);
    const msg: MarketPositionMessage = {
      user_id: this.userId,
      market_ticker: ticker,
      position_fp: formatCount(p.positionCenti),
      position_cost_dollars: formatMicros(p.costMicros),
      realized_pnl_dollars: formatMicros(p.realizedPnlMicros),
      fees_paid_dollars: formatMicros(p.feesPaidMicros),
      volume_fp: formatCount(p.volumeCenti),
      subaccount: 0,
    };
    this.emit((sid) => ({ type: 'market_position', sid, msg }));
  }

  private emit(make: (sid: number) => UserEvent): void {
    for (const { sid, listener } of this.listeners) {
      try {
        listener(make(sid));
      } catch {
        this.listenerErrors++;
      }
    }
  }
}

/** Makes `to` a copy of `from` (allocation-free when `from` is an `OrderBook`). */
function copyBook(to: OrderBook, from: BookView): void {
  if (from instanceof OrderBook) to.copyFrom(from);
  else to.applySnapshot(from.levels('yes'), from.levels('no'));
}

/** Average per contract as a dollar string (`micros` over `countCenti` centi-contracts), rounded to $0.000001. */
function perContract(micros: number, countCenti: number): string {
  const v = Math.round((micros * 100) / countCenti);
  return formatMicros(v, v % 100 === 0 ? 4 : 6);
}

/**
 * Creates a paper trading client. Throws `LIVE_MODE_FORBIDDEN` unless `mode` is `'paper'`.
 *
 * @example
 * const client = createPaperClient({ mode: 'paper', state, clock, rng: createRng(7), cashMicros: 50_000_000 });
 */
export function createPaperClient(options: PaperClientOptions): PaperClient {
  return new PaperClient(options);
}
