import { KflowError, createRng, isKflowError } from '@kflow/orderbook';
import { describe, expect, it } from 'vitest';
import { createCartPole } from './cartPole';
import { checkEnv } from './checkEnv';
import type { AnyEnv, StepResult } from './env';
import { RecordEpisodeStatistics } from './recordEpisodeStatistics';
import { ScriptedEnv } from './env.testing';
import { Box, Discrete, MultiDiscrete } from './spaces';
import { TimeLimit } from './timeLimit';

function failure(env: unknown): string {
  try {
    checkEnv(env as AnyEnv, { steps: 120 });
  } catch (error) {
    expect(isKflowError(error, 'ENV_CHECK_FAILED'), String(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error('checkEnv accepted a broken env');
}

/** CartPole with one method's result rewritten. */
function patched(patch: { step?: (r: StepResult<Float32Array>) => unknown; reset?: (r: { observation: Float32Array; info: object }) => unknown }): AnyEnv {
  const env = createCartPole();
  return {
    observationSpace: env.observationSpace,
    actionSpace: env.actionSpace,
    reset: (o) => (patch.reset ?? ((r) => r))(env.reset(o)),
    step: (a) => (patch.step ?? ((r) => r))(env.step(a as number)),
    close: () => env.close(),
  } as AnyEnv;
}

describe('checkEnv accepts valid envs', () => {
  it('reports on CartPole, wrapper stacks and masked envs', () => {
    const report = checkEnv(new RecordEpisodeStatistics(new TimeLimit(createCartPole(), { maxEpisodeSteps: 20 })), { seed: 3 });
    expect(report).toMatchObject({ ok: true, steps: 300, stepAfterEnd: 'throws', actionMasks: false });
    expect(report.episodes).toBeGreaterThanOrEqual(300 / 20);
    expect(report.truncations).toBeGreaterThan(0);
    expect(checkEnv(new ScriptedEnv({ length: 5, masks: true })).actionMasks).toBe(true);
  });

  it('reports when no episode ended and when seeds do not matter', () => {
    const report = checkEnv(new ScriptedEnv({ length: 1000 }), { steps: 20 });
    expect(report.stepAfterEnd).toBe('not-reached');
    expect(report.episodes).toBe(0);
    expect(report.seedSensitive).toBe(true);
  });

  it('accepts MultiDiscrete action spaces', () => {
    const inner = createCartPole();
    const actionSpace = new MultiDiscrete([2, 3]);
    const env = {
      observationSpace: inner.observationSpace,
      actionSpace,
      reset: (o?: { seed?: number }) => inner.reset(o),
      step: (a: Int32Array) => {
        if (!actionSpace.contains(a)) throw new KflowError('INVALID_ACTION', 'outside');
        return inner.step(a[0]!);
      },
      close: () => {},
    };
    expect(checkEnv(env as unknown as AnyEnv).actionSpace).toBe('MultiDiscrete([2, 3])');
    // With a concatenated mask that pins element 1 to 2, random actions must respect it.
    const masked = {
      ...env,
      reset: (o?: { seed?: number }) => ({ ...inner.reset(o), info: { actionMask: Uint8Array.of(1, 1, 0, 0, 1) } }),
      step: (a: Int32Array) => {
        if (a[1] !== 2) throw new KflowError('INVALID_ACTION', 'masked');
        return { ...env.step(a), info: { actionMask: Uint8Array.of(1, 1, 0, 0, 1) } };
      },
    };
    expect(checkEnv(masked as unknown as AnyEnv).actionMasks).toBe(true);
    const broken = { ...masked, reset: (o?: { seed?: number }) => ({ ...inner.reset(o), info: { actionMask: Uint8Array.of(1, 1, 0, 0, 0) } }) };
    expect(failure(broken)).toMatch(/invalid info\.actionMask: action mask allows no action/);
  });
});

describe('checkEnv rejects contract violations with a precise message', () => {
  it('invalid spaces', () => {
    expect(failure({ ...patched({}), observationSpace: { kind: 'box', shape: [4] } })).toMatch(/observationSpace\.sample is not a function/);
    expect(failure({ ...patched({}), actionSpace: null })).toMatch(/actionSpace is null/);
    const lying = new Discrete(2);
    lying.contains = (x: unknown): x is number => x === 7;
    expect(failure({ ...patched({}), actionSpace: lying })).toMatch(/actionSpace\.sample\(\) returned number \d, which actionSpace\.contains\(\) rejects/);
    expect(failure({ observationSpace: new Box(0, 1, [1]), actionSpace: new Discrete(2), reset: 1 })).toMatch(/env\.reset is not a function/);
  });

  it('observations outside the space or of the wrong type', () => {
    expect(failure(patched({ reset: (r) => ({ ...r, observation: Float64Array.from(r.observation) }) }))).toMatch(
      /reset\(\{ seed: 0 \}\): observation not in observationSpace: expected Float32Array\(4\), got Float64Array\(4\)/,
    );
    expect(failure(patched({ step: (r) => ({ ...r, observation: Float32Array.of(0, 0, 9, 0) }) }))).toMatch(
      /step 0 \(action number \d\): observation not in observationSpace: element 2 = 9 is outside \[-0\.41\d+, 0\.41\d+\]/,
    );
    expect(failure(patched({ reset: (r) => ({ observation: r.observation }) }))).toMatch(/must return \{ observation, info \}/);
  });

  it('rewards, flags and infos of the wrong type', () => {
    expect(failure(patched({ step: (r) => ({ ...r, reward: Number.NaN }) }))).toMatch(/reward must be a finite number, got number NaN/);
    expect(failure(patched({ step: (r) => ({ ...r, terminated: r.terminated ? 1 : 0 }) }))).toMatch(/terminated must be a boolean, got number 0/);
    expect(failure(patched({ step: (r) => ({ ...r, truncated: undefined }) }))).toMatch(/truncated must be a boolean, got undefined/);
    expect(failure(patched({ step: (r) => ({ ...r, info: null }) }))).toMatch(/info must be an object, got null/);
  });

  it('invalid action masks', () => {
    expect(failure(patched({ step: (r) => ({ ...r, info: { actionMask: new Uint8Array(2) } }) }))).toMatch(/invalid info\.actionMask: action mask allows no action/);
    expect(failure(patched({ reset: (r) => ({ ...r, info: { actionMask: new Uint8Array([1]) } }) }))).toMatch(/must be a Uint8Array of length 2/);
  });

  it('nondeterminism under a fixed seed', () => {
    const noise = createRng(1);
    const message = failure(patched({ step: (r) => ({ ...r, reward: noise.next() }) }));
    expect(message).toMatch(/same seed 0, same actions, different trajectories: reward of step 0 differs/);
    let calls = 0;
    expect(failure(patched({ reset: (r) => ({ ...r, observation: calls++ === 0 ? r.observation : Float32Array.of(0, 0, 0, 0) }) }))).toMatch(
      /observation 0 \(counting resets\) differs/,
    );
  });

  it('accepting actions outside the action space', () => {
    const env = patched({});
    const lax = { ...env, step: (a: unknown) => env.step(a === 2 ? 1 : a) };
    expect(failure(lax)).toMatch(/step\(number 2\) outside Discrete\(2\) must throw KflowError\('INVALID_ACTION'\), it returned/);
    const wrongCode = { ...env, step: (a: unknown) => { if (a === 2) throw new RangeError('bad'); return env.step(a); } };
    expect(failure(wrongCode)).toMatch(/it threw RangeError: bad/);
  });

  it('stepping after the end of an episode without throwing ENV_NEEDS_RESET', () => {
    const inner = new ScriptedEnv({ length: 3 });
    let done = false;
    const lenient = {
      observationSpace: inner.observationSpace,
      actionSpace: inner.actionSpace,
      reset: (o?: { seed?: number }) => ((done = false), inner.reset(o)),
      step: (a: number) => {
        if (done) return { observation: new Float32Array(2), reward: 0, terminated: true, truncated: false, info: {} };
        const r = inner.step(a);
        done = r.terminated;
        return r;
      },
      close: () => {},
    };
    expect(failure(lenient)).toMatch(/step 2 .*: step after the episode ended must throw KflowError\('ENV_NEEDS_RESET'\), it returned/);
  });
});
