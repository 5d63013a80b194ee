/**
 * A Gymnasium-compatible core (spaces, the `Env` contract, wrappers, a vector env, `checkEnv`,
 * CartPole-v1) and the market-agnostic Kalshi env that replays recorded sessions.
 *
 * @packageDocumentation
 * @module \@kflow/env
 */
// Gymnasium-compatible core: spaces, the Env contract, wrappers, vector env, checkEnv, CartPole-v1.
export { type EnvErrorCode } from './core/errors';
export {
  type Space,
  type SpaceKind,
  type SpaceDtype,
  type BoxDtype,
  type BoxArray,
  type SpaceValue,
  type AnySpace,
  Discrete,
  Box,
  MultiDiscrete,
  countAllowed,
  flatDim,
} from './core/spaces';
export {
  type Env,
  type AnyEnv,
  type EnvFactory,
  type EnvInfo,
  type EnvSpec,
  type EpisodeStatistics,
  type ResetOptions,
  type ResetResult,
  type StepResult,
  EMPTY_INFO,
} from './core/env';
export {
  type VectorEnv,
  type VectorResetOptions,
  type VectorResetResult,
  type VectorStepResult,
  SyncVectorEnv,
} from './core/syncVectorEnv';
export {
  type AsyncVectorEnv,
  type AsyncVectorEnvOptions,
  type WorkerEnvSetup,
  type WorkerEnvSpec,
  createAsyncVectorEnv,
} from './core/asyncVectorEnv';
export { cartPoleWorkerEnv, setupCartPoleWorkerEnvs } from './core/cartPoleWorkerEnv';
export { Wrapper } from './core/wrapper';
export { type TimeLimitOptions, TimeLimit } from './core/timeLimit';
export { type RecordEpisodeStatisticsOptions, RecordEpisodeStatistics } from './core/recordEpisodeStatistics';
export { type RunningMeanStdState, RunningMeanStd } from './core/runningMeanStd';
export { type NormalizeObservationOptions, NormalizeObservation } from './core/normalizeObservation';
export { type NormalizeRewardOptions, NormalizeReward } from './core/normalizeReward';
export { type EnforceActionMaskOptions, EnforceActionMask } from './core/enforceActionMask';
export { type CheckEnvOptions, type CheckEnvReport, checkEnv } from './core/checkEnv';
export {
  type CartPoleOptions,
  CartPoleEnv,
  createCartPole,
  CARTPOLE_THETA_THRESHOLD,
  CARTPOLE_X_THRESHOLD,
} from './core/cartPole';

// Market-agnostic Kalshi env (src/kalshi/): exports go below this line.
export { type DecisionCadence, type TradingSetup, DEFAULT_SIZES_CENTI } from '@kflow/paper';
export {
  type KalshiEnvOptions,
  type KalshiEnvInfo,
  type KalshiEnvMetadata,
  type KalshiFill,
  MarketAgnosticKalshiEnv,
  createKalshiEnv,
  kalshiEnvMetadata,
} from './kalshi/kalshiEnv';
export {
  type MarketStats,
  type PoolMarket,
  type MarketPool,
  createMarketPool,
  replaySeriesEvent,
  startMarket,
} from './kalshi/marketPool';
export { type MarketSampler, type CurriculumSampler, uniformSampler, curriculumSampler } from './kalshi/marketSampler';
export { type SyntheticSessionOptions, createSyntheticSession } from './kalshi/syntheticSession';
export { type KalshiWorkerEnvOptions, kalshiWorkerEnv, setupKalshiWorkerEnvs } from './kalshi/kalshiWorkerEnv';
export {
  type AuditPolicy,
  type AuditMismatch,
  type AuditReport,
  type AuditOptions,
  auditDecisions,
  envOptionsFromSetup,
} from './kalshi/audit';
