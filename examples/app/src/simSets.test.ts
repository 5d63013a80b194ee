import { describe, expect, it } from 'vitest';
import { createRandomPolicy } from '@kflow/agents';
import { createRng } from '@kflow/orderbook';
import { DEFAULT_DOMAIN_RANDOMIZATION, resolveSimConfig } from '@kflow/sim';
import { LEARNING_CHECK_SIZES, SIGNIFICANT_T, clusteredT, sessionConfigs } from './commands/learningCheck';
import { evalEnv, evaluateOnSet, evaluateOracleOnSet, simulateSet } from './simSets';

// Two held-out sessions of the informed preset, 4 markets × 10 minutes: a few seconds to simulate.
const configs = (edge: number) => [101, 102].map((seed) => resolveSimConfig('informed', { seed, markets: 4, durationMs: 10 * 60_000, edge }));
const EPISODES = 80;
const SEED = 900_000;

describe('the oracle baseline', () => {
  it('earns significantly more than random on the informed preset, deterministically', () => {
    const set = simulateSet(configs(1));
    const oracle = evaluateOracleOnSet(set, EPISODES, SEED);
    expect(evaluateOracleOnSet(set, EPISODES, SEED)).toEqual(oracle);
    const random = evaluateOnSet(createRandomPolicy({ ...evalEnv(set).metadata, rng: createRng(SEED) }), set, EPISODES, SEED);
    // The same episodes (same markets and windows) for both policies: a paired, market-clustered test.
    expect(oracle.tickers).toEqual(random.tickers);
    expect(oracle.meanPnl).toBeGreaterThan(0);
    expect(oracle.meanTrades).toBeGreaterThan(1);
    expect(clusteredT(oracle.pnls, oracle.tickers)).toBeGreaterThan(SIGNIFICANT_T);
    expect(clusteredT(oracle.pnls.map((p, i) => p - random.pnls[i]!), oracle.tickers)).toBeGreaterThan(SIGNIFICANT_T);
  }, 60_000);

  it('earns nothing significant at edge 0, where the mid already is the latent', () => {
    const set = simulateSet(configs(0));
    const oracle = evaluateOracleOnSet(set, EPISODES, SEED);
    expect(clusteredT(oracle.pnls, oracle.tickers)).toBeLessThan(SIGNIFICANT_T);
    expect(Math.abs(oracle.meanPnl)).toBeLessThan(0.01);
  }, 60_000);
});

describe('domain-randomized training sessions', () => {
  it('are drawn per session from a seeded RNG: the same configs and captures every time, unlike the plain preset', () => {
    const size = LEARNING_CHECK_SIZES.ci;
    const randomized = sessionConfigs(size.trainSeeds, size, { randomize: DEFAULT_DOMAIN_RANDOMIZATION });
    expect(sessionConfigs(size.trainSeeds, size, { randomize: DEFAULT_DOMAIN_RANDOMIZATION })).toEqual(randomized);
    const plain = sessionConfigs(size.trainSeeds, size);
    expect(randomized.map((c) => c.seed)).toEqual(plain.map((c) => c.seed));
    const knobs = (c: (typeof plain)[number]) => [c.tickStructure, c.edge, c.fractionalSizes, c.markets, c.durationMs];
    expect(new Set(randomized.map((c) => JSON.stringify(knobs(c)))).size).toBe(randomized.length);
    expect(randomized.map(knobs)).not.toEqual(plain.map(knobs));
    // The edge-0 leak check pins the edge of every randomized session.
    expect(sessionConfigs(size.trainSeeds, size, { edge: 0, randomize: DEFAULT_DOMAIN_RANDOMIZATION }).map((c) => c.edge)).toEqual([0, 0, 0, 0]);
    // Short sessions keep this cheap; the captures of a randomized config are reproducible.
    const short = randomized.slice(0, 2).map((c) => ({ ...c, durationMs: 60_000 }));
    const a = simulateSet(short);
    const b = simulateSet(short);
    expect(a.sessions).toEqual(b.sessions);
    expect(a.sessions.map((s) => s.markets.length)).toEqual(short.map((c) => c.markets));
  }, 60_000);
});
