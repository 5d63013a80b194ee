/**
 * Exact units, Kalshi WebSocket frame parsing, order books, sequence tracking, the shared book state,
 * normalized book events, replay and the columnar `SessionData` format.
 *
 * @packageDocumentation
 * @module \@kflow/orderbook
 */
export { KflowError, isKflowError, type OrderbookErrorCode } from './errors';
export {
  PRICE_SCALE,
  COUNT_SCALE,
  MICROS_PER_DOLLAR,
  PRICE_ONE,
  MAX_COUNT_CENTI,
  type WireNumber,
  parseFixed,
  parsePriceUnits,
  parseCountCenti,
  parseMicros,
  centsToPriceUnits,
  contractsToCountCenti,
  formatPrice,
  formatCount,
  formatMicros,
} from './units';
export { type Rng, type RngState, createRng, rngFromState, uuidFromRng, type Clock, systemClock, fnv1a32 } from './rng';
export { OrderBook, type BookView, type Side, type Level, type BookUpdateResult } from './orderBook';
export {
  type BookEvent,
  type SnapshotEvent,
  type DeltaEvent,
  type TradeEvent,
  applyBookEvent,
  frameToBookEvent,
} from './bookEvent';
export {
  EventKind,
  type BookSnapshot,
  type MarketSeries,
  type SessionData,
  type Settlement,
  type SettlementResult,
  type SessionDataBuilder,
  createSessionDataBuilder,
  seriesEvent,
  sessionEvents,
} from './sessionData';
export {
  type KalshiFrame,
  type KalshiFrameType,
  type SubscribedFrame,
  type UnsubscribedFrame,
  type OkFrame,
  type SubscriptionInfo,
  type ErrorFrame,
  type OrderbookSnapshotFrame,
  type OrderbookDeltaFrame,
  type TradeFrame,
  type TickerFrame,
  type FillFrame,
  type MarketPositionFrame,
  type UserOrderFrame,
  type MarketLifecycleFrame,
  type UnknownFrame,
  type SafeParseResult,
  parseFrame,
  safeParseFrame,
} from './frames';
export { type SequenceStatus, SequenceTracker } from './sequenceTracker';
export {
  type FrameOutcome,
  type ApplyResult,
  type StateCounters,
  type BookListener,
  type BookEventListener,
  type SharedOrderbookStateOptions,
  SharedOrderbookState,
  createSharedOrderbookState,
} from './sharedOrderbookState';
export {
  type CaptureLine,
  type ReplayCounters,
  type ReplayOptions,
  type ReplayResult,
  type SessionFromCaptureOptions,
  type CaptureSessionBuilder,
  parseCaptureLine,
  replay,
  replayAsync,
  createCaptureSessionBuilder,
  sessionDataFromCapture,
  sessionDataFromCaptureSync,
  settlementOf,
} from './replay';
