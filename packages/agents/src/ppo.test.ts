import { SyncVectorEnv, createCartPole } from '@kflow/env';
import { describe, expect, it } from 'vitest';
import { trainA2c } from './a2c';
import { trainPpo } from './ppo';
import type { TrainingEvent } from './training';

function cartPoles(n: number) {
  return new SyncVectorEnv(Array.from({ length: n }, () => () => createCartPole()));
}

function shortPpo(seed: number, extra: Parameters<typeof trainPpo>[0] extends infer O ? Partial<O> : never = {}) {
  const events: TrainingEvent[] = [];
  const result = trainPpo({
    envs: cartPoles(2),
    totalTimesteps: 2048,
    seed,
    nSteps: 256,
    batchSize: 64,
    nEpochs: 2,
    onEvent: (e) => events.push(e),
    ...extra,
  });
  return { result, events, params: result.policy.parameters().map((p) => Array.from(p)) };
}

describe('trainPpo', () => {
  it('is deterministic: the same seed gives the same training curve and weights', () => {
    const a = shortPpo(3);
    const b = shortPpo(3);
    expect(a.events.length).toBeGreaterThan(4);
    expect(b.events).toEqual(a.events);
    expect(b.params).toEqual(a.params);
    const c = shortPpo(4);
    expect(c.params).not.toEqual(a.params);
  });

  it('runs whole rollouts, reports the CleanRL metrics and SB3 schedules', () => {
    const { result, events } = shortPpo(0, { learningRate: { kind: 'linear', start: 1e-3 }, clipRangeVf: 0.2 });
    expect(result.timesteps).toBe(2048);
    expect(result.updates).toBe(4);
    const updates = events.filter((e) => e.kind === 'update');
    expect(updates).toHaveLength(4);
    for (const name of [
      'losses/policy_loss',
      'losses/value_loss',
      'losses/entropy',
      'losses/approx_kl',
      'losses/clip_fraction',
      'losses/explained_variance',
      'charts/learning_rate',
    ]) {
      expect(Number.isFinite(updates[0]!.metrics[name]), name).toBe(true);
    }
    // Linear schedule evaluated after each rollout: progress remaining 0.75, 0.5, 0.25, 0.
    expect(updates.map((e) => e.metrics['charts/learning_rate'])).toEqual([7.5e-4, 5e-4, 2.5e-4, 0]);
    expect(events.some((e) => e.kind === 'episode' && e.metrics['charts/episodic_return']! > 0)).toBe(true);
    expect(updates[0]!.metrics['charts/SPS']).toBeUndefined();
  });

  it('stops an update early once approx_kl exceeds 1.5 × target_kl', () => {
    const free = shortPpo(0).events.filter((e) => e.kind === 'update');
    const stopped = shortPpo(0, { targetKl: 1e-9 }).events.filter((e) => e.kind === 'update');
    // 2 epochs × 512 samples / 64 = 16 steps; with a tiny target only the first (ratio = 1) minibatch steps.
    expect(free[0]!.metrics['charts/gradient_steps']).toBe(16);
    expect(stopped[0]!.metrics['charts/gradient_steps']).toBe(1);
  });

  it('rejects invalid hyperparameters', () => {
    expect(() => trainPpo({ envs: cartPoles(1), totalTimesteps: 10, seed: 0, batchSize: 0 })).toThrow(/batchSize/);
  });
});

describe('trainA2c', () => {
  it('is deterministic and updates once per rollout', () => {
    const run = () => {
      const result = trainA2c({ envs: cartPoles(2), totalTimesteps: 1000, seed: 5 });
      return { updates: result.updates, params: result.policy.parameters().map((p) => Array.from(p)) };
    };
    const a = run();
    expect(a.updates).toBe(100);
    expect(run()).toEqual(a);
  });
});
