import type { Env, EnvFactory, EnvInfo } from './env';
import { envError } from './errors';
import { type AnySpace, type Box, type Discrete, type Space, type SpaceValue, describeValue, flatDim } from './spaces';

/** Arguments of `VectorEnv.reset`. */
export interface VectorResetOptions {
  /** Sub-env `i` is reset with seed `seed + i` (as Gymnasium). Without it each continues its stream. */
  readonly seed?: number;
  /** Passed to every sub-env's `reset`. */
  readonly options?: Readonly<Record<string, unknown>>;
}

/** Batched result of `VectorEnv.reset`. All arrays are owned by the vector env and reused. */
export interface VectorResetResult<I extends EnvInfo = EnvInfo> {
  /** `numEnvs × observationSize` observations, row `i` for sub-env `i`. */
  readonly observations: Float32Array;
  /** Per-env info objects of the last reset/step. */
  readonly infos: readonly I[];
  /**
   * `numEnvs × n` action masks for `Discrete(n)` action spaces, `numEnvs × sum(nvec)` for
   * `MultiDiscrete(nvec)` (row `i` = `infos[i].actionMask`, or all ones when the sub-env gives none);
   * `undefined` for `Box` action spaces. Rows are copied, not validated (see `EnforceActionMask`).
   */
  readonly actionMasks: Uint8Array | undefined;
}

/**
 * Batched result of `VectorEnv.step`. All arrays are owned by the vector env and overwritten by the
 * next `reset`/`step`; the same object is returned every time.
 */
export interface VectorStepResult<I extends EnvInfo = EnvInfo> extends VectorResetResult<I> {
  readonly rewards: Float64Array;
  /** 1 where the sub-env's episode terminated on this step (0/1 as `Uint8Array`). */
  readonly terminated: Uint8Array;
  /** 1 where the sub-env's episode was truncated on this step. */
  readonly truncated: Uint8Array;
  /**
   * 1 where this step did not step the sub-env but reset it (its previous step ended an episode): the
   * action was ignored, `observations` holds the reset observation, reward is 0 and terminated/truncated
   * are 0. Learners must not treat (previous observation, action) → this entry as a transition.
   */
  readonly autoreset: Uint8Array;
}

/**
 * `numEnvs` copies of an env stepped as one batch, with Gymnasium 1.x NEXT-STEP autoreset.
 *
 * Autoreset, step by step for sub-env `i`:
 * 1. `step` returns `terminated[i]` or `truncated[i] = 1`. Row `i` of `observations` is the FINAL
 *    observation of that episode (there is no separate `finalObservation`), and `infos[i]` is the final
 *    info (with `episode` statistics under `RecordEpisodeStatistics`).
 * 2. The next `step` ignores `actions[i]`, resets sub-env `i` and returns its first observation in row
 *    `i`, with reward 0, terminated/truncated 0 and `autoreset[i] = 1`.
 *
 * For a learner: on a step with `truncated[i] = 1` bootstrap from `V(observations row i)` of THAT step
 * (it is the final observation); on `terminated[i] = 1` the next value is 0. Mask out entries with
 * `autoreset[i] = 1` (they are not transitions of the MDP).
 */
export interface VectorEnv<O extends Box = Box, A extends Space = Discrete, I extends EnvInfo = EnvInfo> {
  readonly numEnvs: number;
  readonly singleObservationSpace: O;
  readonly singleActionSpace: A;
  /** Elements per observation row (`singleObservationSpace.size`). */
  readonly observationSize: number;
  readonly autoresetMode: 'next-step';
  /** Resets every sub-env (seed `i` of sub-env `i` is `seed + i`) and returns the stacked observations. */
  reset(options?: VectorResetOptions): VectorResetResult<I>;
  /** `actions[i]` goes to sub-env `i` (e.g. an `Int32Array` for `Discrete` actions). */
  step(actions: ArrayLike<SpaceValue<A>>): VectorStepResult<I>;
  /** Closes every sub-env. */
  close(): void;
}

/**
 * Steps its sub-envs one after another in this thread. `step` allocates nothing of its own: observations
 * are copied into one preallocated `Float32Array`, and the same result object is returned each time.
 *
 * @example
 * const envs = new SyncVectorEnv(Array.from({ length: 8 }, () => () => createCartPole()));
 * envs.reset({ seed: 1 });
 * const actions = new Int32Array(8);
 * const { observations, rewards, terminated, truncated, autoreset } = envs.step(actions);
 */
export class SyncVectorEnv<O extends Box = Box, A extends Space = Discrete, I extends EnvInfo = EnvInfo>
  implements VectorEnv<O, A, I>
{
  readonly numEnvs: number;
  readonly singleObservationSpace: O;
  readonly singleActionSpace: A;
  readonly observationSize: number;
  readonly autoresetMode = 'next-step' as const;
  /** The sub-envs, in batch order (e.g. to read wrapper state). */
  readonly envs: readonly Env<O, A, I>[];

  private readonly result: {
    observations: Float32Array;
    rewards: Float64Array;
    terminated: Uint8Array;
    truncated: Uint8Array;
    autoreset: Uint8Array;
    actionMasks: Uint8Array | undefined;
    infos: I[];
  };
  /** Length of one action-mask row (0 when masks do not apply). */
  private readonly maskSize: number;
  /** 1 where the sub-env's last step ended an episode, so the next step resets it. */
  private readonly pendingReset: Uint8Array;
  /** 1 where the row of `actionMasks` holds a sub-env's mask (else it is all ones). */
  private readonly maskedRows: Uint8Array;
  private started = false;
  private closed = false;

  constructor(factories: readonly EnvFactory<O, A, I>[]) {
    if (factories.length === 0) throw envError('INVALID_ARGUMENT', 'SyncVectorEnv needs at least one env factory');
    this.envs = factories.map((make, i) => make(i));
    const first = this.envs[0]!;
    this.singleObservationSpace = first.observationSpace;
    this.singleActionSpace = first.actionSpace;
    const obsSpace: Space = first.observationSpace;
    if (obsSpace.kind !== 'box' || obsSpace.dtype !== 'float32') {
      throw envError('INVALID_ARGUMENT', `SyncVectorEnv needs a Box(float32) observation space, got ${obsSpace}`);
    }
    this.envs.forEach((env, i) => {
      if (!env.observationSpace.equals(first.observationSpace) || !env.actionSpace.equals(first.actionSpace)) {
        throw envError(
          'INVALID_ARGUMENT',
          `sub-env ${i} has spaces ${env.observationSpace} / ${env.actionSpace}, sub-env 0 has ${first.observationSpace} / ${first.actionSpace}`,
        );
      }
    });
    this.numEnvs = this.envs.length;
    this.observationSize = this.singleObservationSpace.size;
    const actionSpace: Space = this.singleActionSpace;
    this.maskSize = actionSpace.kind === 'box' ? 0 : flatDim(actionSpace as AnySpace);
    const n = this.numEnvs;
    this.pendingReset = new Uint8Array(n);
    this.maskedRows = new Uint8Array(n);
    this.result = {
      observations: new Float32Array(n * this.observationSize),
      rewards: new Float64Array(n),
      terminated: new Uint8Array(n),
      truncated: new Uint8Array(n),
      autoreset: new Uint8Array(n),
      actionMasks: this.maskSize > 0 ? new Uint8Array(n * this.maskSize).fill(1) : undefined,
      infos: [],
    };
  }

  /** Resets every sub-env (seed `i` of sub-env `i` is `seed + i`) and returns the stacked observations. */
  reset(options: VectorResetOptions = {}): VectorResetResult<I> {
    this.assertOpen();
    const r = this.result;
    for (let i = 0; i < this.numEnvs; i++) {
      const sub: { seed?: number; options?: Readonly<Record<string, unknown>> } = {};
      if (options.seed !== undefined) sub.seed = options.seed + i;
      if (options.options !== undefined) sub.options = options.options;
      const { observation, info } = this.envs[i]!.reset(sub);
      this.write(i, observation, info);
    }
    r.rewards.fill(0);
    r.terminated.fill(0);
    r.truncated.fill(0);
    r.autoreset.fill(0);
    this.pendingReset.fill(0);
    this.started = true;
    return r;
  }

  step(actions: ArrayLike<SpaceValue<A>>): VectorStepResult<I> {
    this.assertOpen();
    if (!this.started) throw envError('ENV_NEEDS_RESET', 'SyncVectorEnv.step called before reset');
    if (actions.length !== this.numEnvs) {
      throw envError('INVALID_ACTION', `expected ${this.numEnvs} actions, got ${describeValue(actions)}`);
    }
    const r = this.result;
    for (let i = 0; i < this.numEnvs; i++) {
      const env = this.envs[i]!;
      if (this.pendingReset[i] === 1) {
        const { observation, info } = env.reset();
        this.write(i, observation, info);
        r.rewards[i] = 0;
        r.terminated[i] = 0;
        r.truncated[i] = 0;
        r.autoreset[i] = 1;
        this.pendingReset[i] = 0;
      } else {
        const { observation, reward, terminated, truncated, info } = env.step(actions[i]!);
        this.write(i, observation, info);
        r.rewards[i] = reward;
        r.terminated[i] = terminated ? 1 : 0;
        r.truncated[i] = truncated ? 1 : 0;
        r.autoreset[i] = 0;
        this.pendingReset[i] = terminated || truncated ? 1 : 0;
      }
    }
    return r;
  }

  /** Closes every sub-env; later calls do nothing. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const env of this.envs) env.close();
  }

  private write(i: number, observation: SpaceValue<O>, info: I): void {
    const obs = observation as Float32Array;
    const size = this.observationSize;
    if (obs.length !== size) {
      throw envError('INVALID_ARGUMENT', `sub-env ${i} returned an observation of ${obs.length} elements, expected ${size}`);
    }
    // A plain loop beats TypedArray.set for the few elements of typical observations.
    const out = this.result.observations;
    const offset = i * size;
    for (let j = 0; j < size; j++) out[offset + j] = obs[j]!;
    this.result.infos[i] = info;
    const masks = this.result.actionMasks;
    if (masks === undefined) return;
    const k = this.maskSize;
    const mask = info.actionMask;
    if (mask === undefined) {
      // Rows stay all ones until a sub-env sends a mask, so mask-free envs pay nothing here.
      if (this.maskedRows[i] === 1) masks.fill(1, i * k, (i + 1) * k);
      this.maskedRows[i] = 0;
    } else if (mask.length === k) {
      masks.set(mask, i * k);
      this.maskedRows[i] = 1;
    } else {
      throw envError('INVALID_ACTION_MASK', `sub-env ${i} returned an action mask of length ${mask.length}, expected ${k}`);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw envError('INVALID_ARGUMENT', 'SyncVectorEnv is closed');
  }
}
