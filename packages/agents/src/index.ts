/**
 * Reinforcement learning on `Float32Array`s with no runtime dependencies: MLPs, optimizers, the
 * actor-critic, rollouts and GAE, PPO and A2C (and the pieces of PPO's update for custom loops),
 * evaluation, baselines, and the checkpoint format. A TensorFlow.js backend is on the
 * `@kflow/agents/tfjs` subpath.
 *
 * @packageDocumentation
 * @module \@kflow/agents
 */
// Numerics
export { type ActivationCode, type Kernels, type Arena, type Backend, jsBackend } from './kernels';
export { type Activation, type MlpOptions, Mlp } from './mlp';
export { type OrthogonalInitOptions, orthogonal, initOrthogonal } from './orthogonal';
export { type Optimizer, type OptimizerState, type AdamOptions, type RmspropOptions, createAdam, createRmsprop, clipGradNorm } from './optimizers';
// Policies and rollouts
export { MultiCategorical } from './categorical';
export { type Policy, type ActorCriticOptions, ActorCritic } from './actorCritic';
export { type GaeOptions, computeGae } from './gae';
export { type RolloutStep, type RolloutBufferOptions, RolloutBuffer } from './rolloutBuffer';
export { type RolloutCollectorOptions, RolloutCollector } from './rolloutCollector';
export { type Minibatch, createMinibatch, loadMinibatch } from './minibatch';
export { type PpoLossOptions, type PpoLossMetrics, ppoLoss } from './ppoLoss';
// Algorithms
export {
  type DiscreteVectorEnv,
  type Schedule,
  type PolicyOptions,
  type TrainingEvent,
  type TrainingMetricName,
  type TrainingMetrics,
  TRAINING_METRIC_NAMES,
  type TrainerCommonOptions,
  type TrainResult,
  type TrainingState,
  scheduleValue,
  explainedVariance,
} from './training';
export { type PpoHyperparameters, type PpoOptions, PPO_DEFAULTS, PPO_ZOO_CARTPOLE, trainPpo } from './ppo';
export { type UpdateThreadsOptions, type BoundUpdate, UpdateThreads, createUpdateThreads } from './updateThreads';
// Evaluation
export { type EvaluateOptions, type EvaluateResult, evaluate } from './evaluate';
export { type AgentsErrorCode } from './errors';
export { type A2cHyperparameters, type A2cOptions, A2C_DEFAULTS, trainA2c } from './a2c';
// Checkpoints
export {
  CHECKPOINT_FORMAT_VERSION,
  type CheckpointActionSpace,
  type CheckpointManifest,
  type Checkpoint,
  type CheckpointExpectation,
  InferencePolicy,
  createCheckpoint,
  loadPolicy,
  resumeState,
} from './checkpoint';
export { writeCheckpoint, readCheckpoint, checkpointFiles } from './checkpointFiles';
export { isWasmSimdSupported, wasmBackend, defaultBackend } from './wasmBackend';
export {
  type BaselinePolicyOptions,
  type KalshiOracleOptions,
  type KalshiOracle,
  createRandomPolicy,
  createHoldPolicy,
  createKalshiOracle,
} from './baselines';
export { type KalshiHeuristicOptions, type KalshiEvaluation, createKalshiHeuristicPolicy, evaluateKalshi } from './kalshi';
export { type KalshiTrainingEnvOptions, type KalshiPpoPreset, KALSHI_PPO } from './kalshiPreset';
