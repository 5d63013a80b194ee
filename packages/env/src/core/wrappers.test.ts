import { type Clock, createRng } from '@kflow/orderbook';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCartPole } from './cartPole';
import { checkEnv } from './checkEnv';
import { EnforceActionMask } from './enforceActionMask';
import { NormalizeObservation } from './normalizeObservation';
import { NormalizeReward } from './normalizeReward';
import { RecordEpisodeStatistics } from './recordEpisodeStatistics';
import { RunningMeanStd } from './runningMeanStd';
import type { Env } from './env';
import { ScriptedEnv, type ScriptedInfo, throwsCode } from './env.testing';
import type { Box, Discrete } from './spaces';
import { TimeLimit } from './timeLimit';

function twoPass(xs: readonly number[]): { mean: number; variance: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, variance: xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length };
}

describe('Wrapper', () => {
  it('forwards spaces, spec, metadata and close, and unwraps to the innermost env', () => {
    const inner = createCartPole();
    const env = new RecordEpisodeStatistics(new NormalizeReward(inner));
    expect(env.observationSpace).toBe(inner.observationSpace);
    expect(env.actionSpace).toBe(inner.actionSpace);
    expect(env.spec).toBe(inner.spec);
    expect(env.metadata).toBe(inner.metadata);
    expect(env.unwrapped).toBe(inner);
    const scripted = new ScriptedEnv({ length: 2 });
    new TimeLimit(scripted, { maxEpisodeSteps: 1 }).close();
    expect(scripted.closed).toBe(1);
  });
});

describe('TimeLimit', () => {
  it('truncates on the maxEpisodeSteps-th step and then needs a reset', () => {
    const env = new TimeLimit(new ScriptedEnv({ length: 100 }), { maxEpisodeSteps: 4 });
    expect(env.spec.maxEpisodeSteps).toBe(4);
    for (let episode = 0; episode < 2; episode++) {
      env.reset({ seed: episode });
      const flags = [1, 2, 3, 4].map(() => env.step(0)).map((s) => [s.terminated, s.truncated]);
      expect(flags).toEqual([[false, false], [false, false], [false, false], [false, true]]);
      expect(env.elapsedSteps).toBe(4);
      throwsCode(() => env.step(0), 'ENV_NEEDS_RESET');
    }
  });

  it('passes earlier terminations through and sets both flags when they coincide', () => {
    const early = new TimeLimit(new ScriptedEnv({ length: 2 }), { maxEpisodeSteps: 5 });
    early.reset();
    early.step(0);
    expect(early.step(0)).toMatchObject({ terminated: true, truncated: false });
    const same = new TimeLimit(new ScriptedEnv({ length: 3 }), { maxEpisodeSteps: 3 });
    same.reset();
    same.step(0);
    same.step(0);
    expect(same.step(0)).toMatchObject({ terminated: true, truncated: true });
  });

  it('overrides the spec of CartPole and passes checkEnv', () => {
    const env = new TimeLimit(createCartPole({ maxEpisodeSteps: Infinity }), { maxEpisodeSteps: 10 });
    expect(env.spec).toEqual({ id: 'CartPole-v1', rewardThreshold: 475, maxEpisodeSteps: 10 });
    expect(checkEnv(env, { steps: 100 }).truncations).toBeGreaterThan(0);
    throwsCode(() => new TimeLimit(createCartPole(), { maxEpisodeSteps: 0 }), 'INVALID_ARGUMENT');
  });
});

describe('RecordEpisodeStatistics', () => {
  it('reports return, length and clock time on the last step only', () => {
    let ms = 1_000;
    const clock: Clock = { now: () => ms };
    const env = new RecordEpisodeStatistics(new ScriptedEnv({ length: 3 }), { clock });
    env.reset({ seed: 1 });
    ms += 250;
    const s1 = env.step(2); // reward 2.1
    const s2 = env.step(0); // reward 0.2
    ms += 1_250;
    const s3 = env.step(1); // reward 1.3
    expect(s1.info.episode).toBeUndefined();
    expect(s2.info.episode).toBeUndefined();
    expect(s3.info.episode).toEqual({ r: 2.1 + 0.2 + 1.3, l: 3, t: 1.5 });
    expect(s3.info.t).toBe(3);
    expect(env.episodeCount).toBe(1);
    env.reset();
    env.step(0);
    env.step(0);
    expect(env.step(0).info.episode).toEqual({ r: 0.1 + 0.2 + 0.3, l: 3, t: 0 });
  });

  it('counts truncations from an inner TimeLimit and reports t = 0 without a clock', () => {
    const env = new RecordEpisodeStatistics(new TimeLimit(createCartPole({ maxEpisodeSteps: Infinity }), { maxEpisodeSteps: 5 }));
    env.reset({ seed: 2 });
    let last = env.step(0);
    for (let i = 0; i < 4 && !last.terminated; i++) last = env.step(i % 2);
    expect(last.truncated).toBe(true);
    expect(last.info.episode).toEqual({ r: 5, l: 5, t: 0 });
  });
});

describe('RunningMeanStd', () => {
  it('matches a two-pass mean and population variance', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: -1e3, max: 1e3, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true })), { minLength: 1, maxLength: 200 }), (rows) => {
        const rms = new RunningMeanStd(2);
        for (const row of rows) rms.update(row);
        for (const i of [0, 1]) {
          const { mean, variance } = twoPass(rows.map((r) => r[i]!));
          expect(rms.mean[i]).toBeCloseTo(mean, 6);
          expect(rms.variance(i)).toBeCloseTo(variance, 4);
        }
        expect(rms.count).toBe(rows.length);
      }),
      { numRuns: 100 },
    );
  });

  it('snapshots and restores', () => {
    const a = new RunningMeanStd(2);
    a.update([1, 2]);
    a.update([3, 6]);
    const b = new RunningMeanStd(2);
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    b.update([5, 7]);
    a.update([5, 7]);
    expect(b.snapshot()).toEqual(a.snapshot());
    expect(new RunningMeanStd(1).variance(0)).toBe(1);
    throwsCode(() => new RunningMeanStd(3).restore(a.snapshot()), 'INVALID_ARGUMENT');
  });
});

describe('NormalizeObservation', () => {
  it('normalizes with the running statistics of every observation so far, itself included', () => {
    const raw = createCartPole();
    const env = new NormalizeObservation(createCartPole());
    const seen: number[][] = [];
    const expectNormalized = (raw: Float32Array, got: Float32Array) => {
      seen.push(Array.from(raw));
      for (let i = 0; i < 4; i++) {
        const { mean, variance } = twoPass(seen.map((o) => o[i]!));
        expect(got[i]).toBeCloseTo(Math.fround((raw[i]! - mean) / Math.sqrt(variance + 1e-8)), 4);
      }
    };
    expectNormalized(raw.reset({ seed: 4 }).observation, env.reset({ seed: 4 }).observation);
    const rng = createRng(1);
    for (let t = 0; t < 60; t++) {
      const a = rng.int(2);
      const r = raw.step(a);
      const s = env.step(a);
      expectNormalized(r.observation, s.observation);
      expect(s.reward).toBe(r.reward);
      if (r.terminated || r.truncated) {
        expectNormalized(raw.reset().observation, env.reset().observation);
      }
    }
    expect(env.rms.count).toBe(seen.length);
  });

  it('clips, exposes the clipped space, freezes when asked and passes checkEnv', () => {
    const env = new NormalizeObservation(createCartPole(), { clip: 0.5 });
    expect(env.observationSpace.low[0]).toBe(-0.5);
    expect(env.observationSpace.high[3]).toBe(0.5);
    env.reset({ seed: 1 });
    for (let t = 0; t < 5; t++) {
      const { observation } = env.step(1);
      expect(observation.every((v) => Math.abs(v) <= 0.5)).toBe(true);
    }
    expect(Math.max(...Array.from(env.step(1).observation, Math.abs))).toBe(0.5);
    env.updateStats = false;
    const count = env.rms.count;
    env.reset();
    env.step(0);
    expect(env.rms.count).toBe(count);
    // Running statistics carry over between rollouts, so seeding alone cannot reproduce a trajectory:
    // checkEnv fails while they update and passes once they are frozen.
    const checked = new NormalizeObservation(createCartPole(), { clip: 10 });
    throwsCode(() => checkEnv(checked), 'ENV_CHECK_FAILED');
    checked.updateStats = false;
    expect(checkEnv(checked).ok).toBe(true);
  });
});

describe('NormalizeReward', () => {
  it('divides rewards by the std of the discounted return, restarting it on reset', () => {
    const gamma = 0.9;
    const env = new NormalizeReward(new ScriptedEnv({ length: 4 }), { gamma });
    const returns: number[] = [];
    const rng = createRng(3);
    for (let episode = 0; episode < 3; episode++) {
      env.reset({ seed: episode });
      let g = 0;
      for (let t = 1; t <= 4; t++) {
        const a = rng.int(3);
        const raw = a + t / 10;
        g = gamma * g + raw;
        returns.push(g);
        const { reward } = env.step(a);
        expect(reward).toBeCloseTo(raw / Math.sqrt(twoPass(returns).variance + 1e-8), 6);
      }
    }
    env.updateStats = false;
    env.reset();
    env.step(0);
    expect(env.rms.count).toBe(12);
    throwsCode(() => new NormalizeReward(createCartPole(), { gamma: 1.5 }), 'INVALID_ARGUMENT');
  });
});

describe('EnforceActionMask', () => {
  it('lets allowed actions through and throws on masked ones', () => {
    const inner = new ScriptedEnv({ length: 10, masks: true });
    const env = new EnforceActionMask(inner);
    env.reset({ seed: 1 }); // t = 0 forbids action 0
    expect(env.isAllowed(0)).toBe(false);
    expect(env.isAllowed(1)).toBe(true);
    expect(env.isAllowed(7)).toBe(false);
    throwsCode(() => env.step(0), 'INVALID_ACTION');
    env.step(2); // t = 1 forbids action 1
    expect(Array.from(env.currentMask!)).toEqual([1, 0, 1]);
    throwsCode(() => env.step(1), 'INVALID_ACTION');
    expect(inner.actions).toEqual([2]);
  });

  it('replaces masked actions with the fallback and reports them', () => {
    const inner = new ScriptedEnv({ length: 10, masks: true });
    const env = new EnforceActionMask(inner, { fallbackAction: 2 });
    env.reset();
    const step = env.step(0);
    expect(step.info.maskedAction).toBe(0);
    expect(step.reward).toBeCloseTo(2.1, 12);
    expect(env.step(2).info.maskedAction).toBeUndefined(); // t = 1 forbids 1 only
    throwsCode(() => env.step(2), 'INVALID_ACTION'); // t = 2 forbids 2, the fallback itself
    throwsCode(() => new EnforceActionMask(inner, { fallbackAction: 3 }), 'INVALID_ARGUMENT');
  });

  it('rejects invalid masks from the env and passes mask-free envs through', () => {
    const broken = new ScriptedEnv({ length: 5 });
    const zero: Env<Box, Discrete, ScriptedInfo> = {
      observationSpace: broken.observationSpace,
      actionSpace: broken.actionSpace,
      reset: () => ({ observation: new Float32Array(2), info: { t: 0, actionMask: new Uint8Array(3) } }),
      step: (a: number) => broken.step(a),
      close: () => {},
    };
    throwsCode(() => new EnforceActionMask(zero).reset(), 'INVALID_ACTION_MASK');
    const plain = new EnforceActionMask(createCartPole());
    plain.reset({ seed: 1 });
    expect(plain.currentMask).toBeUndefined();
    expect(plain.step(1).reward).toBe(1);
    expect(checkEnv(new EnforceActionMask(new ScriptedEnv({ length: 7, masks: true })), { steps: 50 }).actionMasks).toBe(true);
  });
});
