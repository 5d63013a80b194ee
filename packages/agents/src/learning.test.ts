/**
 * The issue's learning targets on CartPole-v1, evaluated like SB3's `evaluate_policy` (20 deterministic
 * episodes). Seed 0 runs in the default suite; `KFLOW_LEARNING=all` runs seeds 0, 1 and 2.
 */
import { SyncVectorEnv, createCartPole } from '@kflow/env';
import { describe, expect, it } from 'vitest';
import { trainA2c } from './a2c';
import { evaluate } from './evaluate';
import { PPO_ZOO_CARTPOLE, trainPpo } from './ppo';

const seeds = process.env.KFLOW_LEARNING === 'all' ? [0, 1, 2] : [0];
const cartPoles = (n: number) => new SyncVectorEnv(Array.from({ length: n }, () => () => createCartPole()));
const evalMean = (policy: Parameters<typeof evaluate>[0]) => evaluate(policy, createCartPole(), 20, { seed: 10_000 }).meanReturn;

describe('learning on CartPole-v1', () => {
  it.each(seeds)('PPO with SB3 defaults reaches ≥ 475 within 100k steps (seed %i)', { timeout: 180_000 }, (seed) => {
    const { policy, timesteps } = trainPpo({ envs: cartPoles(1), totalTimesteps: 100_000, seed });
    expect(timesteps).toBeLessThanOrEqual(100_352);
    expect(evalMean(policy)).toBeGreaterThanOrEqual(475);
  });

  it.each(seeds)('PPO with the rl-zoo preset reaches ≥ 475 within 100k steps (seed %i)', { timeout: 180_000 }, (seed) => {
    const { policy, timesteps } = trainPpo({ envs: cartPoles(8), totalTimesteps: 100_000, seed, ...PPO_ZOO_CARTPOLE });
    expect(timesteps).toBeLessThanOrEqual(100_096);
    expect(evalMean(policy)).toBeGreaterThanOrEqual(475);
  });

  it.each(seeds)('A2C with SB3 defaults (8 envs, as rl-zoo) reaches ≥ 400 within 200k steps (seed %i)', { timeout: 180_000 }, (seed) => {
    const { policy, timesteps } = trainA2c({ envs: cartPoles(8), totalTimesteps: 200_000, seed });
    expect(timesteps).toBeLessThanOrEqual(200_000);
    expect(evalMean(policy)).toBeGreaterThanOrEqual(400);
  });
});
