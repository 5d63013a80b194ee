import { PRICE_ONE, type WireNumber, parsePriceUnits } from '@kflow/orderbook';

/** One band of a market's price grid, in price units: prices `start, start+step, …` up to `end`. */
export interface PriceRange {
  readonly startUnits: number;
  readonly endUnits: number;
  readonly stepUnits: number;
}

/** A market's valid order prices (Kalshi `price_ranges`). */
export type PriceGrid = readonly PriceRange[];

/** Whole cents from $0.00 to $1.00 (`linear_cent`, most markets). */
export const LINEAR_CENT_GRID: PriceGrid = [{ startUnits: 0, endUnits: PRICE_ONE, stepUnits: 100 }];

/**
 * Converts Kalshi's `price_ranges` to a grid.
 *
 * @example
 * priceGridFromKalshi([{ start: '0.0000', end: '1.0000', step: '0.0100' }]); // LINEAR_CENT_GRID's ranges
 */
export function priceGridFromKalshi(
  ranges: readonly { readonly start: WireNumber; readonly end: WireNumber; readonly step: WireNumber }[],
): PriceGrid {
  return ranges.map((r) => ({
    startUnits: parsePriceUnits(r.start, 'price_ranges.start'),
    endUnits: parsePriceUnits(r.end, 'price_ranges.end'),
    stepUnits: parsePriceUnits(r.step, 'price_ranges.step'),
  }));
}

/**
 * Whether an order may be placed at `priceUnits`: strictly between $0 and $1 and on one band of the grid.
 *
 * @example
 * isValidOrderPrice(LINEAR_CENT_GRID, 1700); // true
 * isValidOrderPrice(LINEAR_CENT_GRID, 1750); // false (off-grid)
 */
export function isValidOrderPrice(grid: PriceGrid, priceUnits: number): boolean {
  if (!Number.isInteger(priceUnits) || priceUnits <= 0 || priceUnits >= PRICE_ONE) return false;
  for (let i = 0; i < grid.length; i++) {
    const r = grid[i]!;
    if (priceUnits >= r.startUnits && priceUnits <= r.endUnits && (priceUnits - r.startUnits) % r.stepUnits === 0) return true;
  }
  return false;
}

/**
 * The lowest and highest valid order prices of a grid.
 *
 * @example
 * orderPriceBounds(LINEAR_CENT_GRID); // { minUnits: 100, maxUnits: 9900 }
 */
export function orderPriceBounds(grid: PriceGrid): { readonly minUnits: number; readonly maxUnits: number } {
  let minUnits = PRICE_ONE;
  let maxUnits = 0;
  for (const r of grid) {
    const lo = r.startUnits > 0 ? r.startUnits : r.stepUnits;
    const top = r.endUnits < PRICE_ONE ? r.endUnits : PRICE_ONE - 1;
    const hi = r.startUnits + Math.floor((top - r.startUnits) / r.stepUnits) * r.stepUnits;
    if (lo <= hi) {
      minUnits = Math.min(minUnits, lo);
      maxUnits = Math.max(maxUnits, hi);
    }
  }
  return { minUnits, maxUnits };
}
