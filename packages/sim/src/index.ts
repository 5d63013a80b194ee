/**
 * A seeded Kalshi-like market simulator, simulated captures, and a Kalshi-protocol WebSocket exchange
 * server on loopback.
 *
 * @packageDocumentation
 * @module \@kflow/sim
 */
export type { SimErrorCode } from './errors';
export { type TickStructure, type TickGrid, type PriceRange, createTickGrid } from './tickGrid';
export {
  type SimConfig,
  type SimConfigOverrides,
  type PresetName,
  type LatentConfig,
  type MakerConfig,
  type TakerConfig,
  type BookFlowConfig,
  type RegimeConfig,
  SIM_PRESETS,
  resolveSimConfig,
  validateSimConfig,
} from './config';
export {
  type Simulator,
  type SimulatorOptions,
  type SimEvent,
  type SimTradeEvent,
  type SimLifecycleEvent,
  type SimMarket,
  type OracleRecord,
  createSimulator,
} from './simulator';
export { type LatentIndex, createLatentIndex } from './latentIndex';
export {
  type DomainRandomization,
  type NumberRange,
  DEFAULT_DOMAIN_RANDOMIZATION,
  sampleSimConfig,
} from './randomize';
export {
  CAPTURE_SIDS,
  type CaptureOptions,
  type CaptureSummary,
  type CaptureMarketSummary,
  generateCapture,
} from './capture';
export { KALSHI_WS_PATH, type AuthFailure, type VerifyRequestOptions, verifyKalshiRequest } from './auth';
export {
  type SpeedFactor,
  type ExchangeServerOptions,
  type ExchangeFaults,
  type ExchangeSessionResult,
  type ExchangeServer,
  type LocalExchangeCredentials,
  createExchangeServer,
  startLocalExchange,
} from './exchangeServer';
export { type EdgeReport, type MarketSamples, measureEdge, sampleSession } from './edgeReport';
