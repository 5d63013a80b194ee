import { createRng } from '@kflow/orderbook';
import { describe, expect, it } from 'vitest';
import { numericGradient } from './gradcheck.testing';
import { MultiCategorical } from './categorical';

function logSoftmax(logits: number[]): number[] {
  const max = Math.max(...logits);
  const lse = max + Math.log(logits.reduce((s, l) => s + Math.exp(l - max), 0));
  return logits.map((l) => l - lse);
}

describe('MultiCategorical', () => {
  it('evaluates log-probabilities and entropies of each component', () => {
    const dist = new MultiCategorical([3, 2]);
    const logits = Float32Array.of(0.1, -1, 2, 0.5, 0.5);
    const lp = new Float32Array(1);
    const ent = new Float32Array(1);
    dist.evaluate(logits, Int32Array.of(2, 1), undefined, 1, lp, ent);
    const a = logSoftmax([0.1, -1, 2]);
    expect(lp[0]).toBeCloseTo(a[2]! + Math.log(0.5), 5);
    const h = -a.reduce((s, l) => s + Math.exp(l) * l, 0) + Math.log(2);
    expect(ent[0]).toBeCloseTo(h, 5);
  });

  it('gives masked actions zero probability: never sampled, never chosen, no gradient', () => {
    const dist = new MultiCategorical([4]);
    const logits = Float32Array.of(5, 0, 1, 0);
    const mask = Uint8Array.of(0, 1, 1, 0);
    const rng = createRng(1);
    const actions = new Int32Array(1);
    const lp = new Float32Array(1);
    const counts = [0, 0, 0, 0];
    for (let k = 0; k < 2000; k++) {
      dist.sample(logits, 1, mask, rng, actions, lp);
      counts[actions[0]!]!++;
    }
    expect(counts[0]).toBe(0);
    expect(counts[3]).toBe(0);
    // P(2) = e / (1 + e) ≈ 0.731
    expect(counts[2]! / 2000).toBeGreaterThan(0.69);
    expect(counts[2]! / 2000).toBeLessThan(0.77);
    dist.sample(logits, 1, mask, undefined, actions, lp);
    expect(actions[0]).toBe(2);
    const ent = new Float32Array(1);
    dist.evaluate(logits, Int32Array.of(1), mask, 1, lp, ent);
    const d = new Float32Array(4);
    dist.backward(Int32Array.of(1), mask, 1, Float32Array.of(1), 0.3, d);
    expect(d[0]).toBe(0);
    expect(d[3]).toBe(0);
    expect(Math.abs(d[1]!)).toBeGreaterThan(0);
  });

  it('backward matches finite differences of Σ g·logπ(a) + c·H', () => {
    const rng = createRng(7);
    const nvec = [3, 4];
    const dist = new MultiCategorical(nvec);
    const batch = 3;
    const logits = Float32Array.from({ length: batch * 7 }, () => rng.normal());
    // Logit 1 of the first component is masked, so that action is never taken.
    const mask = Uint8Array.from({ length: batch * 7 }, (_, k) => (k % 7 === 1 ? 0 : 1));
    const actions = Int32Array.from({ length: batch * 2 }, (_, k) => (k % 2 === 0 ? [0, 2][rng.int(2)]! : rng.int(4)));
    const g = Float32Array.from({ length: batch }, () => rng.normal());
    const c = 0.7;
    const lp = new Float32Array(batch);
    const ent = new Float32Array(batch);
    const objective = (l: Float32Array) => {
      dist.evaluate(l, actions, mask, batch, lp, ent);
      let s = 0;
      for (let b = 0; b < batch; b++) s += g[b]! * lp[b]! + c * ent[b]!;
      return s;
    };
    objective(logits);
    const analytic = new Float32Array(batch * 7);
    dist.backward(actions, mask, batch, g, c, analytic);
    const numeric = numericGradient(logits, () => objective(logits), 1e-2);
    for (let k = 0; k < logits.length; k++) expect(analytic[k]).toBeCloseTo(numeric[k]!, 3);
  });
});
