import { Box, Discrete, EMPTY_INFO, type Env, type EnvInfo, SyncVectorEnv } from '@kflow/env';
import { createRng } from '@kflow/orderbook';
import { describe, expect, it } from 'vitest';
import { ActorCritic } from './actorCritic';
import { RolloutCollector } from './rolloutCollector';

/** Observation = steps taken; reward 1 per step; the episode ends after 3 steps (terminated or truncated). */
class CountingEnv implements Env<Box, Discrete, EnvInfo> {
  readonly observationSpace = new Box(-100, 100, [1]);
  readonly actionSpace = new Discrete(2);
  private t = 0;
  private readonly obs = new Float32Array(1);
  constructor(
    private readonly end: 'terminated' | 'truncated',
    private readonly mask?: Uint8Array,
  ) {}
  private info(): EnvInfo {
    return this.mask === undefined ? EMPTY_INFO : { actionMask: this.mask };
  }
  reset() {
    this.t = 0;
    this.obs[0] = 0;
    return { observation: this.obs, info: this.info() };
  }
  step() {
    this.t++;
    this.obs[0] = this.t;
    const done = this.t === 3;
    return {
      observation: this.obs,
      reward: 1,
      terminated: done && this.end === 'terminated',
      truncated: done && this.end === 'truncated',
      info: this.info(),
    };
  }
  close() {}
}

function collect(end: 'terminated' | 'truncated', mask?: Uint8Array) {
  const envs = new SyncVectorEnv([() => new CountingEnv(end, mask)]);
  const policy = new ActorCritic({ observationSize: 1, nvec: [2] });
  policy.init(createRng(0));
  const episodes: number[] = [];
  const collector = new RolloutCollector({
    envs,
    policy,
    nSteps: 8,
    gamma: 0.9,
    gaeLambda: 0.95,
    seed: 0,
    rng: createRng(1),
    onEpisode: (r) => episodes.push(r),
  });
  collector.collect();
  const v = new Float32Array(1);
  policy.predictValues(Float32Array.of(3), 1, v);
  return { buffer: collector.buffer, finalValue: v[0]!, episodes, collector };
}

describe('RolloutCollector', () => {
  it('bootstraps truncated steps with γ·V(final observation) and skips autoreset entries', () => {
    const { buffer, finalValue, episodes, collector } = collect('truncated');
    // Steps: obs 0,1,2 (real), 3 (autoreset entry, invalid), 0,1,2 (real), 3 (invalid).
    expect(Array.from(buffer.valid)).toEqual([1, 1, 1, 0, 1, 1, 1, 0]);
    expect(Array.from(buffer.observations)).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
    expect(Array.from(buffer.episodeStarts)).toEqual([1, 0, 0, 1, 0, 0, 0, 1]);
    expect(buffer.rewards[1]).toBe(1);
    expect(buffer.rewards[2]).toBeCloseTo(1 + 0.9 * finalValue, 6);
    expect(buffer.rewards[6]).toBeCloseTo(1 + 0.9 * finalValue, 6);
    // GAE stops at the episode end: A_2 = r_2 (with bootstrap) − V(s_2).
    expect(buffer.advantages[2]).toBeCloseTo(buffer.rewards[2]! - buffer.values[2]!, 5);
    expect(episodes).toEqual([3, 3]);
    expect(collector.timesteps).toBe(8);
  });

  it('does not bootstrap terminated steps', () => {
    const { buffer } = collect('terminated');
    expect(buffer.rewards[2]).toBe(1);
    expect(buffer.advantages[2]).toBeCloseTo(1 - buffer.values[2]!, 5);
  });

  it('bootstraps a truncation on the last step of a rollout from the last value', () => {
    const envs = new SyncVectorEnv([() => new CountingEnv('truncated')]);
    const policy = new ActorCritic({ observationSize: 1, nvec: [2] });
    policy.init(createRng(0));
    const collector = new RolloutCollector({ envs, policy, nSteps: 3, gamma: 0.9, gaeLambda: 1, seed: 0, rng: createRng(1) });
    collector.collect();
    const v = new Float32Array(1);
    policy.predictValues(Float32Array.of(3), 1, v);
    expect(collector.buffer.rewards[2]).toBeCloseTo(1 + 0.9 * v[0]!, 6);
    // The next rollout starts with the autoreset entry and must not add the bootstrap again.
    collector.collect();
    expect(collector.buffer.valid[0]).toBe(0);
    expect(collector.buffer.rewards[0]).toBe(0);
  });

  it('stores the env action masks and never samples a masked action', () => {
    const { buffer } = collect('terminated', Uint8Array.of(0, 1));
    expect(buffer.maskSize).toBe(2);
    expect(Array.from(buffer.masks.subarray(0, 2))).toEqual([0, 1]);
    for (let k = 0; k < buffer.size; k++) if (buffer.valid[k] === 1) expect(buffer.actions[k]).toBe(1);
  });
});
