import type { Box, Discrete, MultiDiscrete, VectorEnv } from '@kflow/env';
import type { Clock, Rng } from '@kflow/orderbook';
import { ActorCritic } from './actorCritic';
import { agentsError } from './errors';
import type { Backend } from './kernels';
import type { Activation } from './mlp';

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
 * A progress event. Metric names follow CleanRL: `charts/episodic_return`, `charts/episodic_length` on
 * `'episode'`; `losses/policy_loss`, `losses/value_loss`, `losses/entropy`, `losses/approx_kl`,
 * `losses/clip_fraction`, `losses/explained_variance`, `charts/learning_rate` and (with a clock)
 * `charts/SPS` on `'update'`.
 */
export interface TrainingEvent {
  readonly kind: 'episode' | 'update';
  readonly timesteps: number;
  readonly episodes: number;
  readonly metrics: Readonly<Record<string, number>>;
}

/** Options every on-policy trainer accepts. */
export interface TrainerCommonOptions {
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
  onEvent?: (event: TrainingEvent) => void;
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
}

/** The action components of a vector env's action space (`[n]` or `nvec`). */
export function actionNvec(envs: DiscreteVectorEnv): number[] {
  const space = envs.singleActionSpace;
  if (space.kind === 'discrete') {
    if (space.start !== 0) throw agentsError('UNSUPPORTED_SPACE', `Discrete spaces must start at 0, got ${space.start}`);
    return [space.n];
  }
  if (space.kind === 'multiDiscrete') return Array.from(space.nvec);
  throw agentsError('UNSUPPORTED_SPACE', `unsupported action space ${String(space)}`);
}

/** Builds and initialises the actor-critic for `envs`. */
export function createActorCritic(options: TrainerCommonOptions, maxBatch: number, rng: Rng): ActorCritic {
  const policy = new ActorCritic({
    observationSize: options.envs.observationSize,
    nvec: actionNvec(options.envs),
    maxBatch,
    ...(options.policy?.hiddenSizes === undefined ? {} : { hiddenSizes: options.policy.hiddenSizes }),
    ...(options.policy?.activation === undefined ? {} : { activation: options.policy.activation }),
    ...(options.policy?.shared === undefined ? {} : { shared: options.policy.shared }),
    ...(options.backend === undefined ? {} : { backend: options.backend }),
    ...(options.featureSetVersion === undefined ? {} : { featureSetVersion: options.featureSetVersion }),
  });
  policy.init(rng);
  return policy;
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
