import type { Rng } from '@kflow/orderbook';
import { MultiCategorical } from './categorical';
import { agentsError } from './errors';
import type { Backend } from './kernels';
import { type Activation, Mlp } from './mlp';
import { initOrthogonal } from './orthogonal';

/**
 * What an actor needs from a policy (docs/architecture.md §4.2): a pure observation → action function plus the
 * metadata to check it against the running feature builder. Anything of this shape can be served.
 */
export interface Policy {
  readonly observationSize: number;
  /** Number of discrete actions (for `MultiDiscrete`, the product of `nvec`). */
  readonly actionCount: number;
  /** Version of the observation builder the policy was trained with (`'none'` for non-Kalshi envs). */
  readonly featureSetVersion: string;
  /** The action to take on `observation`, among those `mask` allows (1 = allowed; every action without a mask). */
  act(observation: Float32Array, mask?: Uint8Array): number;
}

/** Options of {@link ActorCritic}. */
export interface ActorCriticOptions {
  observationSize: number;
  /** Sizes of the action components: `[n]` for `Discrete(n)`, `nvec` for `MultiDiscrete`. */
  nvec: readonly number[];
  /** Default `[64, 64]` (SB3's MlpPolicy). */
  hiddenSizes?: readonly number[];
  /** Default `'tanh'`. */
  activation?: Activation;
  /** One trunk with a logits+value output layer instead of separate networks (default false, as SB3). */
  shared?: boolean;
  backend?: Backend;
  /** Largest batch to preallocate for (minibatch size or env count). */
  maxBatch?: number;
  /** Default `'none'`. */
  featureSetVersion?: string;
}

/**
 * The actor-critic of PPO/A2C: a categorical policy over discrete action components and a state-value
 * function, as separate MLPs (SB3's default) or one shared trunk. Training goes through
 * `evaluateActions` then `backward`; collection through `step`; evaluation through `act`.
 *
 * @example
 * const ac = new ActorCritic({ observationSize: 4, nvec: [2] });
 * ac.init(createRng(0));
 * const action = ac.act(observation);
 */
export class ActorCritic implements Policy {
  readonly observationSize: number;
  readonly nvec: readonly number[];
  readonly actionCount: number;
  readonly featureSetVersion: string;
  readonly hiddenSizes: readonly number[];
  readonly activation: Activation;
  readonly shared: boolean;
  /** Outputs the logits, or logits followed by the value when `shared`. */
  readonly policyNet: Mlp;
  /** The value network; undefined when `shared`. */
  readonly valueNet: Mlp | undefined;
  readonly dist: MultiCategorical;
  private logits = new Float32Array(0);
  private dLogits = new Float32Array(0);
  private dOut = new Float32Array(0);
  private readonly actBuffer: Int32Array;
  private readonly logpBuffer = new Float32Array(1);

  constructor(options: ActorCriticOptions) {
    this.observationSize = options.observationSize;
    this.nvec = [...options.nvec];
    this.dist = new MultiCategorical(this.nvec);
    this.actionCount = this.nvec.reduce((p, n) => p * n, 1);
    this.featureSetVersion = options.featureSetVersion ?? 'none';
    this.hiddenSizes = [...(options.hiddenSizes ?? [64, 64])];
    this.activation = options.activation ?? 'tanh';
    this.shared = options.shared ?? false;
    const common = {
      inputSize: options.observationSize,
      hiddenSizes: this.hiddenSizes,
      activation: this.activation,
      maxBatch: options.maxBatch ?? 1,
      ...(options.backend === undefined ? {} : { backend: options.backend }),
    };
    const L = this.dist.logitCount;
    this.policyNet = new Mlp({ ...common, outputSize: this.shared ? L + 1 : L });
    this.valueNet = this.shared ? undefined : new Mlp({ ...common, outputSize: 1 });
    this.actBuffer = new Int32Array(this.nvec.length);
  }

  /** SB3's orthogonal init: gain √2 in hidden layers, 0.01 on the policy head, 1 on the value head. */
  init(rng: Rng): void {
    const L = this.dist.logitCount;
    if (this.valueNet === undefined) {
      initOrthogonal(this.policyNet, rng, { outputGain: [{ rows: L, gain: 0.01 }, { rows: 1, gain: 1 }] });
    } else {
      initOrthogonal(this.policyNet, rng, { outputGain: 0.01 });
      initOrthogonal(this.valueNet, rng, { outputGain: 1 });
    }
  }

  /** Parameter tensors in a fixed order (policy network, then value network). */
  parameters(): Float32Array[] {
    return this.valueNet === undefined ? [this.policyNet.params] : [this.policyNet.params, this.valueNet.params];
  }

  /** Gradient tensors matching `parameters()`. */
  gradients(): Float32Array[] {
    return this.valueNet === undefined ? [this.policyNet.grads] : [this.policyNet.grads, this.valueNet.grads];
  }

  /**
   * Rollout step for `batch` observation rows: samples actions with `rng`, writes their log-probabilities
   * and the value estimates.
   */
  step(
    observations: Float32Array,
    batch: number,
    masks: Uint8Array | undefined,
    rng: Rng,
    actions: Int32Array,
    values: Float32Array,
    logProbs: Float32Array,
  ): void {
    const logits = this.forward(observations, batch, values);
    this.dist.sample(logits, batch, masks, rng, actions, logProbs);
  }

  /** Value estimates `V(s)` of `batch` observation rows. */
  predictValues(observations: Float32Array, batch: number, values: Float32Array): void {
    if (this.valueNet === undefined) {
      this.forward(observations, batch, values);
      return;
    }
    const v = this.valueNet.forward(observations, batch);
    for (let b = 0; b < batch; b++) values[b] = v[b]!;
  }

  /** The most likely action (masked actions excluded) for one observation; `Discrete` spaces only. */
  act(observation: Float32Array, mask?: Uint8Array): number {
    if (this.nvec.length !== 1) throw agentsError('UNSUPPORTED_SPACE', 'act() needs a Discrete action space; use actVector()');
    return this.actVector(observation, mask)[0]!;
  }

  /**
   * The most likely action row for one observation (one integer per component). The returned array is
   * reused by the next call.
   */
  actVector(observation: Float32Array, mask?: Uint8Array): Int32Array {
    const logits = this.policyLogits(observation, 1);
    this.dist.sample(logits, 1, mask, undefined, this.actBuffer, this.logpBuffer);
    return this.actBuffer;
  }

  /**
   * Training forward pass on a minibatch: log-probabilities of `actions`, entropies and values.
   * Must be followed by `backward` with the same batch.
   */
  evaluateActions(
    observations: Float32Array,
    actions: Int32Array,
    masks: Uint8Array | undefined,
    batch: number,
    logProbs: Float32Array,
    entropies: Float32Array,
    values: Float32Array,
  ): void {
    const logits = this.forward(observations, batch, values);
    this.dist.evaluate(logits, actions, masks, batch, logProbs, entropies);
  }

  /**
   * Backpropagates `Σ_b dLogProb[b]·logπ(a_b) + dEntropy·Σ_b H_b + Σ_b dValue[b]·V(s_b)` into the
   * gradients of both networks (overwriting them).
   */
  backward(
    actions: Int32Array,
    masks: Uint8Array | undefined,
    batch: number,
    dLogProb: Float32Array,
    dEntropy: number,
    dValue: Float32Array,
  ): void {
    const L = this.dist.logitCount;
    this.ensureScratch(batch);
    this.dist.backward(actions, masks, batch, dLogProb, dEntropy, this.dLogits);
    if (this.valueNet !== undefined) {
      this.policyNet.backward(this.dLogits, batch);
      this.valueNet.backward(dValue, batch);
      return;
    }
    const W = L + 1;
    for (let b = 0; b < batch; b++) {
      for (let j = 0; j < L; j++) this.dOut[b * W + j] = this.dLogits[b * L + j]!;
      this.dOut[b * W + L] = dValue[b]!;
    }
    this.policyNet.backward(this.dOut, batch);
  }

  /** Logits of `batch` rows (a contiguous `batch × logitCount` view); fills `values` too when given. */
  private forward(observations: Float32Array, batch: number, values?: Float32Array): Float32Array {
    const logits = this.policyLogits(observations, batch, values);
    if (values !== undefined && this.valueNet !== undefined) {
      const v = this.valueNet.forward(observations, batch);
      for (let b = 0; b < batch; b++) values[b] = v[b]!;
    }
    return logits;
  }

  private policyLogits(observations: Float32Array, batch: number, values?: Float32Array): Float32Array {
    if (observations.length < batch * this.observationSize) {
      throw agentsError('SHAPE_MISMATCH', `expected ${batch} observations of size ${this.observationSize}`);
    }
    const out = this.policyNet.forward(observations, batch);
    if (this.valueNet !== undefined) return out;
    const L = this.dist.logitCount;
    const W = L + 1;
    this.ensureScratch(batch);
    for (let b = 0; b < batch; b++) {
      for (let j = 0; j < L; j++) this.logits[b * L + j] = out[b * W + j]!;
      if (values !== undefined) values[b] = out[b * W + L]!;
    }
    return this.logits;
  }

  private ensureScratch(batch: number): void {
    const L = this.dist.logitCount;
    if (this.dLogits.length >= batch * L) return;
    this.logits = new Float32Array(batch * L);
    this.dLogits = new Float32Array(batch * L);
    this.dOut = new Float32Array(batch * (L + 1));
  }
}
