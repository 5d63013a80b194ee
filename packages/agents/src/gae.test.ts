import { createRng } from '@kflow/orderbook';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeGae } from './gae';

/** Textbook definition: A_t = Σ_l (γλ)^l δ_{t+l}, stopping at the end of the episode. */
function naiveGae(
  rewards: number[][],
  values: number[][],
  dones: number[][],
  lastValues: number[],
  gamma: number,
  lambda: number,
): number[][] {
  const T = rewards.length;
  const E = lastValues.length;
  const adv = rewards.map((row) => row.map(() => 0));
  const next = (t: number, e: number) => (t + 1 < T ? values[t + 1]![e]! : lastValues[e]!);
  for (let e = 0; e < E; e++) {
    for (let t = 0; t < T; t++) {
      let sum = 0;
      let discount = 1;
      for (let u = t; u < T; u++) {
        const done = dones[u]![e]!;
        const delta = rewards[u]![e]! + gamma * next(u, e) * (1 - done) - values[u]![e]!;
        sum += discount * delta;
        if (done) break;
        discount *= gamma * lambda;
      }
      adv[t]![e] = sum;
    }
  }
  return adv;
}

describe('computeGae', () => {
  it('matches the naive definition on random rollouts', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 4 }),
        fc.double({ min: 0.5, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer(),
        (T, E, gamma, lambda, seed) => {
          const rng = createRng(seed);
          const rewards = Array.from({ length: T }, () => Array.from({ length: E }, () => rng.normal()));
          const values = Array.from({ length: T }, () => Array.from({ length: E }, () => rng.normal()));
          // dones[t][e]: step t ended an episode; the buffer stores it as episodeStarts[t+1].
          const dones = Array.from({ length: T }, () => Array.from({ length: E }, () => (rng.next() < 0.2 ? 1 : 0)));
          const lastValues = Array.from({ length: E }, () => rng.normal());
          const episodeStarts = new Uint8Array(T * E);
          for (let t = 1; t < T; t++) for (let e = 0; e < E; e++) episodeStarts[t * E + e] = dones[t - 1]![e]!;
          const advantages = new Float32Array(T * E);
          const returns = new Float32Array(T * E);
          const flatValues = Float32Array.from(values.flat());
          computeGae({
            rewards: Float32Array.from(rewards.flat()),
            values: flatValues,
            episodeStarts,
            lastValues: Float32Array.from(lastValues),
            lastDones: Uint8Array.from(dones[T - 1]!),
            nSteps: T,
            nEnvs: E,
            gamma,
            gaeLambda: lambda,
            advantages,
            returns,
          });
          const expected = naiveGae(rewards, values, dones, lastValues, gamma, lambda);
          for (let t = 0; t < T; t++) {
            for (let e = 0; e < E; e++) {
              expect(advantages[t * E + e]).toBeCloseTo(expected[t]![e]!, 4);
              expect(returns[t * E + e]).toBeCloseTo(expected[t]![e]! + flatValues[t * E + e]!, 4);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('λ = 1 gives discounted returns minus values, λ = 0 one-step TD errors', () => {
    const base = {
      rewards: Float32Array.of(1, 2, 3),
      values: Float32Array.of(0.5, 0.25, 0),
      episodeStarts: new Uint8Array(3),
      lastValues: Float32Array.of(10),
      lastDones: Uint8Array.of(0),
      nSteps: 3,
      nEnvs: 1,
      gamma: 0.5,
    };
    const adv = new Float32Array(3);
    computeGae({ ...base, gaeLambda: 1, advantages: adv, returns: new Float32Array(3) });
    expect(adv[0]).toBeCloseTo(1 + 0.5 * 2 + 0.25 * 3 + 0.125 * 10 - 0.5);
    computeGae({ ...base, gaeLambda: 0, advantages: adv, returns: new Float32Array(3) });
    // δ_1 = r_1 + γ·V(s_2) − V(s_1) with V(s_2) = 0; δ_2 bootstraps from lastValues.
    expect(adv[1]).toBeCloseTo(2 - 0.25);
    expect(adv[2]).toBeCloseTo(3 + 0.5 * 10);
  });
});
