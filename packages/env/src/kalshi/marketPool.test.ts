import { TEMPORAL_STATE_SIZE, TemporalState } from '@kflow/features';
import { OrderBook, createRng } from '@kflow/orderbook';
import { describe, expect, it } from 'vitest';
import { createMarketPool, replaySeriesEvent, startMarket } from './marketPool';
import { curriculumSampler, uniformSampler } from './marketSampler';
import { createSyntheticSession } from './syntheticSession';

describe('createSyntheticSession', () => {
  it('is deterministic per seed and replays without negative or crossed books', () => {
    const a = createSyntheticSession({ seed: 3, markets: 2, eventsPerMarket: 3000 });
    const b = createSyntheticSession({ seed: 3, markets: 2, eventsPerMarket: 3000 });
    expect(a).toEqual(b);
    expect(createSyntheticSession({ seed: 4, markets: 2, eventsPerMarket: 3000 })).not.toEqual(a);
    for (const series of a.markets) {
      expect(series.length).toBeGreaterThanOrEqual(3000);
      const book = new OrderBook(series.ticker);
      const temporal = new TemporalState();
      startMarket(series, book, temporal);
      for (let i = 0; i < series.length; i++) {
        replaySeriesEvent(series, i, book, temporal);
        expect(book.stale).toBe(false);
        expect(book.levelCount('yes')).toBeGreaterThan(0);
        expect(book.levelCount('no')).toBeGreaterThan(0);
      }
    }
  });
});

describe('createMarketPool', () => {
  it('checkpoints reproduce the state of a full replay exactly', () => {
    const session = createSyntheticSession({ seed: 5, markets: 1, eventsPerMarket: 1000 });
    const pool = createMarketPool([session], { checkpointInterval: 50 });
    const market = pool.markets[0]!;
    expect(market.books).toHaveLength(Math.ceil(market.series.length / 50));
    const book = new OrderBook('x');
    const temporal = new TemporalState();
    const saved = new Float64Array(TEMPORAL_STATE_SIZE);
    startMarket(market.series, book, temporal);
    for (let i = 0; i < market.series.length; i++) {
      if (i % 50 === 0) {
        expect(market.books[i / 50]!.equals(book)).toBe(true);
        temporal.save(saved);
        expect(market.temporal.subarray((i / 50) * TEMPORAL_STATE_SIZE, (i / 50 + 1) * TEMPORAL_STATE_SIZE)).toEqual(saved);
      }
      replaySeriesEvent(market.series, i, book, temporal);
    }
  });

  it('ranks difficulty by volatility and activity across the pool', () => {
    const pool = createMarketPool([createSyntheticSession({ seed: 8, markets: 5, eventsPerMarket: 800 })]);
    const d = pool.markets.map((m) => m.stats.difficulty);
    expect(Math.min(...d)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...d)).toBeLessThanOrEqual(1);
    expect(new Set(d).size).toBeGreaterThan(1);
    for (const m of pool.markets) {
      expect(m.stats.eventsPerMinute).toBeGreaterThan(0);
      expect(m.stats.volatility).toBeGreaterThan(0);
    }
    expect(pool.events).toBe(pool.markets.reduce((s, m) => s + m.series.length, 0));
    // The same recording twice: ties share a difficulty.
    const twice = createMarketPool([createSyntheticSession({ seed: 8, markets: 1, eventsPerMarket: 300 }), createSyntheticSession({ seed: 8, markets: 1, eventsPerMarket: 300 })]);
    expect(twice.markets[0]!.stats.difficulty).toBe(twice.markets[1]!.stats.difficulty);
  });

  it('rejects a pool without usable markets', () => {
    expect(() => createMarketPool([{ id: 'empty', markets: [] }])).toThrow(/no market/);
  });
});

describe('market samplers', () => {
  const markets = [0.9, 0.1, 0.5, 0.3].map((difficulty) => ({
    stats: { events: 10, durationMs: 1, eventsPerMinute: 1, volatility: 1, difficulty },
  }));

  it('uniform covers every market', () => {
    const rng = createRng(1);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(uniformSampler().sample(markets, rng));
    expect([...seen].sort()).toEqual([0, 1, 2, 3]);
  });

  it('curriculum admits harder markets as progress rises', () => {
    const rng = createRng(2);
    const sampler = curriculumSampler({ minDifficulty: 0.2 });
    const draw = () => new Set(Array.from({ length: 200 }, () => sampler.sample(markets, rng)));
    expect([...draw()]).toEqual([1]);
    sampler.progress = 0.5;
    expect([...draw()].sort()).toEqual([1, 2, 3]);
    sampler.progress = 1;
    expect(draw().size).toBe(4);
    expect(curriculumSampler({ minDifficulty: 0 }).sample(markets, rng)).toBe(1); // easiest is always eligible
  });
});
