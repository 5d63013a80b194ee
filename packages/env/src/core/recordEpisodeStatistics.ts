import type { Clock } from '@kflow/orderbook';
import type { Env, EnvInfo, EpisodeStatistics, ResetOptions, ResetResult, StepResult } from './env';
import type { Space, SpaceValue } from './spaces';
import { Wrapper } from './wrapper';

/** Options of `RecordEpisodeStatistics`. */
export interface RecordEpisodeStatisticsOptions {
  /** Measures `episode.t` (seconds since the episode's reset); without one `t` is 0. */
  readonly clock?: Clock;
}

/**
 * Adds `info.episode = { r, l, t }` (return, length, elapsed seconds) to the info of the step that ends
 * an episode (terminated or truncated), as Gymnasium's wrapper of the same name. Other infos pass through
 * untouched. Put it outside `TimeLimit` so truncations are counted.
 *
 * @example
 * const env = new RecordEpisodeStatistics(createCartPole());
 * // ... on the last step: step.info.episode → { r: 23, l: 23, t: 0 }
 */
export class RecordEpisodeStatistics<O extends Space, A extends Space, I extends EnvInfo> extends Wrapper<O, A, I> {
  private readonly clock: Clock | undefined;
  private episodeReturn = 0;
  private episodeLength = 0;
  private startMs = 0;
  private completed = 0;

  constructor(env: Env<O, A, I>, options: RecordEpisodeStatisticsOptions = {}) {
    super(env);
    this.clock = options.clock;
  }

  /** Episodes finished so far. */
  get episodeCount(): number {
    return this.completed;
  }

  override reset(options?: ResetOptions): ResetResult<SpaceValue<O>, I> {
    const result = this.env.reset(options);
    this.episodeReturn = 0;
    this.episodeLength = 0;
    this.startMs = this.clock?.now() ?? 0;
    return result;
  }

  override step(action: SpaceValue<A>): StepResult<SpaceValue<O>, I> {
    const result = this.env.step(action);
    this.episodeReturn += result.reward;
    this.episodeLength++;
    if (!result.terminated && !result.truncated) return result;
    this.completed++;
    const episode: EpisodeStatistics = {
      r: this.episodeReturn,
      l: this.episodeLength,
      t: this.clock === undefined ? 0 : (this.clock.now() - this.startMs) / 1000,
    };
    return { ...result, info: { ...result.info, episode } };
  }
}
