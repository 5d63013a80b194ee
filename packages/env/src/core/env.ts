import type { Box, Discrete, Space, SpaceValue } from './spaces';

/** What a finished episode looked like; set as `info.episode` by `RecordEpisodeStatistics`. */
export interface EpisodeStatistics {
  /** Undiscounted return: the sum of the rewards of the episode. */
  readonly r: number;
  /** Length in steps. */
  readonly l: number;
  /** Elapsed seconds on the wrapper's clock (0 when no clock was given). */
  readonly t: number;
}

/**
 * The `info` object of `reset`/`step`. Envs extend it with their own typed fields.
 *
 * - `actionMask`: for `Discrete(n)` action spaces, a `Uint8Array(n)` with 1 for each action that is
 *   legal in the returned state (index `i` is action `start + i`); for `MultiDiscrete(nvec)`, a
 *   `Uint8Array(sum(nvec))` concatenating one such mask per element. Absent means every action is legal.
 * - `episode`: set by `RecordEpisodeStatistics` on the step that ends an episode.
 *
 * Info objects may be shared (a frozen empty object, a buffer reused between steps): never mutate
 * one; wrappers that add keys create a new object.
 */
export interface EnvInfo {
  readonly actionMask?: Uint8Array;
  readonly episode?: EpisodeStatistics;
  readonly [key: string]: unknown;
}

/** Arguments of `Env.reset`. */
export interface ResetOptions {
  /**
   * Reseeds the env's generator. Same seed → same initial observation and, under the same actions, the
   * same trajectory (including later unseeded resets). Without a seed the env continues its stream.
   */
  readonly seed?: number;
  /** Env-specific reset options. */
  readonly options?: Readonly<Record<string, unknown>>;
}

/** Result of `Env.reset`. */
export interface ResetResult<Obs, I extends EnvInfo = EnvInfo> {
  /** The first observation; owned by the env (see `Env`). */
  readonly observation: Obs;
  readonly info: I;
}

/** Result of `Env.step` (Gymnasium 1.x: `terminated` and `truncated` are separate). */
export interface StepResult<Obs, I extends EnvInfo = EnvInfo> {
  /** The observation after the action; owned by the env (see `Env`). */
  readonly observation: Obs;
  /** Finite reward for this transition. */
  readonly reward: number;
  /**
   * The episode reached a terminal state of the MDP (e.g. the pole fell, the market settled): the value
   * of `observation` is 0, do not bootstrap.
   */
  readonly terminated: boolean;
  /**
   * The episode was cut short by something outside the MDP (time limit, end of a data window): the
   * value of `observation` is not 0, bootstrap from it.
   */
  readonly truncated: boolean;
  readonly info: I;
}

/** Static description of a registered env (as Gymnasium's `EnvSpec`). */
export interface EnvSpec {
  readonly id: string;
  /** Steps after which the episode is truncated, if any. */
  readonly maxEpisodeSteps?: number;
  /** Mean return above which the task counts as solved, if defined. */
  readonly rewardThreshold?: number;
}

/**
 * The env contract: Gymnasium 1.x semantics with TypeScript objects.
 *
 * - `reset({ seed?, options? })` starts an episode and must be called before the first `step`.
 * - `step(action)` advances one step. Calling it before the first `reset` or after a step that returned
 *   `terminated` or `truncated` (without a new `reset`) throws `KflowError('ENV_NEEDS_RESET')`.
 * - The returned `observation` buffer is OWNED BY THE ENV and may be overwritten by the next `reset` or
 *   `step` (envs reuse it to avoid allocating per step). Copy it if you keep it; rollout buffers and
 *   `SyncVectorEnv` copy anyway. The result object itself is fresh on every call.
 * - Actions outside `actionSpace` throw `KflowError('INVALID_ACTION')`.
 * - Randomness comes only from the seed given to `reset` (no `Math.random()`), so runs are reproducible.
 *
 * Type parameters are the spaces (not the values), so `env.actionSpace.n` and
 * `env.observationSpace.shape` are typed; `SpaceValue<O>` is the observation type.
 *
 * @example
 * const env = createCartPole();
 * let { observation } = env.reset({ seed: 42 });
 * for (;;) {
 *   const step = env.step(observation[2]! > 0 ? 1 : 0);
 *   observation = step.observation;
 *   if (step.terminated || step.truncated) break;
 * }
 */
export interface Env<O extends Space = Box, A extends Space = Discrete, I extends EnvInfo = EnvInfo> {
  readonly observationSpace: O;
  readonly actionSpace: A;
  readonly spec?: EnvSpec | undefined;
  readonly metadata?: Readonly<Record<string, unknown>> | undefined;
  /** Starts an episode (reseeding the env when `options.seed` is given) and returns the first observation and its info. */
  reset(options?: ResetOptions): ResetResult<SpaceValue<O>, I>;
  /** Applies one action and returns the next observation, the reward and whether the episode terminated (an end state of the MDP) or was truncated (a time limit). */
  step(action: SpaceValue<A>): StepResult<SpaceValue<O>, I>;
  /** Releases resources; the env must not be used afterwards. Idempotent. */
  close(): void;
}

/** An env with any spaces (for code such as `checkEnv` that inspects spaces at runtime). */
export type AnyEnv = Env<Space, Space, EnvInfo>;

/** A function that builds a fresh env (used by `SyncVectorEnv`). */
export type EnvFactory<O extends Space = Box, A extends Space = Discrete, I extends EnvInfo = EnvInfo> = (
  index: number,
) => Env<O, A, I>;

/** The frozen empty info object envs may return when they have nothing to report. */
export const EMPTY_INFO: EnvInfo = Object.freeze({});
