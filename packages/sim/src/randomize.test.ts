import { describe, expect, it } from 'vitest';
import { createRng, isKflowError } from '@kflow/orderbook';
import { resolveSimConfig } from './config';
import { DEFAULT_DOMAIN_RANDOMIZATION, type DomainRandomization, sampleSimConfig } from './randomize';

const draw = (seed: number, n: number, r: DomainRandomization = DEFAULT_DOMAIN_RANDOMIZATION) => {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, i) => sampleSimConfig(resolveSimConfig('informed', { seed: i + 1 }), r, rng));
};

describe('sampleSimConfig', () => {
  it('is deterministic for a seed and varies between sessions and seeds', () => {
    expect(draw(7, 20)).toEqual(draw(7, 20));
    expect(draw(8, 20)).not.toEqual(draw(7, 20));
    const edges = new Set(draw(7, 20).map((c) => c.edge));
    expect(edges.size).toBeGreaterThan(10);
  });

  it('draws every field inside its range, covers the choices, and keeps the rest of the preset', () => {
    const configs = draw(3, 200);
    const r = DEFAULT_DOMAIN_RANDOMIZATION;
    for (const c of configs) {
      expect(c.edge).toBeGreaterThanOrEqual(r.edge.min);
      expect(c.edge).toBeLessThanOrEqual(r.edge.max);
      expect(c.markets).toBeGreaterThanOrEqual(r.markets.min);
      expect(c.markets).toBeLessThanOrEqual(r.markets.max);
      expect(c.durationMs).toBeGreaterThanOrEqual(r.minutes.min * 60_000);
      expect(c.durationMs).toBeLessThanOrEqual(r.minutes.max * 60_000);
      expect(c.durationMs % 1000).toBe(0);
      expect(c.makers).toEqual(resolveSimConfig('informed').makers);
      expect(c.preset).toBe('informed');
    }
    expect(new Set(configs.map((c) => c.tickStructure))).toEqual(new Set(r.tickStructures));
    expect(new Set(configs.map((c) => c.markets))).toEqual(new Set([2, 3, 4, 5, 6]));
    const fractional = configs.filter((c) => c.fractionalSizes).length;
    expect(fractional).toBeGreaterThan(60);
    expect(fractional).toBeLessThan(140);
    // The session seeds are the base configs' own.
    expect(configs.map((c) => c.seed)).toEqual(configs.map((_, i) => i + 1));
  });

  it('pins a field with a one-value range', () => {
    const pinned = draw(5, 30, { ...DEFAULT_DOMAIN_RANDOMIZATION, tickStructures: ['linear_cent'], edge: { min: 1, max: 1 }, fractionalProbability: 0 });
    for (const c of pinned) expect([c.tickStructure, c.edge, c.fractionalSizes]).toEqual(['linear_cent', 1, false]);
  });

  it('rejects invalid ranges with INVALID_CONFIG', () => {
    const bad: DomainRandomization[] = [
      { ...DEFAULT_DOMAIN_RANDOMIZATION, edge: { min: 0.5, max: 1.5 } },
      { ...DEFAULT_DOMAIN_RANDOMIZATION, tickStructures: [] },
      { ...DEFAULT_DOMAIN_RANDOMIZATION, markets: { min: 2.5, max: 4 } },
      { ...DEFAULT_DOMAIN_RANDOMIZATION, minutes: { min: 5, max: 1 } },
      { ...DEFAULT_DOMAIN_RANDOMIZATION, fractionalProbability: 2 },
    ];
    for (const r of bad) {
      expect(() => draw(1, 1, r)).toThrow();
      try {
        draw(1, 1, r);
      } catch (error) {
        expect(isKflowError(error, 'INVALID_CONFIG')).toBe(true);
      }
    }
  });
});
