import { SyncVectorEnv, createKalshiEnv, createSyntheticSession, kalshiEnvMetadata } from '@kflow/env';
import { FEATURE_SET_VERSION, F } from '@kflow/features';
import { createRng, isKflowError } from '@kflow/orderbook';
import { describe, expect, it } from 'vitest';
import { createHoldPolicy, createRandomPolicy } from './baselines';
import { createCheckpoint, loadPolicy } from './checkpoint';
import { createKalshiHeuristicPolicy, evaluateKalshi } from './kalshi';
import { trainPpo } from './ppo';

const session = createSyntheticSession({ seed: 3, markets: 2, eventsPerMarket: 3000 });
const env = () => createKalshiEnv({ sessions: [session], episodeSteps: 64 });
const meta = kalshiEnvMetadata();

describe('Kalshi baselines and evaluation', () => {
  it('hold never trades; random trades and pays fees; results are seeded', () => {
    const hold = evaluateKalshi(createHoldPolicy(meta), env(), 5, { seed: 1 });
    expect(hold.meanTrades).toBe(0);
    expect(hold.meanPnl).toBe(0);
    expect(hold.feesPaid).toBe(0);
    expect(hold.sharpe).toBe(0);
    const random = () => createRandomPolicy({ ...meta, rng: createRng(2) });
    const a = evaluateKalshi(random(), env(), 5, { seed: 1 });
    expect(a.meanTrades).toBeGreaterThan(0);
    expect(a.feesPaid).toBeGreaterThan(0);
    expect(evaluateKalshi(random(), env(), 5, { seed: 1 })).toEqual(a);
    // Each episode names its market, so error bars can be clustered by market.
    const markets = session.markets.map((m) => m.ticker);
    expect(a.tickers).toHaveLength(5);
    for (const t of a.tickers) expect(markets).toContain(t);
  });

  it('the heuristic follows the top-of-book imbalance and falls back to HOLD when masked', () => {
    const policy = createKalshiHeuristicPolicy(meta);
    const obs = new Float32Array(meta.observationSize);
    obs[F.imbalanceTop] = 0.9;
    const buyYes = meta.actionKinds.indexOf('BUY_YES_NOW');
    expect(policy.act(obs)).toBe(buyYes);
    obs[F.imbalanceTop] = -0.9;
    expect(meta.actionKinds[policy.act(obs)]).toBe('BUY_NO_NOW');
    obs[F.position] = 0.5;
    expect(meta.actionKinds[policy.act(obs)]).toBe('SELL_YES_NOW');
    const mask = new Uint8Array(meta.actionCount).fill(1);
    mask[policy.act(obs)] = 0;
    expect(policy.act(obs, mask)).toBe(0);
    expect(evaluateKalshi(policy, env(), 3, { seed: 4 }).episodes).toBe(3);
  });

  it('PPO trains on the Kalshi env with action masks; the checkpoint pins the feature set', () => {
    const envs = new SyncVectorEnv([env, env]);
    const result = trainPpo({ envs, totalTimesteps: 512, seed: 0, nSteps: 128, nEpochs: 1, featureSetVersion: FEATURE_SET_VERSION });
    expect(result.timesteps).toBe(512);
    const checkpoint = createCheckpoint(result);
    const policy = loadPolicy(checkpoint, { featureSetVersion: FEATURE_SET_VERSION, observationSize: meta.observationSize });
    expect(policy.actionCount).toBe(meta.actionCount);
    try {
      loadPolicy(checkpoint, { featureSetVersion: 'kflow-features/0' });
      throw new Error('expected a mismatch');
    } catch (error) {
      expect(isKflowError(error, 'FEATURE_SET_MISMATCH')).toBe(true);
    }
    const evaluation = evaluateKalshi(policy, env(), 2, { seed: 9 });
    expect(Number.isFinite(evaluation.meanPnl)).toBe(true);
  });
});
