/**
 * The data side of kflow: the authenticated Kalshi WebSocket client and collector, lossless write
 * queues, one SQL schema on PostgreSQL or embedded PGlite, the session loader and the model registry.
 * PostgreSQL itself lives on the `@kflow/ingest/pg` subpath.
 *
 * @packageDocumentation
 * @module \@kflow/ingest
 */
export { type IngestErrorCode } from './errors';
export {
  type Queryable,
  type IngestDatabase,
  type SqlValue,
  type ColumnType,
  type TableSpec,
  type BulkInsert,
  type BulkRows,
  type ColumnarRows,
  bulkRowReader,
  unnestInsert,
  fromQueryable,
} from './queryable';
export { type Timers, systemTimers } from './timers';
export { MIGRATIONS, migrate, schemaVersion } from './schema';
export { type OpenPgliteOptions, openPglite } from './pglite';
export { type WriteQueueMetrics, type WriteQueueOptions, WriteQueue } from './writeQueue';
export {
  type FrameMeta,
  type OrderbookWriteQueueOptions,
  type OrderbookWriteQueueMetrics,
  OrderbookWriteQueue,
  SNAPSHOT_TABLE,
  DELTA_TABLE,
  TRADE_TABLE,
  LIFECYCLE_TABLE,
} from './orderbookWriteQueue';
export { type TradingActionRecord, ActionWriteQueue, ACTION_TABLE } from './actionWriteQueue';
export {
  type TradingMode,
  type StartEpisodeOptions,
  type FinishEpisodeOptions,
  type EpisodeRecord,
  type EpisodeModel,
  type StoredAction,
  startEpisode,
  finishEpisode,
  listEpisodes,
  getEpisode,
  loadEpisodeActions,
} from './episodes';
export {
  type SessionEnvironment,
  type SessionStatus,
  type SessionCounts,
  type SessionOwner,
  type NewSession,
  type SessionUpdate,
  type OwnerCheckOptions,
  type InterruptedSession,
  currentOwner,
  createSessionRecord,
  updateSessionRecord,
  markInterrupted,
  reconcileSessions,
} from './sessionStore';
export { type RecoverSessionsOptions, type RecoveredSpill, type RecoveryReport, recoverSessions } from './recovery';
export { type SessionSummary, type SessionLoader, type SessionLoaderOptions, createSessionLoader } from './sessionLoader';
export {
  type ModelStatus,
  type ModelRecord,
  type RegisterModelOptions,
  type ModelDeployment,
  type WatchDeploymentOptions,
  MODEL_DEPLOYMENT_CHANNEL,
  type ModelRegistry,
  type ModelRegistryOptions,
  createModelRegistry,
} from './modelRegistry';
export { type KalshiSigner, type KalshiKeySource, KALSHI_WS_SIGN_PATH, createKalshiSigner } from './auth';
export {
  type KalshiChannel,
  type KalshiClientEvent,
  type ConnectionFailure,
  type FrameContext,
  type FrameSink,
  type KalshiClientStats,
  type KalshiClientOptions,
  KALSHI_WS_URLS,
  isKalshiEnvironment,
  KalshiClient,
} from './kalshiClient';
export { type CaptureRecorder, createCaptureRecorder } from './captureRecorder';
export { type CollectorOptions, type CollectorStatus, type Collector, createCollector } from './collector';
