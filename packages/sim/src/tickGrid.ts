import { KflowError, PRICE_ONE } from '@kflow/orderbook';
import type { SimErrorCode } from './errors';

/** Kalshi price level structures the simulator supports (names as in `Market.price_level_structure`). */
export type TickStructure = 'linear_cent' | 'deci_cent' | 'tapered_deci_cent';

/** One `price_ranges` entry in price units: prices in [start, end] step by `step`. */
export interface PriceRange {
  readonly start: number;
  readonly end: number;
  readonly step: number;
}

/**
 * A market's valid price grid in price units (1/10,000 $). Bids live strictly inside (0, 1): the lowest
 * valid bid is `min`, the highest `max`.
 */
export interface TickGrid {
  readonly structure: TickStructure;
  readonly ranges: readonly PriceRange[];
  readonly min: number;
  readonly max: number;
  /** Largest grid price ≤ `price` (clamped to [min, max]). */
  floor(price: number): number;
  /** Smallest grid price ≥ `price` (clamped to [min, max]). */
  ceil(price: number): number;
  /** The grid price `steps` grid steps above `price` (a grid price), or -1 past `max`. */
  up(price: number, steps?: number): number;
  /** The grid price `steps` grid steps below `price` (a grid price), or -1 below `min`. */
  down(price: number, steps?: number): number;
  /** The grid step at `price` (the step of the range that contains it). */
  stepAt(price: number): number;
}

const STRUCTURES: Record<TickStructure, readonly PriceRange[]> = {
  linear_cent: [{ start: 0, end: PRICE_ONE, step: 100 }],
  deci_cent: [{ start: 0, end: PRICE_ONE, step: 10 }],
  tapered_deci_cent: [
    { start: 0, end: 1000, step: 10 },
    { start: 1000, end: 9000, step: 100 },
    { start: 9000, end: PRICE_ONE, step: 10 },
  ],
};

/** True when `name` is a supported price level structure. */
export function isTickStructure(name: string): name is TickStructure {
  return Object.hasOwn(STRUCTURES, name);
}

/**
 * Builds the grid of a Kalshi price level structure. All grid prices are precomputed, so rounding is a
 * binary search and stepping is an index move.
 *
 * @example
 * const grid = createTickGrid('tapered_deci_cent');
 * grid.floor(512); // 510 (0.1¢ steps below $0.10)
 * grid.up(8900);   // 9000; grid.up(9000) → 9010
 */
export function createTickGrid(structure: TickStructure): TickGrid {
  if (!isTickStructure(structure)) {
    throw new KflowError<SimErrorCode>('INVALID_CONFIG', `Unknown tick structure "${String(structure)}"`);
  }
  const ranges = STRUCTURES[structure];
  const points: number[] = [];
  for (const r of ranges) {
    for (let p = r.start; p <= r.end; p += r.step) if (points[points.length - 1] !== p) points.push(p);
  }
  // Bids are strictly between $0 and $1.
  const prices = Int32Array.from(points.filter((p) => p > 0 && p < PRICE_ONE));
  const last = prices.length - 1;
  const indexAtOrBelow = (price: number): number => {
    let lo = 0;
    let hi = last;
    if (price < prices[0]!) return -1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (prices[mid]! <= price) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const clampIndex = (i: number) => (i < 0 ? 0 : i > last ? last : i);
  return {
    structure,
    ranges,
    min: prices[0]!,
    max: prices[last]!,
    floor: (price) => prices[clampIndex(indexAtOrBelow(price))]!,
    ceil: (price) => {
      const i = indexAtOrBelow(price);
      return prices[clampIndex(i >= 0 && prices[i] === price ? i : i + 1)]!;
    },
    up: (price, steps = 1) => {
      const i = indexAtOrBelow(price) + steps;
      return i > last ? -1 : prices[clampIndex(i)]!;
    },
    down: (price, steps = 1) => {
      const i = indexAtOrBelow(price) - steps;
      return i < 0 ? -1 : prices[i]!;
    },
    stepAt: (price) => {
      for (const r of ranges) if (price >= r.start && price < r.end) return r.step;
      return ranges[ranges.length - 1]!.step;
    },
  };
}
