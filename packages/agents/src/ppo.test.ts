import { Box, Discrete, EMPTY_INFO, type Env, type EnvInfo, SyncVectorEnv, createCartPole } from '@kflow/env';
import { createRng } from '@kflow/orderbook';
import { describe, expect, it } from 'vitest';
import { trainA2c } from './a2c';
import { ActorCritic } from './actorCritic';
import { numericGradient } from './gradcheck.testing';
import { jsBackend } from './kernels';
import { clipGradNorm, createAdam } from './optimizers';
import { trainPpo } from './ppo';
import { RolloutCollector } from './rolloutCollector';
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
      'losses/old_approx_kl',
      'losses/approx_kl',
      'losses/clipfrac',
      'losses/explained_variance',
      'charts/learning_rate',
    ] as const) {
      expect(Number.isFinite(updates[0]!.metrics[name]), name).toBe(true);
    }
    // Linear schedule evaluated after each rollout: progress remaining 0.75, 0.5, 0.25, 0.
    expect(updates.map((e) => e.metrics['charts/learning_rate'])).toEqual([7.5e-4, 5e-4, 2.5e-4, 0]);
    expect(events.some((e) => e.kind === 'episode' && e.metrics['charts/episodic_return']! > 0)).toBe(true);
    expect(updates[0]!.metrics['charts/SPS']).toBeUndefined();
  });

  it('anneals the entropy bonus on a linear schedule', () => {
    // A schedule that stays at 0.2 is the constant 0.2; one annealed to 0 is neither the constant nor no bonus.
    const constant = shortPpo(1, { entCoef: 0.2 }).params;
    expect(shortPpo(1, { entCoef: { kind: 'linear', start: 0.2, end: 0.2 } }).params).toEqual(constant);
    const annealed = shortPpo(1, { entCoef: { kind: 'linear', start: 0.2 } }).params;
    expect(annealed).not.toEqual(constant);
    expect(annealed).not.toEqual(shortPpo(1, { entCoef: 0 }).params);
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

/** One-step episodes with a constant observation; arm k pays k/2. */
class ThreeArms implements Env<Box, Discrete, EnvInfo> {
  readonly observationSpace = new Box(0, 1, [1]);
  readonly actionSpace = new Discrete(3);
  private readonly obs = Float32Array.of(1);
  reset() {
    return { observation: this.obs, info: EMPTY_INFO };
  }
  step(action: number) {
    return { observation: this.obs, reward: action / 2, terminated: true, truncated: false, info: EMPTY_INFO };
  }
  close() {}
}

describe('the PPO update against an independent SB3-style reference', () => {
  it('matches per-minibatch advantage normalisation, the clipped surrogate and SB3 value clipping', () => {
    // One rollout of 16 steps (8 transitions + 8 autoreset entries), one full minibatch, two epochs, so
    // the second epoch sees ratios ≠ 1 and value predictions away from the rollout's.
    const hp = { nSteps: 16, batchSize: 8, nEpochs: 2, learningRate: 0.003, clipRange: 0.04, clipRangeVf: 0.05, entCoef: 0.01, vfCoef: 0.5 };
    const seed = 4;
    const envs = () => new SyncVectorEnv([() => new ThreeArms()]);
    const trained = trainPpo({ envs: envs(), totalTimesteps: 16, seed, backend: jsBackend, ...hp }).policy;

    // The same initial policy and rollout, from the trainer's documented stream order (init, actions).
    const rng = createRng(seed);
    const policy = new ActorCritic({ observationSize: 1, nvec: [3], backend: jsBackend, maxBatch: 8 });
    policy.init(rng.fork());
    const collector = new RolloutCollector({ envs: envs(), policy, nSteps: 16, gamma: 0.99, gaeLambda: 0.95, seed, rng: rng.fork() });
    collector.collect();
    const buf = collector.buffer;
    const rows = [...buf.valid.keys()].filter((k) => buf.valid[k] === 1);
    const n = rows.length;
    expect(n).toBe(8);
    const obs = new Float32Array(n).fill(1);
    const actions = Int32Array.from(rows, (k) => buf.actions[k]!);
    const adv = rows.map((k) => buf.advantages[k]!);
    const mean = adv.reduce((a, b) => a + b, 0) / n;
    const std = Math.sqrt(adv.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)); // torch's unbiased std
    const A = adv.map((a) => (a - mean) / (std + 1e-8));

    // SB3: -mean(min(r·A, clip(r, 1±ε)·A)) + vf_coef·mean((R − (V_old + clip(V − V_old, ±ε_vf)))²).
    const loss = (logp: Float64Array, v: Float64Array) => {
      let pg = 0;
      let vl = 0;
      rows.forEach((k, b) => {
        const r = Math.exp(logp[b]! - buf.logProbs[k]!);
        pg -= Math.min(r * A[b]!, Math.min(Math.max(r, 1 - hp.clipRange), 1 + hp.clipRange) * A[b]!);
        const vPred = buf.values[k]! + Math.min(Math.max(v[b]! - buf.values[k]!, -hp.clipRangeVf), hp.clipRangeVf);
        vl += (buf.returns[k]! - vPred) ** 2;
      });
      return pg / n + (hp.vfCoef * vl) / n;
    };
    const adam = createAdam({ sizes: policy.parameters().map((p) => p.length), learningRate: hp.learningRate });
    const lp = new Float32Array(n);
    const ent = new Float32Array(n);
    const val = new Float32Array(n);
    const clipped = { policy: 0, value: 0 };
    for (let epoch = 0; epoch < hp.nEpochs; epoch++) {
      policy.evaluateActions(obs, actions, undefined, n, lp, ent, val);
      const logp = Float64Array.from(lp);
      const v = Float64Array.from(val);
      // ∂loss/∂logπ and ∂loss/∂V by central differences of the formula above (no kink within 1e-7).
      const dLogProb = Float32Array.from(numericGradient(logp, () => loss(logp, v), 1e-7));
      const dValue = Float32Array.from(numericGradient(v, () => loss(logp, v), 1e-7));
      clipped.policy += dLogProb.filter((g) => g === 0).length;
      clipped.value += dValue.filter((g) => g === 0).length;
      policy.backward(actions, undefined, n, dLogProb, -hp.entCoef / n, dValue);
      clipGradNorm(policy.gradients(), 0.5);
      adam.step(policy.parameters(), policy.gradients());
    }
    // Both branches of each clip were taken: the first epoch has ratio 1 and V = V_old (nothing clipped);
    // in the second, some ratios left 1 ± ε on the advantage's side and V (one constant observation)
    // moved further than ε_vf.
    expect(clipped.policy).toBeGreaterThan(0);
    expect(clipped.policy).toBeLessThan(n);
    expect(clipped.value).toBe(n);
    const expected = policy.parameters().flatMap((p) => Array.from(p));
    const actual = trained.parameters().flatMap((p) => Array.from(p));
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i]! - actual[i]!));
    expect(worst).toBeLessThan(1e-5);
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

  it('anneals the entropy bonus on a linear schedule', () => {
    const params = (entCoef: Parameters<typeof trainA2c>[0]['entCoef']) =>
      trainA2c({ envs: cartPoles(2), totalTimesteps: 1000, seed: 5, ...(entCoef === undefined ? {} : { entCoef }) }).policy.parameters().map((p) => Array.from(p));
    const constant = params(0.2);
    expect(params({ kind: 'linear', start: 0.2, end: 0.2 })).toEqual(constant);
    const annealed = params({ kind: 'linear', start: 0.2 });
    expect(annealed).not.toEqual(constant);
    expect(annealed).not.toEqual(params(0));
  });
});
