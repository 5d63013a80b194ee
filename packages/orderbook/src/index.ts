export { KflowError, isKflowError, type OrderbookErrorCode } from './errors';
export {
  PRICE_SCALE,
  COUNT_SCALE,
  MICROS_PER_DOLLAR,
  PRICE_ONE,
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
  priceToProbability,
} from './units';
export { type Rng, createRng, rngFromState, type Clock, systemClock } from './rng';
export { OrderBook, type BookView, type Side, type Level, type BookUpdateResult } from './orderBook';
export {
  type BookEvent,
  type SnapshotEvent,
  type DeltaEvent,
  type TradeEvent,
  applyBookEvent,
} from './bookEvent';
export {
  EventKind,
  type BookSnapshot,
  type MarketSeries,
  type SessionData,
  type Settlement,
  type SettlementResult,
  createSessionDataBuilder,
} from './sessionData';
