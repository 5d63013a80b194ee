import type { Rng } from '@kflow/orderbook';
import type { ActorCritic } from './actorCritic';
import { RolloutBuffer } from './rolloutBuffer';
import type { DiscreteVectorEnv } from './training';

/** Options of {@link RolloutCollector}. */
export interface RolloutCollectorOptions {
  envs: DiscreteVectorEnv;
  policy: ActorCritic;
  nSteps: number;
  gamma: number;
  gaeLambda: number;
  /** Seed of the first `envs.reset` (sub-env `i` gets `seed + i`). */
  seed: number;
  /** Draws the sampled actions. */
  rng: Rng;
  /** Called for every finished episode with its undiscounted return and length. */
  onEpisode?: (episodicReturn: number, length: number) => void;
  /** Keep the rollout in shared memory (`RolloutBufferOptions.shared`), for an update split over threads. */
  sharedBuffer?: boolean;
}

/**
 * Fills a `RolloutBuffer` from a vector env with SB3's semantics on top of Gymnasium 1.x next-step
 * autoreset:
 * - a truncated step gets `γ·V(final observation)` added to its reward (SB3's timeout bootstrap); a
 *   terminated one does not, and GAE stops at both (the next entry is marked as an episode start);
 * - the autoreset step that follows an episode end is stored as an invalid entry (its action was
 *   ignored, it is no transition), so losses skip it; its value estimate is the `V(final observation)`
 *   used for the bootstrap, so bootstrapping costs no extra forward pass;
 * - action masks are used when the env provides them (`info.actionMask` at reset).
 *
 * @example
 * const collector = new RolloutCollector({ envs, policy, nSteps: 2048, gamma: 0.99, gaeLambda: 0.95, seed: 0, rng });
 * collector.collect(); // collector.buffer now holds advantages and returns
 */
export class RolloutCollector {
  readonly buffer: RolloutBuffer;
  /** Env steps taken so far (`nEnvs` per vector step, autoreset steps included). */
  timesteps = 0;
  episodes = 0;
  private readonly o: RolloutCollectorOptions;
  private readonly nEnvs: number;
  private readonly obs: Float32Array;
  private readonly masks: Uint8Array | undefined;
  private readonly actions: Int32Array;
  /** What `envs.step` receives: the action array itself, or one row view per env for MultiDiscrete. */
  private readonly envActions: ArrayLike<number> | Int32Array[];
  private readonly values: Float32Array;
  private readonly logProbs: Float32Array;
  private readonly episodeStarts: Uint8Array;
  private readonly valid: Uint8Array;
  private readonly pendingTruncation: Uint8Array;
  private readonly lastDones: Uint8Array;
  private readonly episodeReturn: Float64Array;
  private readonly episodeLength: Int32Array;
  private readonly recent: number[] = [];

  constructor(options: RolloutCollectorOptions) {
    this.o = options;
    const { envs, policy } = options;
    const n = envs.numEnvs;
    this.nEnvs = n;
    const reset = envs.reset({ seed: options.seed });
    const useMasks = reset.actionMasks !== undefined && reset.infos.some((info) => info.actionMask !== undefined);
    const k = policy.nvec.length;
    this.buffer = new RolloutBuffer({
      nSteps: options.nSteps,
      nEnvs: n,
      observationSize: envs.observationSize,
      actionDims: k,
      ...(useMasks ? { maskSize: policy.dist.logitCount } : {}),
      shared: options.sharedBuffer ?? false,
    });
    this.obs = Float32Array.from(reset.observations);
    this.masks = useMasks ? Uint8Array.from(reset.actionMasks!) : undefined;
    this.actions = new Int32Array(n * k);
    this.envActions =
      envs.singleActionSpace.kind === 'discrete'
        ? this.actions
        : Array.from({ length: n }, (_, i) => this.actions.subarray(i * k, (i + 1) * k));
    this.values = new Float32Array(n);
    this.logProbs = new Float32Array(n);
    this.episodeStarts = new Uint8Array(n).fill(1);
    this.valid = new Uint8Array(n);
    this.pendingTruncation = new Uint8Array(n);
    this.lastDones = new Uint8Array(n);
    this.episodeReturn = new Float64Array(n);
    this.episodeLength = new Int32Array(n);
  }

  /** Mean return of the last (up to) 100 finished episodes; NaN before the first one. */
  get meanRecentReturn(): number {
    return this.recent.length === 0 ? Number.NaN : this.recent.reduce((s, r) => s + r, 0) / this.recent.length;
  }

  /** Collects `nSteps` vector steps into `buffer` and computes advantages and returns. */
  collect(): void {
    const { envs, policy, rng, gamma } = this.o;
    const buffer = this.buffer;
    const n = this.nEnvs;
    buffer.reset();
    while (!buffer.full) {
      policy.step(this.obs, n, this.masks, rng, this.actions, this.values, this.logProbs);
      this.bootstrapTruncations(buffer.pos - 1);
      const result = envs.step(this.envActions as never);
      for (let i = 0; i < n; i++) this.valid[i] = 1 - result.autoreset[i]!;
      buffer.add({
        observations: this.obs,
        actions: this.actions,
        rewards: result.rewards,
        episodeStarts: this.episodeStarts,
        values: this.values,
        logProbs: this.logProbs,
        masks: this.masks,
        valid: this.valid,
      });
      this.obs.set(result.observations);
      if (this.masks !== undefined && result.actionMasks !== undefined) this.masks.set(result.actionMasks);
      for (let i = 0; i < n; i++) {
        const done = result.terminated[i]! | result.truncated[i]!;
        this.episodeStarts[i] = done;
        this.pendingTruncation[i] = result.truncated[i]!;
        if (result.autoreset[i] === 1) continue;
        this.episodeReturn[i] = this.episodeReturn[i]! + result.rewards[i]!;
        this.episodeLength[i] = this.episodeLength[i]! + 1;
        if (done === 1) this.finishEpisode(i);
      }
      this.timesteps += n;
    }
    // V(s_T) for GAE; for a sub-env whose last step was truncated this is V(final observation).
    policy.predictValues(this.obs, n, this.values);
    this.bootstrapTruncations(buffer.nSteps - 1);
    this.lastDones.set(this.episodeStarts);
    buffer.computeReturnsAndAdvantage(this.values, this.lastDones, gamma, this.o.gaeLambda);
  }

  /** Adds `γ·V(final observation)` to the reward of step `pos` for sub-envs truncated at that step. */
  private bootstrapTruncations(pos: number): void {
    if (pos < 0) return;
    for (let i = 0; i < this.nEnvs; i++) {
      if (this.pendingTruncation[i] === 0) continue;
      const k = pos * this.nEnvs + i;
      this.buffer.rewards[k] = this.buffer.rewards[k]! + this.o.gamma * this.values[i]!;
      this.pendingTruncation[i] = 0;
    }
  }

  private finishEpisode(i: number): void {
    const r = this.episodeReturn[i]!;
    this.episodes++;
    this.recent.push(r);
    if (this.recent.length > 100) this.recent.shift();
    this.o.onEpisode?.(r, this.episodeLength[i]!);
    this.episodeReturn[i] = 0;
    this.episodeLength[i] = 0;
  }
}
