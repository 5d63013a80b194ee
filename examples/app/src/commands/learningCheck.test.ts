import { describe, expect, it } from 'vitest';
import { LEARNING_CHECK_SIZES, SIGNIFICANT_T, clusteredT, runLearningCheck } from './learningCheck';

// KFLOW_LEARNING=full runs the on-demand size (about a minute and a half alone on 2 cores).
const full = process.env['KFLOW_LEARNING'] === 'full';

describe('clusteredT', () => {
  it('tests the per-market means, not the (correlated) episodes', () => {
    // Four episodes, two markets with means 2 and 4: t = 3 / (√2 / √2) = 3.
    expect(clusteredT([1, 3, 4, 4], ['A', 'A', 'B', 'B'])).toBeCloseTo(3, 12);
    // The same values as independent episodes would look far more significant.
    expect(clusteredT([1, 3, 4, 4], ['A', 'B', 'C', 'D'])).toBeCloseTo(3 / (Math.sqrt(2) / 2), 12);
    expect(clusteredT([5, 5], ['A', 'A'])).toBe(0);
    expect(clusteredT([0, 0, 0], ['A', 'B', 'C'])).toBe(0);
  });
});

describe(`learning check (${full ? 'full' : 'CI'} size)`, () => {
  it('PPO trained with kflow train --data profits on held-out informed markets and beats the baselines; at edge 0 it finds nothing', async () => {
    const report = await runLearningCheck({ size: full ? LEARNING_CHECK_SIZES.full : LEARNING_CHECK_SIZES.ci });
    const { ppo, random, hold, heuristic } = report.edge1;
    // Positive mean PnL after fees, significant across held-out markets.
    expect(ppo.meanPnl).toBeGreaterThan(0);
    expect(ppo.tStat).toBeGreaterThan(SIGNIFICANT_T);
    expect(ppo.feesPaid).toBeGreaterThan(0);
    // Beats every baseline (paired over the same episodes; see the criteria for the paired t).
    for (const base of [random, hold, heuristic]) expect(ppo.meanPnl).toBeGreaterThan(base.meanPnl);
    for (const c of report.criteria.filter((c) => c.name.includes('beats'))) expect(c, c.detail).toMatchObject({ pass: true });
    // The size's Sharpe target (1 at full size, 0.7 at the default size: see LEARNING_CHECK_SIZES).
    expect(ppo.sharpe).toBeGreaterThan(report.size.minSharpe);
    // Leak checks at edge 0: neither the edge-0 PPO nor the edge-1 PPO makes a significant profit.
    expect(report.edge0.ppo.tStat).toBeLessThan(SIGNIFICANT_T);
    expect(report.edge0.ppoEdge1.tStat).toBeLessThan(SIGNIFICANT_T);
    // What `kflow learning-check` prints as PASSED: every criterion holds at this size.
    for (const c of report.criteria) expect(c, `${c.name}: ${c.detail}`).toMatchObject({ pass: true });
    expect(report.pass).toBe(true);
  }, 300_000);
});
