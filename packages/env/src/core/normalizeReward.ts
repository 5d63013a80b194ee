import type { Env, EnvInfo, ResetOptions, ResetResult, StepResult } from './env';
import { envError } from './errors';
import { RunningMeanStd } from './runningMeanStd';
import type { Space, SpaceValue } from './spaces';
import { Wrapper } from './wrapper';

/** Options of `NormalizeReward`. */
export interface NormalizeRewardOptions {
  /** Discount of the running return whose standard deviation scales rewards. Default 0.99. */
  readonly gamma?: number;
  /** Added to the variance before the square root. Default 1e-8. */
  readonly epsilon?: number;
}

/**
 * Scales rewards by the running standard deviation of the discounted return, as Gymnasium's wrapper:
 * `G ← γ·G + r`, update the statistics with `G`, return `r / sqrt(var(G) + epsilon)` (not centred).
 * `G` restarts at 0 on every `reset` (Gymnasium only restarts it after `terminated`; restarting after
 * truncation too keeps episodes independent). Set `updateStats = false` to freeze the statistics.
 *
 * @example
 * const env = new NormalizeReward(createCartPole(), { gamma: 0.99 });
 */
export class NormalizeReward<O extends Space, A extends Space, I extends EnvInfo> extends Wrapper<O, A, I> {
  /** Running statistics of the discounted return (size 1). */
  readonly rms = new RunningMeanStd(1);
  /** Whether steps update `rms` (true while training). */
  updateStats = true;
  readonly gamma: number;
  private readonly epsilon: number;
  private readonly scratch = new Float64Array(1);
  private discountedReturn = 0;

  constructor(env: Env<O, A, I>, options: NormalizeRewardOptions = {}) {
    super(env);
    this.gamma = options.gamma ?? 0.99;
    this.epsilon = options.epsilon ?? 1e-8;
    if (!(this.gamma >= 0 && this.gamma <= 1) || !(this.epsilon > 0)) {
      throw envError('INVALID_ARGUMENT', `NormalizeReward needs gamma in [0, 1] and epsilon > 0, got ${this.gamma}, ${this.epsilon}`);
    }
  }

  override reset(options?: ResetOptions): ResetResult<SpaceValue<O>, I> {
    this.discountedReturn = 0;
    return this.env.reset(options);
  }

  override step(action: SpaceValue<A>): StepResult<SpaceValue<O>, I> {
    const result = this.env.step(action);
    this.discountedReturn = this.discountedReturn * this.gamma + result.reward;
    if (this.updateStats) {
      this.scratch[0] = this.discountedReturn;
      this.rms.update(this.scratch);
    }
    return { ...result, reward: result.reward / Math.sqrt(this.rms.variance(0) + this.epsilon) };
  }
}
