import { createRng } from '@kflow/orderbook';
import { describe, expect, it } from 'vitest';
import { createCartPole } from './cartPole';
import { RecordEpisodeStatistics } from './recordEpisodeStatistics';
import { ScriptedEnv, throwsCode } from './env.testing';
import type { Env } from './env';
import { Box, Discrete, MultiDiscrete } from './spaces';
import { SyncVectorEnv } from './syncVectorEnv';

const row = (obs: Float32Array, i: number, size: number) => Array.from(obs.subarray(i * size, (i + 1) * size));

describe('SyncVectorEnv', () => {
  it('seeds sub-env i with seed + i and batches observations row by row', () => {
    const envs = new SyncVectorEnv(Array.from({ length: 3 }, () => () => createCartPole()));
    expect([envs.numEnvs, envs.observationSize, envs.singleActionSpace.n]).toEqual([3, 4, 2]);
    const { observations, infos } = envs.reset({ seed: 10 });
    expect(observations.length).toBe(12);
    for (let i = 0; i < 3; i++) expect(row(observations, i, 4)).toEqual(Array.from(createCartPole().reset({ seed: 10 + i }).observation));
    expect(infos).toHaveLength(3);
  });

  it('autoresets on the NEXT step: final observation first, then the reset observation with reward 0', () => {
    // Sub-env i ends its episodes after 2 + i steps.
    const envs = new SyncVectorEnv([0, 1].map((i) => () => new ScriptedEnv({ length: 2 + i })));
    envs.reset({ seed: 1 });
    const a = Int32Array.of(1, 2);
    const s1 = envs.step(a);
    expect(row(s1.observations, 0, 2)).toEqual([1, 1001]);
    expect(Array.from(s1.terminated)).toEqual([0, 0]);
    envs.step(a);
    // Step 2: sub-env 0 ends; its row holds the FINAL observation (t = 2) and its real reward.
    expect(row(s1.observations, 0, 2)).toEqual([2, 1001]);
    expect(Array.from(s1.terminated)).toEqual([1, 0]);
    expect(s1.rewards[0]).toBeCloseTo(1.2, 12);
    expect(s1.infos[0]!.t).toBe(2);
    // Step 3: sub-env 0 is reset (action ignored), sub-env 1 ends.
    const s3 = envs.step(Int32Array.of(0, 0));
    expect(s3).toBe(s1); // the same result object and buffers every step
    expect(row(s3.observations, 0, 2)).toEqual([0, 1002]);
    expect([s3.rewards[0], s3.terminated[0], s3.truncated[0], s3.autoreset[0]]).toEqual([0, 0, 0, 1]);
    expect(row(s3.observations, 1, 2)).toEqual([3, 2001]);
    expect([s3.terminated[1], s3.autoreset[1]]).toEqual([1, 0]);
    const inner = envs.envs as readonly ScriptedEnv[];
    expect(inner[0]!.actions).toEqual([1, 1]);
    expect(inner[0]!.resets).toBe(2);
    // Step 4: sub-env 0 steps again normally, sub-env 1 resets.
    envs.step(Int32Array.of(2, 2));
    expect(row(s3.observations, 0, 2)).toEqual([1, 1002]);
    expect(Array.from(s3.autoreset)).toEqual([0, 1]);
    expect(inner[0]!.actions).toEqual([1, 1, 2]);
    expect(inner[1]!.actions).toEqual([2, 2, 0]);
  });

  it('returns the final observation of a truncated episode on the step that truncates (bootstrap from it)', () => {
    const envs = new SyncVectorEnv([() => new ScriptedEnv({ length: 3, endWith: 'truncated' })]);
    envs.reset({ seed: 0 });
    envs.step([0]);
    envs.step([0]);
    const last = envs.step([0]);
    expect([last.terminated[0], last.truncated[0], last.autoreset[0]]).toEqual([0, 1, 0]);
    expect(row(last.observations, 0, 2)).toEqual([3, 1]);
    envs.step([0]);
    expect(row(last.observations, 0, 2)).toEqual([0, 2]);
    expect(last.autoreset[0]).toBe(1);
  });

  it('reproduces single-env trajectories under next-step autoreset semantics', () => {
    const n = 4;
    const vec = new SyncVectorEnv(Array.from({ length: n }, () => () => createCartPole()));
    const singles = Array.from({ length: n }, () => createCartPole());
    const pending = Array.from({ length: n }, () => false);
    vec.reset({ seed: 100 });
    singles.forEach((env, i) => env.reset({ seed: 100 + i }));
    const rng = createRng(8);
    const actions = new Int32Array(n);
    let episodes = 0;
    for (let t = 0; t < 400; t++) {
      for (let i = 0; i < n; i++) actions[i] = rng.int(2);
      const out = vec.step(actions);
      for (let i = 0; i < n; i++) {
        const env = singles[i]!;
        if (pending[i]) {
          pending[i] = false;
          expect(row(out.observations, i, 4)).toEqual(Array.from(env.reset().observation));
          expect(out.autoreset[i]).toBe(1);
          continue;
        }
        const s = env.step(actions[i]!);
        expect(row(out.observations, i, 4)).toEqual(Array.from(s.observation));
        expect([out.rewards[i], out.terminated[i], out.truncated[i]]).toEqual([s.reward, +s.terminated, +s.truncated]);
        pending[i] = s.terminated || s.truncated;
        if (pending[i]) episodes++;
      }
    }
    expect(episodes).toBeGreaterThan(20);
  });

  it('batches action masks, all ones for envs that send none', () => {
    const envs = new SyncVectorEnv([() => new ScriptedEnv({ length: 2, masks: true }), () => new ScriptedEnv({ length: 9 })]);
    const r = envs.reset({ seed: 1 });
    expect(Array.from(r.actionMasks!)).toEqual([0, 1, 1, 1, 1, 1]);
    envs.step(Int32Array.of(1, 0));
    expect(Array.from(r.actionMasks!)).toEqual([1, 0, 1, 1, 1, 1]);
    expect(new SyncVectorEnv([() => createCartPole()]).reset().actionMasks).toEqual(Uint8Array.of(1, 1));
  });

  it('batches concatenated MultiDiscrete masks', () => {
    const inner = createCartPole();
    const actionSpace = new MultiDiscrete([2, 3]);
    const mask = Uint8Array.of(1, 0, 0, 1, 1);
    const env: Env<Box, MultiDiscrete> = {
      observationSpace: inner.observationSpace,
      actionSpace,
      reset: (o) => ({ ...inner.reset(o), info: { actionMask: mask } }),
      step: (a) => ({ ...inner.step(a[0]!), info: {} }),
      close: () => {},
    };
    const envs = new SyncVectorEnv([() => env]);
    expect(Array.from(envs.reset({ seed: 1 }).actionMasks!)).toEqual([1, 0, 0, 1, 1]);
    expect(Array.from(envs.step([Int32Array.of(0, 1)]).actionMasks!)).toEqual([1, 1, 1, 1, 1]);
  });

  it('carries RecordEpisodeStatistics of finished episodes in infos', () => {
    const envs = new SyncVectorEnv([() => new RecordEpisodeStatistics(new ScriptedEnv({ length: 2 }))]);
    envs.reset();
    expect(envs.step([1]).infos[0]!.episode).toBeUndefined();
    expect(envs.step([1]).infos[0]!.episode).toEqual({ r: 1.1 + 1.2, l: 2, t: 0 });
    expect(envs.step([1]).infos[0]!.episode).toBeUndefined();
  });

  it('rejects misuse: empty, mismatched spaces, non-float32 observations, wrong action count, use before reset or after close', () => {
    throwsCode(() => new SyncVectorEnv([]), 'INVALID_ARGUMENT');
    throwsCode(() => new SyncVectorEnv([() => createCartPole(), () => new ScriptedEnv({ length: 2 }) as never]), 'INVALID_ARGUMENT');
    const f64 = { ...createCartPole(), observationSpace: new Box(0, 1, [4], 'float64'), actionSpace: new Discrete(2) };
    throwsCode(() => new SyncVectorEnv([() => f64 as never]), 'INVALID_ARGUMENT');
    const envs = new SyncVectorEnv([() => createCartPole(), () => createCartPole()]);
    throwsCode(() => envs.step(Int32Array.of(0, 0)), 'ENV_NEEDS_RESET');
    envs.reset();
    throwsCode(() => envs.step(Int32Array.of(0)), 'INVALID_ACTION');
    throwsCode(() => envs.step(Int32Array.of(0, 2)), 'INVALID_ACTION');
    const inner = new ScriptedEnv({ length: 2 });
    const closing = new SyncVectorEnv([() => inner]);
    closing.close();
    closing.close();
    expect(inner.closed).toBe(1);
    throwsCode(() => closing.reset(), 'INVALID_ARGUMENT');
  });
});
