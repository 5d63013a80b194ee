import { createRng } from '@kflow/orderbook';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CARTPOLE_THETA_THRESHOLD, CARTPOLE_X_THRESHOLD, type CartPoleEnv, createCartPole } from './cartPole';
import { checkEnv } from './checkEnv';
import { throwsCode } from './env.testing';

type State = readonly [number, number, number, number];

/**
 * Reference dynamics written independently from the Gymnasium source (classic_control/cartpole.py):
 * g = 9.8, m_c = 1, m_p = 0.1, l = 0.5 (half length), F = ±10, tau = 0.02, explicit Euler.
 */
function referenceStep([x, xDot, theta, thetaDot]: State, action: number): State {
  const g = 9.8;
  const mc = 1.0;
  const mp = 0.1;
  const l = 0.5;
  const f = action === 1 ? 10 : -10;
  const tau = 0.02;
  const m = mc + mp;
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  const temp = (f + mp * l * thetaDot ** 2 * s) / m;
  const thetaAcc = (g * s - c * temp) / (l * (4 / 3 - (mp * c ** 2) / m));
  const xAcc = temp - (mp * l * thetaAcc * c) / m;
  return [x + tau * xDot, xDot + tau * xAcc, theta + tau * thetaDot, thetaDot + tau * thetaAcc];
}

function started(state: State, maxEpisodeSteps = 500): CartPoleEnv {
  const env = createCartPole({ maxEpisodeSteps });
  env.reset({ seed: 0 });
  env.setState(state);
  return env;
}

function expectState(actual: State, expected: State, digits = 12): void {
  actual.forEach((v, i) => expect(v, `state[${i}]`).toBeCloseTo(expected[i]!, digits));
}

describe('CartPole-v1 dynamics', () => {
  it('matches hand-computed values for one push from rest', () => {
    // From rest, sin = 0 and cos = 1: temp = F/1.1 = 100/11; thetaAcc = -temp / (0.5·(4/3 − 0.1/1.1))
    // = −(100/11)·(66/41) = −600/41; xAcc = 100/11 + 0.05·(600/41)/1.1 = 4400/451.
    const right = started([0, 0, 0, 0]);
    right.step(1);
    expectState(right.state, [0, (0.02 * 4400) / 451, 0, (-0.02 * 600) / 41], 15);
    const left = started([0, 0, 0, 0]);
    left.step(0);
    expectState(left.state, [0, (-0.02 * 4400) / 451, 0, (0.02 * 600) / 41], 15);
  });

  it('updates positions with the old velocities (explicit Euler)', () => {
    const env = started([0.1, 0.5, 0.01, -0.2]);
    env.step(1);
    expect(env.state[0]).toBeCloseTo(0.1 + 0.02 * 0.5, 15);
    expect(env.state[2]).toBeCloseTo(0.01 + 0.02 * -0.2, 15);
  });

  it('matches Gymnasium 1.3.0 CartPoleEnv bit for bit over 200 balanced steps', () => {
    // Generated once with gymnasium 1.3.0: env.unwrapped.state = (0.01, -0.02, 0.03, 0.04), then the
    // actions below (a balancing controller's choices); `state` reprs after steps 1, 50 and 200.
    const actions =
      '10101010101010101010101010101101010011001011001100101100110010110010110010110011001011001011001011001011001100101100101011001100110010101100110010101100110010110010110010110011001011001010110011001010';
    const expected = new Map<number, State>([
      [0, [0.009600000000000001, 0.17467919574755525, 0.030799999999999998, -0.2430687179600081]],
      [49, [0.12795819253775811, -0.02982128446267482, -0.004725498409210417, 0.2566441421616531]],
      [199, [0.5350188176025586, -0.029194641735405952, 0.0015954515953451336, 0.2428130898686049]],
    ]);
    const env = started([0.01, -0.02, 0.03, 0.04]);
    for (let t = 0; t < actions.length; t++) {
      expect(env.step(Number(actions[t])).terminated).toBe(false);
      const want = expected.get(t);
      if (want !== undefined) expect(env.state).toEqual(want);
    }
  });

  it('follows the reference equations along random trajectories', () => {
    fc.assert(
      fc.property(
        fc.tuple(
          fc.double({ min: -2, max: 2, noNaN: true }),
          fc.double({ min: -3, max: 3, noNaN: true }),
          fc.double({ min: -0.2, max: 0.2, noNaN: true }),
          fc.double({ min: -3, max: 3, noNaN: true }),
        ),
        fc.array(fc.constantFrom(0, 1), { minLength: 1, maxLength: 30 }),
        (start, actions) => {
          const env = started(start);
          let expected: State = start;
          for (const a of actions) {
            const { observation, terminated } = env.step(a);
            expected = referenceStep(expected, a);
            expectState(env.state, expected, 10);
            env.state.forEach((v, i) => expect(observation[i]).toBe(Math.fround(v)));
            if (terminated) break;
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('CartPole-v1 episodes', () => {
  it('terminates strictly beyond |x| > 2.4 and |theta| > 12 degrees', () => {
    expect(CARTPOLE_THETA_THRESHOLD).toBeCloseTo(0.20943951023931953, 15);
    // Zero velocities: positions do not move on this step, so the threshold test sees them as set.
    const at = (x: number, theta: number) => started([x, 0, theta, 0]).step(1).terminated;
    expect(at(CARTPOLE_X_THRESHOLD, 0)).toBe(false);
    expect(at(-CARTPOLE_X_THRESHOLD, 0)).toBe(false);
    expect(at(2.4000001, 0)).toBe(true);
    expect(at(-2.4000001, 0)).toBe(true);
    expect(at(0, CARTPOLE_THETA_THRESHOLD)).toBe(false);
    expect(at(0, -CARTPOLE_THETA_THRESHOLD)).toBe(false);
    expect(at(0, 0.2094396)).toBe(true);
    expect(at(0, -0.2094396)).toBe(true);
  });

  it('resets uniformly within ±0.05, reproducibly per seed', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const env = createCartPole();
        const a = Array.from(env.reset({ seed }).observation);
        expect(a.every((v) => v >= -0.05 && v <= 0.05)).toBe(true);
        expect(env.state.every((v) => v >= -0.05 && v < 0.05)).toBe(true);
        expect(Array.from(createCartPole().reset({ seed }).observation)).toEqual(a);
        expect(Array.from(env.reset({ seed: seed + 1 }).observation)).not.toEqual(a);
      }),
      { numRuns: 100 },
    );
  });

  it('accepts Gymnasium reset bounds through options', () => {
    const env = createCartPole();
    env.reset({ seed: 2, options: { low: 0.1, high: 0.2 } });
    expect(env.state.every((v) => v >= 0.1 && v < 0.2)).toBe(true);
    throwsCode(() => env.reset({ options: { low: 0.2, high: 0.1 } }), 'INVALID_ARGUMENT');
    throwsCode(() => env.reset({ options: { low: '0' } }), 'INVALID_ARGUMENT');
  });

  it('pays reward 1 on every step including the terminating one, then needs a reset', () => {
    const env = createCartPole();
    env.reset({ seed: 3 });
    let total = 0;
    let steps = 0;
    for (;;) {
      const { reward, terminated, truncated } = env.step(1);
      total += reward;
      steps++;
      expect(reward).toBe(1);
      if (terminated || truncated) {
        expect(terminated).toBe(true);
        break;
      }
    }
    expect(total).toBe(steps);
    expect(steps).toBeGreaterThan(5);
    expect(steps).toBeLessThan(30);
    throwsCode(() => env.step(1), 'ENV_NEEDS_RESET');
    env.reset();
    expect(env.step(0).reward).toBe(1);
  });

  it('truncates at exactly 500 steps under a balancing controller', () => {
    const env = createCartPole();
    expect(env.spec).toEqual({ id: 'CartPole-v1', maxEpisodeSteps: 500, rewardThreshold: 475 });
    for (let seed = 0; seed < 3; seed++) {
      let { observation: o } = env.reset({ seed });
      for (let t = 1; ; t++) {
        const step = env.step(o[2]! + 0.5 * o[3]! + 0.01 * o[0]! + 0.1 * o[1]! > 0 ? 1 : 0);
        o = step.observation;
        expect(step.terminated).toBe(false);
        if (step.truncated) {
          expect(t).toBe(500);
          break;
        }
        expect(t).toBeLessThan(500);
      }
    }
  });

  it('honours maxEpisodeSteps options, Infinity included', () => {
    const short = createCartPole({ maxEpisodeSteps: 3 });
    short.reset({ seed: 1 });
    expect([short.step(0).truncated, short.step(1).truncated, short.step(0).truncated]).toEqual([false, false, true]);
    const endless = createCartPole({ maxEpisodeSteps: Infinity });
    expect(endless.spec.maxEpisodeSteps).toBeUndefined();
    throwsCode(() => createCartPole({ maxEpisodeSteps: 0 }), 'INVALID_ARGUMENT');
  });

  it('rejects invalid actions and steps before reset', () => {
    const env = createCartPole();
    throwsCode(() => env.step(0), 'ENV_NEEDS_RESET');
    env.reset({ seed: 1 });
    for (const bad of [2, -1, 0.5, Number.NaN]) throwsCode(() => env.step(bad), 'INVALID_ACTION');
  });

  it('reuses its observation buffer (documented: consumers copy)', () => {
    const env = createCartPole();
    const first = env.reset({ seed: 1 }).observation;
    const copy = Float32Array.from(first);
    const next = env.step(1).observation;
    expect(next).toBe(first);
    expect(Array.from(first)).not.toEqual(Array.from(copy));
  });

  it('passes checkEnv, including its seeding determinism check', () => {
    const report = checkEnv(createCartPole(), { seed: 7, steps: 600 });
    expect(report).toMatchObject({ ok: true, observationSpace: 'Box(float32, [4])', actionSpace: 'Discrete(2)', stepAfterEnd: 'throws', seedSensitive: true, actionMasks: false });
    expect(report.terminations).toBeGreaterThan(10);
    expect(report.meanReward).toBe(1);
  });

  it('the same seed and actions reproduce the same trajectory', () => {
    const run = (seed: number) => {
      const env = createCartPole();
      const rng = createRng(99);
      const out: number[] = Array.from(env.reset({ seed }).observation);
      for (let t = 0; t < 200; t++) {
        const s = env.step(rng.int(2));
        out.push(...s.observation);
        if (s.terminated || s.truncated) out.push(...env.reset().observation);
      }
      return out;
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });
});
