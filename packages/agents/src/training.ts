import type { Box, Discrete, MultiDiscrete, VectorEnv } from '@kflow/env';
import { type Clock, type Rng, createRng } from '@kflow/orderbook';
import { ActorCritic } from './actorCritic';
import { agentsError } from './errors';
import type { Backend } from './kernels';
import type { Activation } from './mlp';
import type { Optimizer, OptimizerState } from './optimizers';
import { RolloutCollector } from './rolloutCollector';

/** A vector env with flat float observations and discrete actions. */
export type DiscreteVectorEnv = VectorEnv<Box, Discrete> | VectorEnv<Box, MultiDiscrete>;

/**
 * A hyperparameter that is constant or decays linearly with training progress, as SB3's
 * `linear_schedule`: `end + (start - end) · progressRemaining` (progress remaining goes 1 → 0).
 */
export type Schedule = number | { readonly kind: 'linear'; readonly start: number; readonly end?: number };

/**
 * Value of `schedule` when `progressRemaining` (1 at the start, 0 at the end) of training is left.
 *
 * @example
 * scheduleValue({ kind: 'linear', start: 1e-3 }, 0.25); // 2.5e-4
 */
export function scheduleValue(schedule: Schedule, progressRemaining: number): number {
  if (typeof schedule === 'number') return schedule;
  const end = schedule.end ?? 0;
  return end + (schedule.start - end) * progressRemaining;
}

/** Network options shared by PPO and A2C (SB3's `policy_kwargs`). */
export interface PolicyOptions {
  /** Default `[64, 64]`. */
  hiddenSizes?: readonly number[];
  /** Default `'tanh'`. */
  activation?: Activation;
  /** Share one trunk between policy and value (default false). */
  shared?: boolean;
}

/**
 * The metric names trainers report, CleanRL's (`ppo.py`) plus two of SB3's PPO logs (`charts/clip_range`,
 * `charts/gradient_steps`), in a fixed order (a CSV header, say).
 */
export const TRAINING_METRIC_NAMES = [
  'charts/episodic_return',
  'charts/episodic_length',
  'charts/SPS',
  'charts/learning_rate',
  'charts/clip_range',
  'charts/gradient_steps',
  'losses/value_loss',
  'losses/policy_loss',
  'losses/entropy',
  'losses/old_approx_kl',
  'losses/approx_kl',
  'losses/clipfrac',
  'losses/explained_variance',
] as const;

/** One of {@link TRAINING_METRIC_NAMES}. */
export type TrainingMetricName = (typeof TRAINING_METRIC_NAMES)[number];

/** Metric values by name; an event carries only the metrics of its kind. */
export type TrainingMetrics = Partial<Record<TrainingMetricName, number>>;

/**
 * A progress event. `'episode'` carries `charts/episodic_return` and `charts/episodic_length`; `'update'`
 * the losses (`losses/*`: PPO all of them, A2C policy, value, entropy and explained variance),
 * `charts/learning_rate`, PPO's `charts/clip_range` and `charts/gradient_steps`, and (with a clock)
 * `charts/SPS`.
 *
 * @example
 * trainPpo({ envs, totalTimesteps, seed: 0, onEvent: (e) => e.kind === 'update' && console.log(e.metrics['losses/approx_kl']) });
 */
export interface TrainingEvent {
  readonly kind: 'episode' | 'update';
  readonly timesteps: number;
  readonly episodes: number;
  readonly metrics: Readonly<TrainingMetrics>;
}

/** Options every on-policy trainer accepts. */
export interface TrainerCommonOptions {
  /**
   * The envs to collect rollouts from: a `SyncVectorEnv` (stepped in this thread) or an `AsyncVectorEnv`
   * (`createAsyncVectorEnv`, stepped in worker threads); with the same sub-envs and seed both give the same run.
   */
  envs: DiscreteVectorEnv;
  totalTimesteps: number;
  seed: number;
  policy?: PolicyOptions;
  /** Kernel backend for the networks (default `defaultBackend()`). */
  backend?: Backend;
  /** Recorded in the policy and its checkpoint (default `'none'`). */
  featureSetVersion?: string;
  /** Source of wall time for `charts/SPS`; without one no SPS is reported. */
  clock?: Clock;
  /** Receives progress as the run goes: each finished episode and each update's metrics. */
  onEvent?: (event: TrainingEvent) => void;
  /**
   * Continue a run from its checkpoint (`resumeState(checkpoint)`): its parameters, optimizer state and
   * counters; `totalTimesteps` counts the steps already taken, so schedules go on where they were. The envs
   * are reset with `seed + timesteps`: the resumed run is deterministic, not a replay of the uninterrupted one.
   */
  resume?: TrainingState;
  /** Called every `checkpointEvery` updates with the run so far (e.g. to write a checkpoint to resume from). */
  onCheckpoint?: (result: TrainResult<object>) => void;
  /** Updates between `onCheckpoint` calls (default 10). */
  checkpointEvery?: number;
}

/** Where a run stood at a checkpoint: what `resume` continues from. */
export interface TrainingState {
  /** The actor-critic's tensors, in `ActorCritic.parameters()` order. */
  readonly parameters: readonly Float32Array[];
  readonly optimizer: OptimizerState;
  readonly timesteps: number;
  readonly episodes: number;
  readonly updates: number;
}

/** What a training run produced: the policy and everything a checkpoint records about the run. */
export interface TrainResult<H> {
  readonly algorithm: 'ppo' | 'a2c';
  readonly policy: ActorCritic;
  readonly hyperparameters: H;
  readonly seed: number;
  readonly timesteps: number;
  readonly episodes: number;
  readonly updates: number;
  /** Mean return of the last (up to) 100 finished episodes; NaN if none finished. */
  readonly meanEpisodicReturn: number;
  /** Wall seconds (0 without a clock). */
  readonly seconds: number;
  /** The optimizer's state at the end: with the policy's parameters, what a resumed run continues from. */
  readonly optimizer: OptimizerState;
}

/** The action components of a vector env's action space (`[n]` or `nvec`). */
function actionNvec(envs: DiscreteVectorEnv): number[] {
  const space = envs.singleActionSpace;
  if (space.kind === 'discrete') {
    if (space.start !== 0) throw agentsError('UNSUPPORTED_SPACE', `Discrete spaces must start at 0, got ${space.start}`);
    return [space.n];
  }
  if (space.kind === 'multiDiscrete') return Array.from(space.nvec);
  throw agentsError('UNSUPPORTED_SPACE', `unsupported action space ${String(space)}`);
}

/**
 * `1 - Var(returns - values) / Var(returns)` over entries with `valid = 1` (NaN when returns are constant),
 * SB3's `explained_variance` of the value function on a rollout.
 *
 * @example
 * explainedVariance(buffer.values, buffer.returns, buffer.valid); // 1 = perfect, ≤ 0 = useless
 */
export function explainedVariance(values: Float32Array, returns: Float32Array, valid: Uint8Array): number {
  let n = 0;
  let sy = 0;
  let syy = 0;
  let sd = 0;
  let sdd = 0;
  for (let k = 0; k < values.length; k++) {
    if (valid[k] === 0) continue;
    const y = returns[k]!;
    const d = y - values[k]!;
    n++;
    sy += y;
    syy += y * y;
    sd += d;
    sdd += d * d;
  }
  const varY = syy / n - (sy / n) ** 2;
  const varD = sdd / n - (sd / n) ** 2;
  return varY === 0 ? Number.NaN : 1 - varD / varY;
}

export function checkPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) throw agentsError('INVALID_OPTIONS', `${name} must be a positive integer, got ${value}`);
}

// ── Pieces PPO and A2C share (internal; the loops themselves stay in ppo.ts and a2c.ts) ──────────────

/** Every field of `defaults`, overridden by the ones `options` sets. */
export function resolveHyperparameters<H extends object>(defaults: Readonly<H>, options: Partial<H>): H {
  const hp = { ...defaults } as H;
  for (const key of Object.keys(defaults) as (keyof H)[]) {
    const value = options[key];
    if (value !== undefined) hp[key] = value as H[keyof H];
  }
  return hp;
}

/** The state of one on-policy training run: policy, rollout collection, reporting. */
export interface OnPolicyRun {
  readonly policy: ActorCritic;
  readonly collector: RolloutCollector;
  /** The run's root stream, after the policy-init and action-sampling streams were forked off it. */
  readonly rng: Rng;
  /** Fraction of `totalTimesteps` still to go after the last rollout (SB3's `progress_remaining`). */
  progressRemaining(): number;
  /** Gives `optimizer` the resumed run's state, if any. */
  resumeOptimizer(optimizer: Optimizer): void;
  /**
   * Emits an `'update'` event with `metrics` plus `losses/explained_variance` and, with a clock,
   * `charts/SPS`; then, every `checkpointEvery` updates, calls `onCheckpoint`.
   */
  reportUpdate(metrics: TrainingMetrics, checkpoint: () => TrainResult<object>): void;
  /** The run's result; `updates` counts the resumed run's too. */
  finish<H>(algorithm: 'ppo' | 'a2c', hyperparameters: H, optimizer: Optimizer): TrainResult<H>;
}

/**
 * Seeds the run, builds and initialises the actor-critic (for batches up to `maxBatch`) and a rollout
 * collector (with its rollout in shared memory when `sharedBuffer`) whose finished episodes become
 * `'episode'` events.
 */
export function startOnPolicyRun(
  options: TrainerCommonOptions,
  rollout: { readonly nSteps: number; readonly gamma: number; readonly gaeLambda: number },
  maxBatch: number,
  sharedBuffer = false,
): OnPolicyRun {
  const { envs, totalTimesteps, seed, clock, onEvent, resume } = options;
  const checkpointEvery = options.checkpointEvery ?? 10;
  checkPositiveInteger('checkpointEvery', checkpointEvery);
  const rng = createRng(seed);
  const initRng = rng.fork();
  const actionRng = rng.fork();
  const policy = new ActorCritic({
    observationSize: envs.observationSize,
    nvec: actionNvec(envs),
    maxBatch: Math.max(maxBatch, envs.numEnvs),
    ...(options.policy?.hiddenSizes === undefined ? {} : { hiddenSizes: options.policy.hiddenSizes }),
    ...(options.policy?.activation === undefined ? {} : { activation: options.policy.activation }),
    ...(options.policy?.shared === undefined ? {} : { shared: options.policy.shared }),
    ...(options.backend === undefined ? {} : { backend: options.backend }),
    ...(options.featureSetVersion === undefined ? {} : { featureSetVersion: options.featureSetVersion }),
  });
  policy.init(initRng);
  if (resume !== undefined) {
    const tensors = policy.parameters();
    if (resume.parameters.length !== tensors.length || resume.parameters.some((p, k) => p.length !== tensors[k]!.length)) {
      throw agentsError(
        'CHECKPOINT_MISMATCH',
        `the checkpoint's network has tensors of [${resume.parameters.map((p) => p.length)}] floats, this run's [${tensors.map((t) => t.length)}]: resume with the same network (policy options)`,
      );
    }
    tensors.forEach((t, k) => t.set(resume.parameters[k]!));
  }
  const collector: RolloutCollector = new RolloutCollector({
    envs,
    policy,
    nSteps: rollout.nSteps,
    gamma: rollout.gamma,
    gaeLambda: rollout.gaeLambda,
    seed: resume === undefined ? seed : seed + resume.timesteps,
    rng: actionRng,
    sharedBuffer,
    onEpisode: (episodicReturn, length) =>
      onEvent?.({
        kind: 'episode',
        timesteps: collector.timesteps,
        episodes: collector.episodes,
        metrics: { 'charts/episodic_return': episodicReturn, 'charts/episodic_length': length },
      }),
  });
  if (resume !== undefined) {
    collector.timesteps = resume.timesteps;
    collector.episodes = resume.episodes;
  }
  const startMs = clock?.now() ?? 0;
  const startTimesteps = collector.timesteps;
  const updatesBefore = resume?.updates ?? 0;
  let updates = updatesBefore;
  const seconds = () => (clock === undefined ? 0 : (clock.now() - startMs) / 1000);
  return {
    policy,
    collector,
    rng,
    progressRemaining: () => Math.max(0, 1 - collector.timesteps / totalTimesteps),
    resumeOptimizer(optimizer) {
      if (resume !== undefined) optimizer.importState(resume.optimizer);
    },
    reportUpdate(metrics, checkpoint) {
      const { buffer } = collector;
      updates++;
      metrics['losses/explained_variance'] = explainedVariance(buffer.values, buffer.returns, buffer.valid);
      if (clock !== undefined) metrics['charts/SPS'] = (collector.timesteps - startTimesteps) / Math.max(1e-9, seconds());
      onEvent?.({ kind: 'update', timesteps: collector.timesteps, episodes: collector.episodes, metrics });
      if (options.onCheckpoint !== undefined && (updates - updatesBefore) % checkpointEvery === 0) options.onCheckpoint(checkpoint());
    },
    finish: (algorithm, hyperparameters, optimizer) => ({
      algorithm,
      policy,
      hyperparameters,
      seed,
      timesteps: collector.timesteps,
      episodes: collector.episodes,
      updates,
      meanEpisodicReturn: collector.meanRecentReturn,
      seconds: seconds(),
      optimizer: optimizer.exportState(),
    }),
  };
}
