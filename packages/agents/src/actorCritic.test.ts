import { createRng } from '@kflow/orderbook';
import { describe, expect, it } from 'vitest';
import { numericGradient } from './gradcheck.testing';
import { ActorCritic } from './actorCritic';
import { jsBackend } from './kernels';
import { wasmBackend } from './wasmBackend';

/**
 * Checks ∂/∂θ of J = Σ_b g_b·logπ(a_b|s_b) + c·Σ_b H_b + Σ_b d_b·V(s_b) from `backward` against central
 * differences of `evaluateActions` over every parameter.
 */
function checkActorCriticGradients(shared: boolean, backend: typeof jsBackend): void {
  const rng = createRng(shared ? 11 : 12);
  const ac = new ActorCritic({ observationSize: 3, nvec: [3, 2], hiddenSizes: [6, 5], shared, backend, maxBatch: 4 });
  ac.init(rng);
  // Larger weights than the 0.01 head gain so every term contributes visibly.
  for (const p of ac.parameters()) for (let i = 0; i < p.length; i++) p[i] = p[i]! + 0.3 * rng.normal();
  const batch = 4;
  const obs = Float32Array.from({ length: batch * 3 }, () => rng.normal());
  const actions = Int32Array.from({ length: batch * 2 }, (_, k) => rng.int(k % 2 === 0 ? 3 : 2));
  const g = Float32Array.from({ length: batch }, () => rng.normal());
  const d = Float32Array.from({ length: batch }, () => rng.normal());
  const c = 0.4;
  const lp = new Float32Array(batch);
  const ent = new Float32Array(batch);
  const val = new Float32Array(batch);
  const objective = () => {
    ac.evaluateActions(obs, actions, undefined, batch, lp, ent, val);
    let j = 0;
    for (let b = 0; b < batch; b++) j += g[b]! * lp[b]! + c * ent[b]! + d[b]! * val[b]!;
    return j;
  };
  objective();
  ac.backward(actions, undefined, batch, g, c, d);
  const grads = ac.gradients().map((t) => Float64Array.from(t));
  ac.parameters().forEach((p, t) => {
    const numeric = numericGradient(p, objective, 1e-2);
    for (let i = 0; i < p.length; i++) {
      expect(Math.abs(grads[t]![i]! - numeric[i]!)).toBeLessThan(2e-3 * Math.max(1, Math.abs(numeric[i]!)));
    }
  });
}

describe('ActorCritic', () => {
  it('backward matches finite differences (separate networks)', () => checkActorCriticGradients(false, jsBackend));
  it('backward matches finite differences (shared trunk)', () => checkActorCriticGradients(true, jsBackend));
  it('backward matches finite differences (wasm kernels)', () => checkActorCriticGradients(false, wasmBackend));

  it('acts deterministically, respects masks and exposes the Policy metadata', () => {
    const ac = new ActorCritic({ observationSize: 4, nvec: [3], featureSetVersion: 'fs-test' });
    ac.init(createRng(0));
    expect(ac.actionCount).toBe(3);
    expect(ac.featureSetVersion).toBe('fs-test');
    const obs = Float32Array.of(0.1, -0.2, 0.3, 0.05);
    const a = ac.act(obs);
    expect(ac.act(obs)).toBe(a);
    const mask = Uint8Array.of(1, 1, 1);
    mask[a] = 0;
    expect(ac.act(obs, mask)).not.toBe(a);
  });

  it('act() refuses MultiDiscrete policies; actVector() serves them', () => {
    const ac = new ActorCritic({ observationSize: 2, nvec: [2, 3] });
    ac.init(createRng(1));
    expect(() => ac.act(new Float32Array(2))).toThrow(/Discrete/);
    const row = ac.actVector(new Float32Array(2));
    expect(row.length).toBe(2);
    expect(row[1]).toBeLessThan(3);
  });
});
