import { KflowError, type Rng } from '@kflow/orderbook';
import { type SimConfig, validateSimConfig } from './config';
import type { SimErrorCode } from './errors';
import { type TickStructure, isTickStructure } from './tickGrid';

/** A closed range `[min, max]`. */
export interface NumberRange {
  readonly min: number;
  readonly max: number;
}

/**
 * What domain randomization varies per simulated session: the properties real Kalshi markets differ in
 * and a policy should not depend on. Each session draws every field independently.
 */
export interface DomainRandomization {
  /** Tick grids to draw from (uniformly). */
  readonly tickStructures: readonly TickStructure[];
  /** The edge knob, uniform in the range. */
  readonly edge: NumberRange;
  /** Probability that a session has fractional contract sizes. */
  readonly fractionalProbability: number;
  /** Markets per session, a uniform integer in the range. */
  readonly markets: NumberRange;
  /** Session length in minutes, uniform in the range (rounded to whole seconds). */
  readonly minutes: NumberRange;
}

/**
 * The default randomization: every tick grid, edge 0.4–1, fractional sizes half the time, 2–6 markets of
 * 10–20 minutes (around the learning check's 4 markets × 15 minutes, which suit 10-minute episodes).
 */
export const DEFAULT_DOMAIN_RANDOMIZATION: DomainRandomization = {
  tickStructures: ['linear_cent', 'deci_cent', 'tapered_deci_cent'],
  edge: { min: 0.4, max: 1 },
  fractionalProbability: 0.5,
  markets: { min: 2, max: 6 },
  minutes: { min: 10, max: 20 },
};

function invalid(message: string): KflowError<SimErrorCode> {
  return new KflowError<SimErrorCode>('INVALID_CONFIG', `Invalid domain randomization: ${message}`);
}

function checkRandomization(r: DomainRandomization): void {
  const range = (x: NumberRange, name: string, lo: number, hi: number) => {
    if (!(Number.isFinite(x.min) && Number.isFinite(x.max) && lo <= x.min && x.min <= x.max && x.max <= hi)) {
      throw invalid(`${name} must satisfy ${lo} ≤ min ≤ max ≤ ${hi}, got ${JSON.stringify(x)}`);
    }
  };
  if (r.tickStructures.length === 0 || !r.tickStructures.every(isTickStructure)) throw invalid('tickStructures must list at least one tick structure');
  range(r.edge, 'edge', 0, 1);
  if (!(r.fractionalProbability >= 0 && r.fractionalProbability <= 1)) throw invalid('fractionalProbability must be in [0, 1]');
  range(r.markets, 'markets', 1, 1000);
  if (!Number.isInteger(r.markets.min) || !Number.isInteger(r.markets.max)) throw invalid('markets must be whole numbers');
  range(r.minutes, 'minutes', 1 / 60, 24 * 60);
}

/**
 * One randomized session config: `base` (its preset, seed and every knob not randomized) with the tick
 * grid, edge, size granularity, market count and length drawn from `rng` per `randomization`. Draw one
 * config per session from one seeded `rng` and the set is reproducible.
 *
 * @example
 * const rng = createRng(7);
 * const configs = [1, 2, 3].map((seed) => sampleSimConfig(resolveSimConfig('informed', { seed }), DEFAULT_DOMAIN_RANDOMIZATION, rng));
 */
export function sampleSimConfig(base: SimConfig, randomization: DomainRandomization, rng: Rng): SimConfig {
  checkRandomization(randomization);
  const r = randomization;
  const uniform = (x: NumberRange) => x.min + (x.max - x.min) * rng.next();
  // Always five draws in this order, so one field's range never shifts the others' draws.
  const tickStructure = r.tickStructures[rng.int(r.tickStructures.length)]!;
  const edge = uniform(r.edge);
  const fractionalSizes = rng.next() < r.fractionalProbability;
  const markets = r.markets.min + rng.int(r.markets.max - r.markets.min + 1);
  const durationMs = Math.round(uniform(r.minutes) * 60) * 1000;
  const config: SimConfig = { ...base, tickStructure, edge: Math.round(edge * 1000) / 1000, fractionalSizes, markets, durationMs };
  validateSimConfig(config);
  return config;
}
