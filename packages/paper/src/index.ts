/**
 * The one execution model of kflow: Kalshi's fee model, the position tracker, the matching and fill
 * simulator, the primitive action space, the trading setup, decision records and the Kalshi-compatible
 * paper trading client.
 *
 * @packageDocumentation
 * @module \@kflow/paper
 */
export type { PaperErrorCode } from './errors';
export {
  type FeeType,
  type MemberPrecision,
  type FeeSchedule,
  type FeeModel,
  type FeeCharge,
  type FeeQuoteOptions,
  FEE_RATES,
  MEMBER_PRECISION_MICROS,
  DEFAULT_FEE_SCHEDULE,
  isFeeType,
  createFeeModel,
  chargeFee,
  emptyFeeCharge,
  quoteFee,
} from './feeModel';
export {
  type PriceRange,
  type PriceGrid,
  LINEAR_CENT_GRID,
  priceGridFromKalshi,
  isValidOrderPrice,
  orderPriceBounds,
} from './priceGrid';
export {
  type BookSide,
  type MarketPositionView,
  type SettlementRecord,
  type FeeAccumulator,
  type FillOutcome,
  type MarkMode,
  type TrackerState,
  type PositionTrackerOptions,
  PositionTracker,
  createPositionTracker,
} from './positionTracker';
export {
  type TimeInForce,
  type OrderRequest,
  type OrderOptions,
  type OrderStatus,
  type OrderUpdateReason,
  type OrderRejectReason,
  type SimOrder,
  buyYes,
  sellYes,
  buyNo,
  sellNo,
  createOrderBody,
} from './orders';
export {
  type QueueModel,
  type LatencyModel,
  type FillListener,
  type MatchingEngineOptions,
  type OrderActionResult,
  MatchingEngine,
  createMatchingEngine,
  replayEvent,
} from './matchingEngine';
export {
  ACTION_KINDS,
  TRADING_ACTION_KINDS,
  type ActionKind,
  type DecodedAction,
  type ActionSpace,
  type ActionSpaceOptions,
  type ActionContext,
  actionCount,
  createActionSpace,
  decodeAction,
  encodeAction,
  actionMask,
  actionToOrder,
} from './actionSpace';
export type {
  CreateOrderV2Request,
  CreateOrderV1Request,
  CreateOrderV2Response,
  CancelOrderResponse,
  AmendOrderRequest,
  AmendOrderResponse,
  DecreaseOrderRequest,
  DecreaseOrderResponse,
  KalshiOrderStatus,
  KalshiOrder,
  KalshiFill,
  KalshiMarketPosition,
  KalshiBalance,
  KalshiSettlement,
  KalshiError,
  PaperErrorCodeWire,
  PaperResponse,
  FillMessage,
  UserOrderMessage,
  MarketPositionMessage,
  UserEvent,
} from './kalshiTypes';
export { type PositionFeaturesBuffer, createPositionFeatures, writePositionFeatures } from './positionFeatures';
export {
  type DecisionCadence,
  type TradingSetup,
  type TradingSetupOptions,
  DEFAULT_SIZES_CENTI,
  resolveTradingSetup,
  tradingSetupToJson,
  parseTradingSetup,
  tradingSetupDifference,
} from './tradingSetup';
export {
  type PaperMarketConfig,
  type PaperClientOptions,
  type PaperClientState,
  PaperClient,
  createPaperClient,
} from './paperClient';
export {
  type DecisionOverride,
  type DecisionFill,
  type DecisionOutcome,
  type DecisionModel,
  type DecisionRecord,
  type EncodedDecision,
  encodeDecision,
  decodeDecision,
  observationHash,
} from './decisionRecord';
