import type { Rng } from '@kflow/orderbook';
import { agentsError } from './errors';
import { computeGae } from './gae';

/** One step of all envs, as `RolloutBuffer.add` takes it. */
export interface RolloutStep {
  /** `nEnvs × observationSize` observations the actions were chosen from. */
  observations: Float32Array;
  /** `nEnvs × actionDims` actions. */
  actions: Int32Array;
  rewards: ArrayLike<number>;
  /** 1 where the observation is the first of an episode (the previous step ended one). */
  episodeStarts: Uint8Array;
  values: Float32Array;
  logProbs: Float32Array;
  /** `nEnvs × maskSize` action masks, when the buffer stores masks. */
  masks?: Uint8Array | undefined;
  /** 1 for real transitions (default all 1). */
  valid?: Uint8Array | undefined;
}

/** Options of {@link RolloutBuffer}: its shape. */
export interface RolloutBufferOptions {
  nSteps: number;
  nEnvs: number;
  observationSize: number;
  /** Integers per action: 1 for `Discrete`, `nvec.length` for `MultiDiscrete`. */
  actionDims: number;
  /** Length of an action mask (total logits) when the env provides masks; omit otherwise. */
  maskSize?: number;
  /**
   * Keep the storage in a `SharedArrayBuffer` (`buffer.memory`), so worker threads can read the rollout
   * without a copy (default false).
   */
  shared?: boolean;
  /** Views over `memory` of another buffer of the same shape instead of new storage (a worker's side of `shared`). */
  memory?: SharedArrayBuffer;
}

/**
 * Storage for one on-policy rollout of `nSteps` steps of `nEnvs` environments, laid out `[step][env]`
 * in flat typed arrays (observation rows, actions, masks, rewards, values, log-probabilities), plus the
 * advantages and returns computed from them.
 *
 * @example
 * const buffer = new RolloutBuffer({ nSteps: 2048, nEnvs: 1, observationSize: 4, actionDims: 1 });
 * buffer.add({ observations, actions, rewards, episodeStarts, values, logProbs });  // nSteps times
 * buffer.computeReturnsAndAdvantage(lastValues, lastDones, 0.99, 0.95);
 */
export class RolloutBuffer {
  readonly nSteps: number;
  readonly nEnvs: number;
  readonly observationSize: number;
  readonly actionDims: number;
  readonly maskSize: number;
  readonly observations: Float32Array;
  readonly actions: Int32Array;
  /** Action masks, empty when the buffer was created without `maskSize`. */
  readonly masks: Uint8Array;
  readonly rewards: Float32Array;
  readonly episodeStarts: Uint8Array;
  readonly values: Float32Array;
  readonly logProbs: Float32Array;
  readonly advantages: Float32Array;
  readonly returns: Float32Array;
  /**
   * 1 for real transitions; 0 for entries that only carried an autoreset (the vector env reset that
   * sub-env instead of stepping it). Losses skip invalid entries.
   */
  readonly valid: Uint8Array;
  /** Steps written since the last `reset`. */
  pos = 0;
  /** The storage every array above is a view of (a `SharedArrayBuffer` when created `shared`). */
  readonly memory: ArrayBuffer | SharedArrayBuffer;

  constructor(options: RolloutBufferOptions) {
    const { nSteps, nEnvs, observationSize, actionDims } = options;
    if (![nSteps, nEnvs, observationSize, actionDims].every((n) => Number.isInteger(n) && n > 0)) {
      throw agentsError('INVALID_OPTIONS', 'rollout buffer sizes must be positive integers');
    }
    const size = nSteps * nEnvs;
    this.nSteps = nSteps;
    this.nEnvs = nEnvs;
    this.observationSize = observationSize;
    this.actionDims = actionDims;
    this.maskSize = options.maskSize ?? 0;
    // One block holds every array, 4-byte fields first so each view stays aligned.
    const lengths = { f32: size * (observationSize + 5), i32: size * actionDims, u8: size * (this.maskSize + 2) };
    const bytes = 4 * (lengths.f32 + lengths.i32) + lengths.u8;
    if (options.memory !== undefined && options.memory.byteLength !== bytes) {
      throw agentsError('SHAPE_MISMATCH', `shared rollout memory holds ${options.memory.byteLength} bytes, this shape needs ${bytes}`);
    }
    this.memory = options.memory ?? (options.shared === true ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
    let offset = 0;
    const view = <T>(View: new (memory: ArrayBufferLike, byteOffset: number, length: number) => T, bytesEach: number, length: number): T => {
      const array = new View(this.memory, offset, length);
      offset += bytesEach * length;
      return array;
    };
    const f32 = (length: number) => view(Float32Array, 4, length);
    const i32 = (length: number) => view(Int32Array, 4, length);
    const u8 = (length: number) => view(Uint8Array, 1, length);
    this.observations = f32(size * observationSize);
    this.rewards = f32(size);
    this.values = f32(size);
    this.logProbs = f32(size);
    this.advantages = f32(size);
    this.returns = f32(size);
    this.actions = i32(size * actionDims);
    this.masks = u8(size * this.maskSize);
    this.episodeStarts = u8(size);
    this.valid = u8(size);
  }

  /** Total transitions (`nSteps × nEnvs`). */
  get size(): number {
    return this.nSteps * this.nEnvs;
  }

  /** True once `nSteps` steps were added (call `reset()` before the next rollout). */
  get full(): boolean {
    return this.pos === this.nSteps;
  }

  /** Starts a new rollout (the storage is reused, not cleared). */
  reset(): void {
    this.pos = 0;
  }

  /** Appends one step of all envs (each field holds `nEnvs` rows). */
  add(step: RolloutStep): void {
    if (this.full) throw agentsError('INVALID_OPTIONS', 'rollout buffer is full; call reset()');
    const n = this.nEnvs;
    const k = this.pos * n;
    const d = this.observationSize;
    const a = this.actionDims;
    const m = this.maskSize;
    for (let j = 0; j < n * d; j++) this.observations[k * d + j] = step.observations[j]!;
    for (let j = 0; j < n * a; j++) this.actions[k * a + j] = step.actions[j]!;
    if (m > 0) {
      if (step.masks === undefined) throw agentsError('SHAPE_MISMATCH', 'this rollout buffer stores action masks');
      for (let j = 0; j < n * m; j++) this.masks[k * m + j] = step.masks[j]!;
    }
    for (let e = 0; e < n; e++) {
      this.rewards[k + e] = step.rewards[e]!;
      this.episodeStarts[k + e] = step.episodeStarts[e]!;
      this.values[k + e] = step.values[e]!;
      this.logProbs[k + e] = step.logProbs[e]!;
      this.valid[k + e] = step.valid === undefined ? 1 : step.valid[e]!;
    }
    this.pos++;
  }

  /** Fills `advantages` and `returns` by GAE (see `computeGae`). */
  computeReturnsAndAdvantage(lastValues: Float32Array, lastDones: Uint8Array, gamma: number, gaeLambda: number): void {
    computeGae({
      rewards: this.rewards,
      values: this.values,
      episodeStarts: this.episodeStarts,
      lastValues,
      lastDones,
      nSteps: this.nSteps,
      nEnvs: this.nEnvs,
      gamma,
      gaeLambda,
      advantages: this.advantages,
      returns: this.returns,
    });
  }

  /**
   * Writes the indices of the valid entries into `out` in a uniformly random order (Fisher–Yates with
   * `rng`) and returns how many there are.
   */
  shuffledValidIndices(rng: Rng, out: Int32Array): number {
    let count = 0;
    for (let k = 0; k < this.size; k++) if (this.valid[k] === 1) out[count++] = k;
    for (let i = count - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    return count;
  }

  /**
   * Copies the observation rows (and actions, masks) of `indices[start … start+count)` into the
   * minibatch buffers; scalar fields are read by index by the caller.
   */
  gather(
    indices: Int32Array,
    start: number,
    count: number,
    observations: Float32Array,
    actions: Int32Array,
    masks?: Uint8Array,
  ): void {
    const d = this.observationSize;
    const a = this.actionDims;
    const m = this.maskSize;
    for (let r = 0; r < count; r++) {
      const k = indices[start + r]!;
      for (let j = 0; j < d; j++) observations[r * d + j] = this.observations[k * d + j]!;
      for (let j = 0; j < a; j++) actions[r * a + j] = this.actions[k * a + j]!;
      if (masks !== undefined) for (let j = 0; j < m; j++) masks[r * m + j] = this.masks[k * m + j]!;
    }
  }
}
