import { SyncVectorEnv, cartPoleWorkerEnv, createAsyncVectorEnv, createCartPole } from '@kflow/env';
import { describe, expect, it } from 'vitest';
import { trainPpo } from './ppo';
import type { TrainingEvent } from './training';

describe('PPO on an AsyncVectorEnv', () => {
  it('trains the policy SyncVectorEnv trains from the same seed, episode for episode', async () => {
    const hp = { totalTimesteps: 1024, seed: 4, nSteps: 64, batchSize: 64, nEpochs: 2 };
    const run = (envs: Parameters<typeof trainPpo>[0]['envs']) => {
      const episodes: number[] = [];
      const onEvent = (e: TrainingEvent) => e.kind === 'episode' && episodes.push(e.metrics['charts/episodic_return']!);
      const result = trainPpo({ envs, onEvent, ...hp });
      return { episodes, params: result.policy.parameters().map((p) => Array.from(p)) };
    };
    const sync = run(new SyncVectorEnv(Array.from({ length: 4 }, () => () => createCartPole())));
    const envs = await createAsyncVectorEnv({ env: cartPoleWorkerEnv(), numEnvs: 4, workers: 2 });
    try {
      const async = run(envs);
      expect(async.episodes.length).toBeGreaterThan(20);
      expect(async.episodes).toEqual(sync.episodes);
      expect(async.params).toEqual(sync.params);
    } finally {
      envs.close();
    }
  });
});
