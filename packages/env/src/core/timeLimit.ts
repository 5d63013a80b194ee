import type { Env, EnvInfo, EnvSpec, ResetOptions, ResetResult, StepResult } from './env';
import { envError } from './errors';
import type { Space, SpaceValue } from './spaces';
import { Wrapper } from './wrapper';

/** Options of `TimeLimit`. */
export interface TimeLimitOptions {
  /** Steps after which `truncated` is set (positive integer). */
  readonly maxEpisodeSteps: number;
}

/**
 * Sets `truncated: true` on the `maxEpisodeSteps`-th step of an episode (as Gymnasium: also when the
 * same step terminated). Stepping again without `reset` throws `ENV_NEEDS_RESET`.
 *
 * @example
 * const env = new TimeLimit(createCartPole({ maxEpisodeSteps: Infinity }), { maxEpisodeSteps: 200 });
 */
export class TimeLimit<O extends Space, A extends Space, I extends EnvInfo> extends Wrapper<O, A, I> {
  readonly maxEpisodeSteps: number;
  private elapsed = 0;
  private needsReset = true;

  constructor(env: Env<O, A, I>, options: TimeLimitOptions) {
    super(env);
    const max = options.maxEpisodeSteps;
    if (!Number.isInteger(max) || max < 1) {
      throw envError('INVALID_ARGUMENT', `TimeLimit maxEpisodeSteps must be a positive integer, got ${max}`);
    }
    this.maxEpisodeSteps = max;
  }

  /** Steps taken in the current episode. */
  get elapsedSteps(): number {
    return this.elapsed;
  }

  /** The wrapped env's spec with `maxEpisodeSteps` set to this limit. */
  override get spec(): EnvSpec {
    return { ...(this.env.spec ?? { id: 'unregistered' }), maxEpisodeSteps: this.maxEpisodeSteps };
  }

  /** Resets the wrapped env and the step counter. */
  override reset(options?: ResetOptions): ResetResult<SpaceValue<O>, I> {
    const result = this.env.reset(options);
    this.elapsed = 0;
    this.needsReset = false;
    return result;
  }

  /** Steps the wrapped env; sets `truncated` once the episode reaches `maxEpisodeSteps` steps. */
  override step(action: SpaceValue<A>): StepResult<SpaceValue<O>, I> {
    if (this.needsReset) throw envError('ENV_NEEDS_RESET', 'TimeLimit.step called before reset or after the episode ended');
    const result = this.env.step(action);
    this.elapsed++;
    const truncated = result.truncated || this.elapsed >= this.maxEpisodeSteps;
    this.needsReset = result.terminated || truncated;
    return truncated === result.truncated ? result : { ...result, truncated };
  }
}
