import type { Rng } from '@kflow/orderbook';
import { envError } from '../core/errors';
import type { MarketStats } from './marketPool';

/** Picks the market of the next episode: returns an index into `markets`. */
export interface MarketSampler {
  /** Returns the index of the market of the next episode, drawn with `rng`. */
  sample(markets: readonly { readonly stats: MarketStats }[], rng: Rng): number;
}

/**
 * Every market equally likely.
 *
 * @example
 * createKalshiEnv({ sessions, sampler: uniformSampler() });
 */
export function uniformSampler(): MarketSampler {
  return { sample: (markets, rng) => rng.int(markets.length) };
}

/** A curriculum sampler whose difficulty ceiling the training loop raises over time. */
export interface CurriculumSampler extends MarketSampler {
  /** Training progress in [0, 1]; markets with `difficulty ≤ max(minDifficulty, progress)` are eligible. */
  progress: number;
}

/**
 * Curriculum by difficulty (`MarketStats.difficulty`, from volatility and activity percentiles computed
 * at load): samples uniformly among the markets at or below the current ceiling, starting with the
 * calmest ones. The easiest market is always eligible.
 *
 * @example
 * const sampler = curriculumSampler({ minDifficulty: 0.3 });
 * const env = createKalshiEnv({ sessions, sampler });
 * sampler.progress = update / totalUpdates;
 */
export function curriculumSampler(options: { readonly minDifficulty?: number; readonly progress?: number } = {}): CurriculumSampler {
  const minDifficulty = options.minDifficulty ?? 0.25;
  if (!(minDifficulty >= 0 && minDifficulty <= 1)) throw envError('INVALID_ARGUMENT', `minDifficulty must be in [0, 1], got ${minDifficulty}`);
  return {
    progress: options.progress ?? 0,
    sample(markets, rng) {
      const ceiling = Math.max(minDifficulty, this.progress);
      let eligible = 0;
      let easiest = 0;
      for (let i = 0; i < markets.length; i++) {
        const d = markets[i]!.stats.difficulty;
        if (d <= ceiling) eligible++;
        if (d < markets[easiest]!.stats.difficulty) easiest = i;
      }
      if (eligible === 0) return easiest;
      let k = rng.int(eligible);
      for (let i = 0; i < markets.length; i++) {
        if (markets[i]!.stats.difficulty <= ceiling && k-- === 0) return i;
      }
      return easiest;
    },
  };
}
