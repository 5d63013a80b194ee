import { SyncVectorEnv, createCartPole } from '@kflow/env';
import { createRng } from '@kflow/orderbook';
import { describe, expect, it } from 'vitest';
import { ActorCritic } from './actorCritic';
import { numericGradient } from './gradcheck.testing';
import { jsBackend } from './kernels';
import { createMinibatch } from './minibatch';
import { createAdam } from './optimizers';
import { type PpoLossOptions, ppoLoss } from './ppoLoss';
import { RolloutCollector } from './rolloutCollector';

/** A collected CartPole rollout and a minibatch of its valid rows. */
function setup() {
  const rng = createRng(11);
  const policy = new ActorCritic({ observationSize: 4, nvec: [2], hiddenSizes: [8], backend: jsBackend, maxBatch: 32 });
  policy.init(rng.fork());
  const envs = new SyncVectorEnv([() => createCartPole(), () => createCartPole()]);
  const collector = new RolloutCollector({ envs, policy, nSteps: 64, gamma: 0.99, gaeLambda: 0.95, seed: 0, rng: rng.fork() });
  collector.collect();
  const { buffer } = collector;
  const indices = new Int32Array(buffer.size);
  const count = buffer.shuffledValidIndices(rng.fork(), indices);
  const rows = indices.subarray(0, Math.min(32, count));
  return { policy, buffer, rows, minibatch: createMinibatch(buffer, 32) };
}

describe('ppoLoss', () => {
  it('on the rollout policy: ratio 1, so no KL and nothing clipped', () => {
    const m = ppoLoss({ ...setup(), clipRange: 0.2 });
    expect(Math.abs(m.approxKl)).toBeLessThan(1e-6);
    expect(Math.abs(m.oldApproxKl)).toBeLessThan(1e-5);
    expect(m.clipFraction).toBe(0);
    expect(m.loss).toBeCloseTo(m.policyLoss + 0.5 * m.valueLoss, 12);
  });

  it('writes the gradient of the loss it returns into both networks (clipped ratios included)', () => {
    const s = setup();
    // Value clipping is checked against SB3's formula in ppo.test.ts; here V is free so its gradient shows.
    const options: PpoLossOptions = { ...s, clipRange: 0.05, entCoef: 0.3, vfCoef: 0.5 };
    // Move away from the rollout's parameters so some ratios leave 1 ± ε.
    const adam = createAdam({ sizes: s.policy.parameters().map((p) => p.length), learningRate: 0.01 });
    for (let k = 0; k < 3; k++) {
      ppoLoss(options);
      adam.step(s.policy.parameters(), s.policy.gradients());
    }
    const m = ppoLoss(options);
    expect(m.clipFraction).toBeGreaterThan(0);
    expect(m.clipFraction).toBeLessThan(1);
    expect(m.approxKl).toBeGreaterThan(0);
    const analytic = s.policy.gradients().map((g) => Float64Array.from(g));
    expect(analytic.every((g) => g.some((x) => Math.abs(x) > 1e-3))).toBe(true); // both networks get a gradient
    s.policy.parameters().forEach((params, t) => {
      // A sample of each tensor's entries against central differences of the returned loss.
      const entries = [0, 5, 17, 40, params.length - 1];
      const probe = Float32Array.from(entries, (i) => params[i]!);
      const numeric = numericGradient(probe, () => {
        entries.forEach((i, j) => (params[i] = probe[j]!));
        return ppoLoss(options).loss;
      }, 1e-3);
      entries.forEach((i, j) => {
        params[i] = probe[j]!;
        const expected = analytic[t]![i]!;
        expect(Math.abs(numeric[j]! - expected), `tensor ${t} entry ${i}`).toBeLessThan(0.01 * Math.abs(expected) + 5e-5); // float32 forward passes
      });
    });
  });
});
