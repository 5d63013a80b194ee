import { describe, expect, it } from 'vitest';
import { resolveSimConfig } from './config';
import { type MarketSamples, measureEdge, sampleSession } from './edgeReport';

describe('the edge knob', () => {
  it('edge 0: observable imbalance, flow and mid momentum do not predict the next mid moves', () => {
    for (const seed of [1, 2]) {
      const report = measureEdge(resolveSimConfig('informed', { seed, markets: 6, durationMs: 12 * 60_000, edge: 0 }));
      const c = report.correlations;
      // ~210 independent windows: |r| < 0.2 is a > 2.8σ band; the edge-1 values below are 0.5–0.8.
      expect(report.samples).toBeGreaterThan(200);
      expect(Math.abs(c.imbalance)).toBeLessThan(0.2);
      expect(Math.abs(c.flow)).toBeLessThan(0.2);
      expect(Math.abs(c.momentum)).toBeLessThan(0.2);
      // The makers quote around the latent itself: it stays inside the spread.
      expect(report.meanLatentGapCents).toBeLessThan(report.meanSpreadCents / 2);
    }
  });

  it('edge 1: the same signals clearly lead the mid', () => {
    const report = measureEdge(resolveSimConfig('informed', { seed: 1, markets: 6, durationMs: 12 * 60_000, edge: 1 }));
    const c = report.correlations;
    expect(report.meanLatentGapCents).toBeGreaterThan(2);
    expect(c.imbalance).toBeGreaterThan(0.3);
    expect(c.flow).toBeGreaterThan(0.5);
    expect(c.momentum).toBeGreaterThan(0.5);
  });
});

/** Kalshi's taker fee per contract in price units: 0.07·P·(1−P), rounded up to $0.0001. */
const takerFee = (price: number) => Math.ceil((0.07 * price * (10_000 - price)) / 10_000);

/**
 * Mean PnL per contract (price units, after taker fees both ways) of a taker that trades when
 * `direction × signal > threshold`: buys YES at the ask (or NO at 1 − bid), exits `hold` seconds later at
 * the bid (or 1 − ask). Positions never overlap.
 */
function takerStrategy(markets: readonly MarketSamples[], signal: (s: MarketSamples, i: number) => number, threshold: number, direction: 1 | -1, hold: number) {
  const pnls: number[] = [];
  for (const s of markets) {
    for (let i = 10; i + hold < s.mid.length; ) {
      const x = direction * signal(s, i);
      if (Math.abs(x) <= threshold || Number.isNaN(x)) {
        i++;
        continue;
      }
      const j = i + hold;
      if (x > 0) pnls.push(s.bid[j]! - s.ask[i]! - takerFee(s.ask[i]!) - takerFee(s.bid[j]!));
      else pnls.push(s.bid[i]! - s.ask[j]! - takerFee(10_000 - s.bid[i]!) - takerFee(10_000 - s.ask[j]!));
      i = j;
    }
  }
  const trades = pnls.length;
  const meanPnl = pnls.reduce((a, x) => a + x, 0) / Math.max(1, trades);
  const sd = Math.sqrt(pnls.reduce((a, x) => a + (x - meanPnl) ** 2, 0) / Math.max(1, trades - 1));
  return { trades, meanPnl, tStat: meanPnl / (sd / Math.sqrt(trades)) };
}

function bestStrategies(edge: number) {
  const markets = sampleSession(resolveSimConfig('informed', { seed: 5, markets: 8, durationMs: 15 * 60_000, edge }));
  const signals = {
    flow: { f: (s: MarketSamples, i: number) => s.flow[i]!, thresholds: [10_000, 30_000, 100_000] },
    imbalance: { f: (s: MarketSamples, i: number) => s.imbalance[i]!, thresholds: [0.2, 0.4, 0.6] },
    momentum: { f: (s: MarketSamples, i: number) => s.mid[i]! - s.mid[i - 10]!, thresholds: [100, 200, 400] },
  };
  const results: { name: string; trades: number; meanPnl: number; tStat: number }[] = [];
  for (const [name, { f, thresholds }] of Object.entries(signals)) {
    for (const threshold of thresholds) {
      for (const direction of [1, -1] as const) {
        for (const hold of [10, 30, 60]) {
          const r = takerStrategy(markets, f, threshold, direction, hold);
          if (r.trades >= 20) results.push({ name: `${name} ${direction > 0 ? '>' : '<'} ${threshold} hold ${hold}s`, ...r });
        }
      }
    }
  }
  return results.sort((a, b) => b.meanPnl - a.meanPnl);
}

describe('profit after fees', () => {
  it('edge 0: no signal-following or contrarian taker strategy makes money', () => {
    const results = bestStrategies(0);
    expect(results.length).toBeGreaterThan(20);
    // None is even insignificantly positive, and on average they lose about the spread plus two fees.
    expect(results[0]!.meanPnl).toBeLessThan(0);
    expect(results.reduce((a, r) => a + r.meanPnl, 0) / results.length).toBeLessThan(-200);
  });

  it('edge 1: simple strategies on observable signals beat spread and fees by cents per contract', () => {
    const best = bestStrategies(1)[0]!;
    expect(best.meanPnl).toBeGreaterThan(300);
    expect(best.tStat).toBeGreaterThan(3);
  });
});
