/**
 * Kalshi REST and WebSocket shapes the paper client speaks (docs/kalshi-protocol.md §3.7 and §5). Field names are
 * Kalshi's; prices are 4-decimal dollar strings, counts 2-decimal strings, money 6-decimal dollar strings.
 */

import type { TimeInForce } from './orders';

/** `POST /portfolio/events/orders` (V2): a side on the YES leg. */
export interface CreateOrderV2Request {
  readonly ticker: string;
  /** Required by Kalshi; generated when omitted. */
  readonly client_order_id?: string;
  readonly side: 'bid' | 'ask';
  readonly count: string | number;
  /** YES price in dollars, e.g. `"0.5600"`. */
  readonly price: string | number;
  /** Default `good_till_canceled`. */
  readonly time_in_force?: TimeInForce;
  readonly post_only?: boolean;
  readonly reduce_only?: boolean;
  readonly self_trade_prevention_type?: 'taker_at_cross' | 'maker';
  readonly subaccount?: number;
}

/** Legacy V1 body (`POST /portfolio/orders`): outcome side + action, exactly one price field. */
export interface CreateOrderV1Request {
  readonly ticker: string;
  readonly side: 'yes' | 'no';
  readonly action: 'buy' | 'sell';
  readonly count?: number;
  readonly count_fp?: string;
  /** Integer cents. */
  readonly yes_price?: number;
  readonly no_price?: number;
  readonly yes_price_dollars?: string;
  readonly no_price_dollars?: string;
  readonly client_order_id?: string;
  readonly time_in_force?: TimeInForce;
  readonly post_only?: boolean;
  readonly reduce_only?: boolean;
  readonly subaccount?: number;
}

/** V2 create response (names lack the `_fp`/`_dollars` suffix although values are fixed-point strings). */
export interface CreateOrderV2Response {
  readonly order_id: string;
  readonly client_order_id: string;
  readonly fill_count: string;
  readonly remaining_count: string;
  /** Per-contract VWAP of the YES price, only when something filled. */
  readonly average_fill_price?: string;
  /** Per-contract fee, only when something filled. */
  readonly average_fee_paid?: string;
  readonly ts_ms: number;
}

/** `DELETE /portfolio/events/orders/{order_id}` response. */
export interface CancelOrderResponse {
  readonly order_id: string;
  readonly client_order_id: string;
  /** Remaining count removed by the cancel. */
  readonly reduced_by: string;
  readonly ts_ms: number;
}

/** `POST /portfolio/events/orders/{id}/amend`: `count` = already filled + desired remaining. */
export interface AmendOrderRequest {
  readonly ticker: string;
  readonly side: 'bid' | 'ask';
  readonly price: string | number;
  readonly count: string | number;
  readonly client_order_id?: string;
  readonly updated_client_order_id?: string;
}

/** `POST /portfolio/events/orders/{order_id}/amend` response. */
export interface AmendOrderResponse {
  readonly order_id: string;
  readonly remaining_count: string;
  readonly fill_count: string;
  readonly ts_ms: number;
}

/** Exactly one of `reduce_by` / `reduce_to`. */
export interface DecreaseOrderRequest {
  readonly reduce_by?: string | number;
  readonly reduce_to?: string | number;
}

/** `POST /portfolio/events/orders/{order_id}/decrease` response. */
export interface DecreaseOrderResponse {
  readonly order_id: string;
  readonly remaining_count: string;
  readonly ts_ms: number;
}

/** Order status as Kalshi reports it (an order still in flight reports `resting`). */
export type KalshiOrderStatus = 'resting' | 'canceled' | 'executed';

/** `GET /portfolio/orders/{id}` order object. */
export interface KalshiOrder {
  readonly order_id: string;
  readonly user_id: string;
  readonly client_order_id: string;
  readonly ticker: string;
  /** Legacy: the outcome side of the request (V1), or of the V2 side (bid → yes, ask → no). */
  readonly side: 'yes' | 'no';
  readonly action: 'buy' | 'sell';
  readonly type: 'limit';
  readonly status: KalshiOrderStatus;
  readonly outcome_side: 'yes' | 'no';
  readonly book_side: 'bid' | 'ask';
  readonly yes_price_dollars: string;
  readonly no_price_dollars: string;
  readonly fill_count_fp: string;
  readonly remaining_count_fp: string;
  readonly initial_count_fp: string;
  readonly taker_fees_dollars: string;
  readonly maker_fees_dollars: string;
  readonly taker_fill_cost_dollars: string;
  readonly maker_fill_cost_dollars: string;
  readonly time_in_force: TimeInForce;
  readonly post_only: boolean;
  readonly reduce_only: boolean;
  readonly queue_position_fp: string;
  readonly last_update_reason: string;
  readonly created_time: string;
  readonly created_ts_ms: number;
  readonly last_update_time: string;
  readonly subaccount_number: number;
}

/** `GET /portfolio/fills` fill. `fee_cost` is the trade fee of the fill. */
export interface KalshiFill {
  readonly fill_id: string;
  readonly trade_id: string;
  readonly order_id: string;
  readonly client_order_id: string;
  readonly ticker: string;
  readonly market_ticker: string;
  readonly side: 'yes' | 'no';
  readonly action: 'buy' | 'sell';
  readonly outcome_side: 'yes' | 'no';
  readonly book_side: 'bid' | 'ask';
  readonly purchased_side: 'yes' | 'no';
  readonly count_fp: string;
  readonly yes_price_dollars: string;
  readonly no_price_dollars: string;
  readonly is_taker: boolean;
  readonly fee_cost: string;
  readonly post_position_fp: string;
  readonly created_time: string;
  readonly ts: number;
  readonly ts_ms: number;
  readonly subaccount_number: number;
}

/** `GET /portfolio/positions` market position (signed `position_fp`: + YES, − NO). */
export interface KalshiMarketPosition {
  readonly ticker: string;
  readonly position_fp: string;
  readonly market_exposure_dollars: string;
  readonly realized_pnl_dollars: string;
  readonly fees_paid_dollars: string;
  readonly total_traded_dollars: string;
  readonly resting_orders_count: number;
  readonly last_updated_ts: string;
}

/** `GET /portfolio/balance`: integer cents (Kalshi never moved these to fixed point) plus a dollar string. */
export interface KalshiBalance {
  /** Cash available for trading (cash minus what open orders hold back), floored to cents. */
  readonly balance: number;
  /** Open positions marked at mid, floored to cents. */
  readonly portfolio_value: number;
  readonly balance_dollars: string;
  /** Seconds. */
  readonly updated_ts: number;
}

/** `GET /portfolio/settlements` entry. */
export interface KalshiSettlement {
  readonly ticker: string;
  readonly event_ticker: string;
  readonly market_result: 'yes' | 'no' | 'scalar' | 'void';
  readonly yes_count_fp: string;
  readonly yes_total_cost_dollars: string;
  readonly no_count_fp: string;
  readonly no_total_cost_dollars: string;
  /** Integer cents paid out. */
  readonly revenue: number;
  readonly settled_time: string;
  readonly fee_cost: string;
  /** Payout of one YES contract in cents. */
  readonly value: number;
}

/** Kalshi's error body `{code, message, details, service}`. */
export interface KalshiError {
  readonly code: PaperErrorCodeWire;
  readonly message: string;
  readonly details?: string;
  readonly service: 'exchange';
}

/** Error codes the paper client returns (Kalshi's where known). */
export type PaperErrorCodeWire =
  | 'invalid_price'
  | 'invalid_order'
  | 'invalid_parameters'
  | 'insufficient_balance'
  | 'post_only_cross'
  | 'market_not_found'
  | 'market_closed'
  | 'not_found'
  | 'order_already_exists';

/**
 * A REST-like outcome: the body with its HTTP status, or a Kalshi error body. Refused requests change
 * nothing.
 */
export type PaperResponse<T> =
  | { readonly ok: true; readonly status: 200 | 201; readonly body: T }
  | { readonly ok: false; readonly status: 400 | 404 | 409; readonly error: KalshiError };

/** WS `fill` message body. */
export interface FillMessage {
  readonly trade_id: string;
  readonly order_id: string;
  readonly client_order_id: string;
  readonly market_ticker: string;
  readonly is_taker: boolean;
  readonly side: 'yes' | 'no';
  readonly action: 'buy' | 'sell';
  readonly outcome_side: 'yes' | 'no';
  readonly book_side: 'bid' | 'ask';
  readonly purchased_side: 'yes' | 'no';
  readonly yes_price_dollars: string;
  readonly count_fp: string;
  readonly fee_cost: string;
  readonly post_position_fp: string;
  readonly ts: number;
  readonly ts_ms: number;
  readonly subaccount: number;
}

/** WS `user_order` message body. */
export interface UserOrderMessage {
  readonly order_id: string;
  readonly user_id: string;
  readonly ticker: string;
  readonly status: KalshiOrderStatus;
  readonly side: 'yes' | 'no';
  readonly is_yes: boolean;
  readonly outcome_side: 'yes' | 'no';
  readonly book_side: 'bid' | 'ask';
  readonly yes_price_dollars: string;
  readonly fill_count_fp: string;
  readonly remaining_count_fp: string;
  readonly initial_count_fp: string;
  readonly taker_fill_cost_dollars: string;
  readonly maker_fill_cost_dollars: string;
  readonly taker_fees_dollars: string;
  readonly maker_fees_dollars: string;
  readonly client_order_id: string;
  readonly last_update_reason: string;
  readonly created_time: string;
  readonly created_ts_ms: number;
  readonly subaccount_number: number;
}

/** WS `market_position` message body. */
export interface MarketPositionMessage {
  readonly user_id: string;
  readonly market_ticker: string;
  readonly position_fp: string;
  readonly position_cost_dollars: string;
  readonly realized_pnl_dollars: string;
  readonly fees_paid_dollars: string;
  readonly volume_fp: string;
  readonly subaccount: number;
}

/** A user-channel event as Kalshi frames it (`sid` = the listener's subscription id). */
export type UserEvent =
  | { readonly type: 'fill'; readonly sid: number; readonly msg: FillMessage }
  | { readonly type: 'user_order'; readonly sid: number; readonly msg: UserOrderMessage }
  | { readonly type: 'market_position'; readonly sid: number; readonly msg: MarketPositionMessage };
