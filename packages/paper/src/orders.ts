import { PRICE_ONE, formatCount, formatPrice } from '@kflow/orderbook';
import type { CreateOrderV2Request } from './kalshiTypes';
import type { BookSide } from './positionTracker';

/** Kalshi V2 `time_in_force`. */
export type TimeInForce = 'good_till_canceled' | 'immediate_or_cancel' | 'fill_or_kill';

/** An order in Kalshi's V2 model: a side on the YES leg, a YES price and a count, in exact units. */
export interface OrderRequest {
  readonly side: BookSide;
  /** YES price in price units (1/10,000 $). */
  readonly priceUnits: number;
  readonly countCenti: number;
  /** Default `good_till_canceled`. */
  readonly timeInForce?: TimeInForce;
  /** Reject (or cancel on arrival) instead of taking liquidity. */
  readonly postOnly?: boolean;
  /** Only reduce the current position: the count is capped at what the position holds. */
  readonly reduceOnly?: boolean;
  readonly clientOrderId?: string;
}

/** Extra fields accepted by the order helpers. */
export type OrderOptions = Omit<OrderRequest, 'side' | 'priceUnits' | 'countCenti'>;

/**
 * Buy YES at `yesPriceUnits` (V2 `bid`).
 *
 * @example
 * engine.submit(buyYes(1700, 552, { timeInForce: 'immediate_or_cancel' }), nowMs);
 */
export function buyYes(yesPriceUnits: number, countCenti: number, options: OrderOptions = {}): OrderRequest {
  return { ...options, side: 'bid', priceUnits: yesPriceUnits, countCenti };
}

/** Sell YES at `yesPriceUnits` (V2 `ask`); from flat this buys NO at 1 − price. */
export function sellYes(yesPriceUnits: number, countCenti: number, options: OrderOptions = {}): OrderRequest {
  return { ...options, side: 'ask', priceUnits: yesPriceUnits, countCenti };
}

/** Buy NO at `noPriceUnits` (V2 `ask` at YES price 1 − noPrice). */
export function buyNo(noPriceUnits: number, countCenti: number, options: OrderOptions = {}): OrderRequest {
  return { ...options, side: 'ask', priceUnits: PRICE_ONE - noPriceUnits, countCenti };
}

/** Sell NO at `noPriceUnits` (V2 `bid` at YES price 1 − noPrice). */
export function sellNo(noPriceUnits: number, countCenti: number, options: OrderOptions = {}): OrderRequest {
  return { ...options, side: 'bid', priceUnits: PRICE_ONE - noPriceUnits, countCenti };
}

/** Kalshi order status; `pending` = sent but not yet at the exchange (order latency). */
export type OrderStatus = 'pending' | 'resting' | 'canceled' | 'executed';

/** Why an order last changed (Kalshi `last_update_reason` where one exists). */
export type OrderUpdateReason =
  | 'Created'
  | 'Trade'
  | 'Decrease'
  | 'Amend'
  | 'Cancel'
  | 'ImmediateOrCancel'
  | 'FillOrKillCancel'
  | 'PostOnlyCrossCancel'
  | 'ReduceOnlyCancel'
  | 'SelfTradeCancel'
  | 'CloseCancel';

/** Why the engine refused an order (expected outcome: data, not an exception). */
export type OrderRejectReason =
  | 'invalid_side'
  | 'invalid_price'
  | 'invalid_count'
  | 'insufficient_balance'
  | 'post_only_cross'
  | 'reduce_only_no_position'
  | 'market_settled'
  | 'order_not_found';

/** An order as the matching engine tracks it (read-only view; money in micro-dollars). */
export interface SimOrder {
  /** Engine-local id (increasing). */
  readonly id: number;
  readonly ticker: string;
  readonly side: BookSide;
  readonly priceUnits: number;
  readonly timeInForce: TimeInForce;
  readonly postOnly: boolean;
  readonly reduceOnly: boolean;
  readonly clientOrderId: string | undefined;
  /** Count asked for (decreases and cancels leave it; an amend sets it to filled + new remaining). */
  readonly initialCenti: number;
  readonly filledCenti: number;
  readonly remainingCenti: number;
  readonly status: OrderStatus;
  readonly lastUpdateReason: OrderUpdateReason;
  /** Recorded size ahead of this order at its price (queue-position estimate). */
  readonly queueAheadCenti: number;
  readonly createdMs: number;
  /** When the order reaches (reached) the exchange. */
  readonly arrivalMs: number;
  readonly lastUpdateMs: number;
  readonly takerFillCostMicros: number;
  readonly makerFillCostMicros: number;
  readonly takerFeesMicros: number;
  readonly makerFeesMicros: number;
  /** Per-order fee rounding accumulator (docs/kalshi-protocol.md §6.2). */
  readonly feeAccumulatorMicros: number;
}

/**
 * The Kalshi V2 create-order body that sends `order` on `ticker` (what `actionToOrder` produced), exact
 * units formatted as Kalshi's fixed-point strings.
 *
 * @example
 * client.createOrder(createOrderBody(ticker, actionToOrder(space, decodeAction(space, a), ctx)!));
 */
export function createOrderBody(ticker: string, order: OrderRequest): CreateOrderV2Request {
  return {
    ticker,
    side: order.side,
    price: formatPrice(order.priceUnits),
    count: formatCount(order.countCenti),
    time_in_force: order.timeInForce ?? 'good_till_canceled',
    post_only: order.postOnly ?? false,
    reduce_only: order.reduceOnly ?? false,
    ...(order.clientOrderId === undefined ? {} : { client_order_id: order.clientOrderId }),
  };
}
