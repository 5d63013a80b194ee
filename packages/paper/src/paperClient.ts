import {
  type Clock,
  KflowError,
  PRICE_ONE,
  type Rng,
  type RngState,
  type SettlementResult,
  type SharedOrderbookState,
  formatCount,
  formatMicros,
  formatPrice,
  uuidFromRng,
} from '@kflow/orderbook';
import type { PositionFeaturesInput } from '@kflow/features';
import type { PaperErrorCode } from './errors';
import type { FeeSchedule, MemberPrecision } from './feeModel';
import {
  AMEND_ORDER,
  ARGUMENTS,
  CLIENT_OPTIONS,
  DECREASE_ORDER,
  GET_FILLS,
  GET_ORDERS,
  GET_POSITIONS,
  ORDER_ID,
  type Outcome,
  SETTLE,
  checkArgument,
  createOrderSchema,
  error,
  ok,
  parseRequest,
  refused,
} from './kalshiRequests';
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
  PaperResponse,
  UserEvent,
  UserOrderMessage,
} from './kalshiTypes';
import { type LiveMarket, LiveMarkets, type PaperMarketConfig } from './liveMarkets';
import type { LatencyModel, QueueModel } from './matchingEngine';
import type { SimOrder } from './orders';
import { type PositionFeaturesBuffer, writePositionFeatures } from './positionFeatures';
import { type FillOutcome, type MarketPositionView, PositionTracker } from './positionTracker';

export type { PaperMarketConfig } from './liveMarkets';

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

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * A Kalshi-compatible paper trading account over a live `SharedOrderbookState`. It accepts Kalshi's V2
 * order requests (and V1 yes/no buy/sell bodies), answers with Kalshi's JSON shapes, fills orders with the
 * same {@link MatchingEngine} and {@link PositionTracker} the training env uses, and emits Kalshi-shaped
 * `fill`, `user_order` and `market_position` events.
 *
 * Every input is checked at runtime, whatever its static type says: a malformed request returns a Kalshi
 * error body (400 `invalid_parameters`, `invalid_price` or `invalid_order`) and, like every refused
 * request, changes nothing; a malformed argument of the other methods or of the options throws
 * `INVALID_ARGUMENT`.
 *
 * The engines follow the shared state's events (`liveMarkets.ts`): each market matches against the client's
 * copy of the live book, which every event reaches after the order actions due before it, exactly as in a
 * replay. Public trades reach the engines the same way: apply trade frames (or trade events) to the state.
 *
 * @example
 * const client = createPaperClient({ mode: 'paper', state, clock: systemClock, rng: createRng(1), cashMicros: 100_000_000 });
 * client.subscribe((event) => console.log(event.type, event.msg));
 * const r = client.createOrder({ ticker, side: 'bid', price: '0.4500', count: '10.00', time_in_force: 'good_till_canceled' });
 */
export class PaperClient {
  readonly tracker: PositionTracker;
  private readonly rng: Rng;
  private readonly userId: string;
  private readonly markets: LiveMarkets;
  private readonly orders = new Map<string, OrderMeta>();
  private readonly metaOfSim = new Map<SimOrder, OrderMeta>();
  /** The order being created while its engine may already report fills for it. */
  private creating: OrderMeta | undefined;
  private readonly fills: KalshiFill[] = [];
  private readonly settlements: KalshiSettlement[] = [];
  private listeners: readonly { readonly sid: number; readonly listener: (event: UserEvent) => void }[] = [];
  private nextSid = 1;
  /** Errors thrown by event listeners (caught). */
  listenerErrors = 0;

  constructor(options: PaperClientOptions) {
    if (options?.mode !== 'paper') {
      throw new KflowError<PaperErrorCode>(
        'LIVE_MODE_FORBIDDEN',
        `The paper client runs only in mode 'paper' (got ${JSON.stringify(options?.mode)}); live trading is not supported`,
      );
    }
    checkArgument(CLIENT_OPTIONS, options, 'createPaperClient options');
    this.rng = options.rng;
    this.userId = options.userId ?? 'paper-user';
    this.tracker = new PositionTracker({ cashMicros: options.cashMicros, precision: options.precision ?? 'direct' });
    this.markets = new LiveMarkets({
      ...options,
      tracker: this.tracker,
      onFill: (order, price, count, isTaker, outcome, tsMs) => this.onFill(order, price, count, isTaker, outcome, tsMs),
      onOrderUpdate: (order) => this.onOrderUpdate(order),
    });
  }

  /** Stops following the shared state. */
  close(): void {
    this.markets.close();
  }

  /** Subscribes to `fill`, `user_order` and `market_position` events; returns the unsubscribe function. */
  subscribe(listener: (event: UserEvent) => void): () => void {
    checkArgument(ARGUMENTS.listener, listener, 'subscribe(listener)');
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
    const parsed = parseRequest(createOrderSchema(body), body);
    if (!parsed.ok) return parsed;
    const { ticker, clientOrderId, request, version, legacySide, legacyAction } = parsed.value;
    const market = this.markets.get(ticker);
    if (!market) return error(404, 'market_not_found', `No market ${ticker}`);
    if (clientOrderId !== undefined && this.findByClientId(clientOrderId)) {
      return error(409, 'order_already_exists', `client_order_id ${clientOrderId} is already in use`);
    }
    const invalid = market.engine.validate(request);
    if (invalid) return refused(invalid);
    // Everything is valid: from here on state changes (ids are drawn, the order is matched).
    const orderId = uuidFromRng(this.rng);
    const meta: OrderMeta = {
      orderId,
      clientOrderId: clientOrderId ?? uuidFromRng(this.rng),
      ticker,
      legacySide,
      legacyAction,
      createdMs: now,
      sim: undefined,
    };
    this.orders.set(orderId, meta);
    this.creating = meta;
    const result = market.engine.submit({ ...request, clientOrderId: meta.clientOrderId }, now);
    this.creating = undefined;
    this.markets.watch(market);
    if (!result.ok) throw new KflowError<PaperErrorCode>('INVALID_ARGUMENT', `Validated order refused: ${result.message}`);
    this.bind(meta, result.order);
    if (version === 1) return ok({ order: this.kalshiOrder(meta) }, 201);
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
    const parsed = parseRequest(ORDER_ID, { order_id: orderId });
    if (!parsed.ok) return parsed;
    const found = this.openOrder(parsed.value.order_id);
    if (!found.ok) return found;
    const { meta, sim, market } = found.value;
    const remaining = sim.remainingCenti;
    const result = market.engine.cancel(sim.id, now);
    this.markets.watch(market);
    if (!result.ok) return refused(result);
    return ok({ order_id: meta.orderId, client_order_id: meta.clientOrderId, reduced_by: formatCount(remaining), ts_ms: now });
  }

  /** `POST /portfolio/events/orders/{order_id}/amend` (`count` = filled + desired remaining). */
  amendOrder(orderId: string, body: AmendOrderRequest): PaperResponse<AmendOrderResponse> {
    const now = this.advance();
    const parsed = parseRequest(AMEND_ORDER, { order_id: orderId, body });
    if (!parsed.ok) return parsed;
    const found = this.openOrder(parsed.value.order_id);
    if (!found.ok) return found;
    const { meta, sim, market } = found.value;
    const amend = parsed.value.body;
    if (amend.ticker !== meta.ticker || amend.side !== sim.side) {
      return error(400, 'invalid_order', 'ticker and side must match the order');
    }
    if (amend.client_order_id !== undefined && amend.client_order_id !== meta.clientOrderId) {
      return error(400, 'invalid_order', `client_order_id ${amend.client_order_id} is not this order's (${meta.clientOrderId})`);
    }
    const updated = amend.updated_client_order_id;
    if (updated !== undefined && updated !== meta.clientOrderId && this.findByClientId(updated)) {
      return error(409, 'order_already_exists', `client_order_id ${updated} is already in use`);
    }
    const result = market.engine.amend(sim.id, amend.price, amend.count, now);
    this.markets.watch(market);
    if (!result.ok) return refused(result);
    if (updated !== undefined) meta.clientOrderId = updated;
    return ok({
      order_id: meta.orderId,
      remaining_count: formatCount(this.remaining(result.order)),
      fill_count: formatCount(result.order.filledCenti),
      ts_ms: now,
    });
  }

  /** `POST /portfolio/events/orders/{order_id}/decrease` with exactly one of `reduce_by` / `reduce_to`. */
  decreaseOrder(orderId: string, body: DecreaseOrderRequest): PaperResponse<DecreaseOrderResponse> {
    const now = this.advance();
    const parsed = parseRequest(DECREASE_ORDER, { order_id: orderId, body });
    if (!parsed.ok) return parsed;
    const found = this.openOrder(parsed.value.order_id);
    if (!found.ok) return found;
    const { meta, sim, market } = found.value;
    const reduce = parsed.value.body;
    const target = 'byCenti' in reduce ? sim.remainingCenti - reduce.byCenti : reduce.toCenti;
    if (target < 0 || target > sim.remainingCenti) {
      return error(400, 'invalid_order', `Cannot decrease ${formatCount(sim.remainingCenti)} to ${formatCount(target)}`);
    }
    const result = market.engine.decrease(sim.id, target, now);
    this.markets.watch(market);
    if (!result.ok) return refused(result);
    return ok({ order_id: meta.orderId, remaining_count: formatCount(this.remaining(result.order)), ts_ms: now });
  }

  /** `GET /portfolio/orders`, newest first. */
  getOrders(query: { readonly ticker?: string; readonly status?: KalshiOrderStatus } = {}): PaperResponse<{
    readonly orders: KalshiOrder[];
    readonly cursor: string;
  }> {
    this.advance();
    const parsed = parseRequest(GET_ORDERS, query);
    if (!parsed.ok) return parsed;
    const { ticker, status } = parsed.value;
    const orders = [...this.orders.values()]
      .reverse()
      .map((m) => this.kalshiOrder(m))
      .filter((o) => (ticker === undefined || o.ticker === ticker) && (status === undefined || o.status === status));
    return ok({ orders, cursor: '' });
  }

  /** `GET /portfolio/orders/{order_id}`. */
  getOrder(orderId: string): PaperResponse<{ readonly order: KalshiOrder }> {
    this.advance();
    const parsed = parseRequest(ORDER_ID, { order_id: orderId });
    if (!parsed.ok) return parsed;
    const meta = this.orders.get(parsed.value.order_id);
    return meta ? ok({ order: this.kalshiOrder(meta) }) : error(404, 'not_found', `No order ${orderId}`);
  }

  /** `GET /portfolio/positions`: markets traded and not settled (or settled, or all). */
  getPositions(
    query: { readonly ticker?: string; readonly settlement_status?: 'unsettled' | 'settled' | 'all' } = {},
  ): PaperResponse<{ readonly market_positions: KalshiMarketPosition[]; readonly event_positions: never[]; readonly cursor: string }> {
    this.advance();
    const parsed = parseRequest(GET_POSITIONS, query);
    if (!parsed.ok) return parsed;
    const { ticker: only, settlement_status: status } = parsed.value;
    const out: KalshiMarketPosition[] = [];
    for (const [ticker, market] of this.markets.entries()) {
      const p = this.tracker.market(market.engine.marketIndex);
      if (only !== undefined && ticker !== only) continue;
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
    const parsed = parseRequest(GET_FILLS, query);
    if (!parsed.ok) return parsed;
    const { ticker, order_id: orderId } = parsed.value;
    const fills = this.fills.filter((f) => (ticker === undefined || f.ticker === ticker) && (orderId === undefined || f.order_id === orderId)).reverse();
    return ok({ fills, cursor: '' });
  }

  /** `GET /portfolio/balance`. */
  getBalance(): PaperResponse<KalshiBalance> {
    const now = this.advance();
    let positions = 0;
    for (const [, m] of this.markets.entries()) positions += this.tracker.markMicros(m.engine.marketIndex, m.engine.book, 'mid');
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
   * `result` is Kalshi's lower-case `yes`, `no`, `scalar` or `void`; `settlementValue` is the YES payout in
   * dollars, required for `scalar` and, when given for `yes` / `no`, `"1.0000"` / `"0.0000"`.
   */
  settle(ticker: string, result: SettlementResult, settlementValue?: string): PaperResponse<KalshiSettlement> {
    const now = this.advance();
    const parsed = parseRequest(SETTLE, { ticker, result, settlement_value: settlementValue });
    if (!parsed.ok) return parsed;
    const { yesPayoutUnits } = parsed.value;
    const market = this.markets.get(ticker);
    if (!market) return error(404, 'market_not_found', `No market ${ticker}`);
    const p = this.tracker.market(market.engine.marketIndex);
    if (p.settlement) return error(400, 'market_closed', `${ticker} has already settled`);
    const rec = market.engine.settle(result, yesPayoutUnits, now);
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
    checkArgument(ARGUMENTS.ticker, ticker, 'writePositionFeatures(ticker)');
    checkArgument(ARGUMENTS.positionFeatures, out, 'writePositionFeatures(out)');
    const market = this.markets.get(ticker);
    if (!market) throw new KflowError<PaperErrorCode>('UNKNOWN_MARKET', `No market ${ticker}`);
    return writePositionFeatures(market.engine, out);
  }

  /** Open orders (pending or resting) of one market; 0 for a market the client does not follow. */
  openOrderCount(ticker: string): number {
    checkArgument(ARGUMENTS.ticker, ticker, 'openOrderCount(ticker)');
    return this.markets.get(ticker)?.engine.openOrderCount ?? 0;
  }

  /** Ids of one market's open orders, oldest first (the order `MatchingEngine.cancelAll` cancels in). */
  openOrderIds(ticker: string): string[] {
    checkArgument(ARGUMENTS.ticker, ticker, 'openOrderIds(ticker)');
    const market = this.markets.get(ticker);
    if (!market) return [];
    return market.engine.openOrders().map((o) => this.metaOf(o).orderId);
  }

  /** One market's position, cost, realized PnL and fees (Kalshi convention), or undefined if not followed. */
  marketPosition(ticker: string): MarketPositionView | undefined {
    checkArgument(ARGUMENTS.ticker, ticker, 'marketPosition(ticker)');
    const market = this.markets.get(ticker);
    return market && this.tracker.market(market.engine.marketIndex);
  }

  /** Carries out order actions whose latency has elapsed (also done on every call and book update). */
  advance(): number {
    return this.markets.advance();
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

  private openOrder(orderId: string): Outcome<{ meta: OrderMeta; sim: SimOrder; market: LiveMarket }> {
    const meta = this.orders.get(orderId);
    const sim = meta?.sim;
    const market = meta && this.markets.get(meta.ticker);
    if (!meta || !sim || !market) return error(404, 'not_found', `No order ${orderId}`);
    if (sim.status !== 'resting' && sim.status !== 'pending') return error(404, 'not_found', `Order ${orderId} is ${sim.status}`);
    return { ok: true, value: { meta, sim, market } };
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
