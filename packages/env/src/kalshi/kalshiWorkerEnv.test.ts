import { createRng } from '@kflow/orderbook';
import { describe, expect, it } from 'vitest';
import { createAsyncVectorEnv } from '../core/asyncVectorEnv';
import { randomMasked } from '../core/env.testing';
import type { Box, Discrete } from '../core/spaces';
import { SyncVectorEnv } from '../core/syncVectorEnv';
import { type KalshiEnvInfo, createKalshiEnv } from './kalshiEnv';
import { type KalshiWorkerEnvOptions, kalshiWorkerEnv } from './kalshiWorkerEnv';
import { createMarketPool } from './marketPool';
import { createSyntheticSession } from './syntheticSession';

describe('kalshiWorkerEnv', () => {
  it('runs the Kalshi env in workers with the trajectories of SyncVectorEnv for the same seed (sessions sent once)', async () => {
    const sessions = [
      createSyntheticSession({ seed: 1, markets: 2, eventsPerMarket: 3000, settle: true }),
      createSyntheticSession({ seed: 2, markets: 1, eventsPerMarket: 3000 }),
    ];
    // Random episode lengths and order latency: both draw from the seeded generators of the sub-envs.
    const envOptions: Omit<KalshiWorkerEnvOptions, 'sessions'> = {
      cadence: { everyMs: 2000 },
      episodeSteps: { min: 10, max: 40 },
      sizesCenti: [100, 500],
      positionLimitCenti: 500,
      latency: { baseMs: 50, jitterMs: 200 },
    };
    const envs = await createAsyncVectorEnv<Box, Discrete, KalshiEnvInfo>({ env: kalshiWorkerEnv({ sessions, ...envOptions }), numEnvs: 3, workers: 2 });
    const pool = createMarketPool(sessions);
    const sync = new SyncVectorEnv(Array.from({ length: 3 }, () => () => createKalshiEnv({ sessions: pool, ...envOptions })));
    try {
      const a = envs.reset({ seed: 11 });
      const b = sync.reset({ seed: 11 });
      expect(Array.from(a.observations)).toEqual(Array.from(b.observations));
      expect(a.infos).toEqual(b.infos);
      const rng = createRng(5);
      const actions = new Int32Array(3);
      const n = envs.singleActionSpace.n;
      let episodes = 0;
      let fills = 0;
      for (let t = 0; t < 250; t++) {
        for (let i = 0; i < 3; i++) actions[i] = randomMasked(b.actionMasks!.subarray(i * n, (i + 1) * n), rng);
        const x = envs.step(actions);
        const y = sync.step(actions);
        expect(Array.from(x.observations)).toEqual(Array.from(y.observations));
        expect(Array.from(x.rewards)).toEqual(Array.from(y.rewards));
        expect([Array.from(x.terminated), Array.from(x.truncated), Array.from(x.autoreset)]).toEqual([Array.from(y.terminated), Array.from(y.truncated), Array.from(y.autoreset)]);
        expect(Array.from(x.actionMasks!)).toEqual(Array.from(y.actionMasks!));
        expect(x.infos).toEqual(y.infos);
        episodes += y.terminated.reduce((s, v) => s + v, 0) + y.truncated.reduce((s, v) => s + v, 0);
        fills += y.infos.reduce((s, info) => s + info.fills.length, 0);
      }
      expect(episodes).toBeGreaterThan(10);
      expect(fills).toBeGreaterThan(10);
    } finally {
      envs.close();
      sync.close();
    }
  });
});
