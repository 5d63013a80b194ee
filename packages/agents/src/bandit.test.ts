import { Box, Discrete, EMPTY_INFO, type Env, type EnvInfo, MultiDiscrete, SyncVectorEnv } from '@kflow/env';
import { describe, expect, it } from 'vitest';
import { trainA2c } from './a2c';
import { trainPpo } from './ppo';

/** One-step episodes; reward 1 for the target action (row), else 0. */
class MultiBandit implements Env<Box, MultiDiscrete, EnvInfo> {
  readonly observationSpace = new Box(0, 1, [1]);
  readonly actionSpace = new MultiDiscrete([2, 3]);
  private readonly obs = Float32Array.of(1);
  reset() {
    return { observation: this.obs, info: EMPTY_INFO };
  }
  step(action: Int32Array) {
    const reward = action[0] === 1 && action[1] === 2 ? 1 : 0;
    return { observation: this.obs, reward, terminated: true, truncated: false, info: EMPTY_INFO };
  }
  close() {}
}

/** Five arms, the best one (4) masked out: the agent must learn the best allowed arm (3). */
class MaskedBandit implements Env<Box, Discrete, EnvInfo> {
  readonly observationSpace = new Box(0, 1, [1]);
  readonly actionSpace = new Discrete(5);
  private readonly obs = Float32Array.of(1);
  private readonly info = { actionMask: Uint8Array.of(1, 1, 1, 1, 0) };
  reset() {
    return { observation: this.obs, info: this.info };
  }
  step(action: number) {
    if (action === 4) throw new Error('masked action taken');
    return { observation: this.obs, reward: action / 4, terminated: true, truncated: false, info: this.info };
  }
  close() {}
}

const fast = { nSteps: 32, batchSize: 64, nEpochs: 4, learningRate: 3e-3 } as const;

describe('discrete action spaces beyond CartPole', () => {
  it('PPO learns a MultiDiscrete bandit', () => {
    const envs = new SyncVectorEnv(Array.from({ length: 4 }, () => () => new MultiBandit()));
    const { policy } = trainPpo({ envs, totalTimesteps: 4096, seed: 0, ...fast });
    expect(Array.from(policy.actVector(Float32Array.of(1)))).toEqual([1, 2]);
  });

  it('PPO and A2C learn the best allowed arm and never take a masked one', () => {
    const envs = () => new SyncVectorEnv(Array.from({ length: 4 }, () => () => new MaskedBandit()));
    const mask = Uint8Array.of(1, 1, 1, 1, 0);
    expect(trainPpo({ envs: envs(), totalTimesteps: 4096, seed: 1, ...fast }).policy.act(Float32Array.of(1), mask)).toBe(3);
    const a2c = trainA2c({ envs: envs(), totalTimesteps: 8192, seed: 1, learningRate: 3e-3 });
    expect(a2c.policy.act(Float32Array.of(1), mask)).toBe(3);
  });
});
