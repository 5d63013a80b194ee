import type { Env, EnvInfo, ResetOptions, ResetResult, StepResult } from './env';
import { envError } from './errors';
import { RunningMeanStd } from './runningMeanStd';
import { Box, type Space, type SpaceValue } from './spaces';
import { Wrapper } from './wrapper';

/** Options of `NormalizeObservation`. */
export interface NormalizeObservationOptions {
  /** Added to the variance before the square root. Default 1e-8. */
  readonly epsilon?: number;
  /** If set, normalized values are clipped to `[-clip, clip]`. */
  readonly clip?: number;
}

/**
 * Normalizes each observation element to `(x - mean) / sqrt(var + epsilon)` with running statistics
 * (Welford) updated on every `reset` and `step` observation, including the one being normalized.
 * Set `updateStats = false` to freeze the statistics (evaluation); `rms.snapshot()`/`restore()` save
 * and load them. Writes into its own `Float32Array` (reused between steps, like any env observation).
 *
 * @example
 * const env = new NormalizeObservation(createCartPole(), { clip: 10 });
 */
export class NormalizeObservation<A extends Space, I extends EnvInfo> extends Wrapper<Box, A, I> {
  /** The running statistics. */
  readonly rms: RunningMeanStd;
  /** Whether observations update `rms` (true while training). */
  updateStats = true;
  private readonly space: Box;
  private readonly out: Float32Array;
  private readonly epsilon: number;
  private readonly clip: number;

  constructor(env: Env<Box, A, I>, options: NormalizeObservationOptions = {}) {
    super(env);
    const inner: Space = env.observationSpace;
    if (inner.kind !== 'box' || inner.dtype !== 'float32') {
      throw envError('INVALID_ARGUMENT', `NormalizeObservation needs a Box(float32) observation space, got ${inner}`);
    }
    this.epsilon = options.epsilon ?? 1e-8;
    this.clip = options.clip ?? Infinity;
    if (!(this.epsilon > 0) || !(this.clip > 0)) {
      throw envError('INVALID_ARGUMENT', `NormalizeObservation needs epsilon > 0 and clip > 0, got ${this.epsilon}, ${this.clip}`);
    }
    this.rms = new RunningMeanStd(env.observationSpace.size);
    this.space = new Box(-this.clip, this.clip, env.observationSpace.shape, 'float32');
    this.out = this.space.allocate();
  }

  override get observationSpace(): Box {
    return this.space;
  }

  override reset(options?: ResetOptions): ResetResult<Float32Array, I> {
    const result = this.env.reset(options);
    return { observation: this.normalize(result.observation), info: result.info };
  }

  override step(action: SpaceValue<A>): StepResult<Float32Array, I> {
    const result = this.env.step(action);
    return { ...result, observation: this.normalize(result.observation) };
  }

  private normalize(obs: Float32Array): Float32Array {
    if (this.updateStats) this.rms.update(obs);
    const { mean } = this.rms;
    for (let i = 0; i < this.out.length; i++) {
      const z = (obs[i]! - mean[i]!) / Math.sqrt(this.rms.variance(i) + this.epsilon);
      this.out[i] = z < -this.clip ? -this.clip : z > this.clip ? this.clip : z;
    }
    return this.out;
  }
}
