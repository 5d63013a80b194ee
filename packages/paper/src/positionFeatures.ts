import type { PositionFeaturesInput } from '@kflow/features';
import type { MatchingEngine } from './matchingEngine';

/** A reusable, writable {@link PositionFeaturesInput} (one per market; `writePositionFeatures` fills it in). */
export type PositionFeaturesBuffer = { -readonly [K in keyof PositionFeaturesInput]: PositionFeaturesInput[K] };

/**
 * A zeroed buffer for {@link writePositionFeatures}.
 *
 * @example
 * const account = createPositionFeatures(1_000); // position limit: 10 contracts
 */
export function createPositionFeatures(positionLimitCenti: number): PositionFeaturesBuffer {
  return {
    positionCenti: 0,
    positionLimitCenti,
    unrealizedPnlMicros: 0,
    cashMicros: 0,
    portfolioValueMicros: 0,
    restingBidCenti: 0,
    restingAskCenti: 0,
  };
}

/**
 * Writes the account numbers that `buildObservation` turns into position features, for the market of
 * `engine`: its position, the position marked to mid minus its cost, cash (`engine.cashMicros`: the
 * market's own account when it has one), cash plus that mark, and our
 * resting size per side. The env and the paper client (the live actor's account) both call this, so
 * training and live observations agree. Allocation-free; returns `out`.
 *
 * @example
 * buildObservation(obs, book, temporal, writePositionFeatures(engine, account), nowMs);
 */
export function writePositionFeatures(engine: MatchingEngine, out: PositionFeaturesBuffer): PositionFeaturesInput {
  const tracker = engine.tracker;
  const m = engine.marketIndex;
  const mark = tracker.markMicros(m, engine.book, 'mid');
  out.positionCenti = tracker.positionCenti(m);
  out.unrealizedPnlMicros = mark - tracker.market(m).costMicros;
  // The market's own account when it has one (live actor, env), so a market traded beside others sees
  // the same cash as in training.
  const cash = engine.cashMicros;
  out.cashMicros = cash;
  out.portfolioValueMicros = cash + mark;
  out.restingBidCenti = engine.restingCenti('bid');
  out.restingAskCenti = engine.restingCenti('ask');
  return out;
}
