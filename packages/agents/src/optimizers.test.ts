import { describe, expect, it } from 'vitest';
import { clipGradNorm, createAdam, createRmsprop } from './optimizers';

describe('optimizers', () => {
  it('Adam follows PyTorch: the first step moves each parameter by lr·sign(g)', () => {
    const adam = createAdam({ sizes: [3], learningRate: 0.1 });
    const p = Float32Array.of(1, 1, 1);
    adam.step([p], [Float32Array.of(2, -0.5, 0)]);
    // m̂ = g, v̂ = g², so the step is lr · g / (|g| + eps).
    expect(p[0]).toBeCloseTo(1 - 0.1 * (2 / (2 + 1e-5)), 6);
    expect(p[1]).toBeCloseTo(1 + 0.1 * (0.5 / (0.5 + 1e-5)), 6);
    expect(p[2]).toBe(1);
  });

  it('Adam matches a float64 reference over several steps', () => {
    const adam = createAdam({ sizes: [1], learningRate: 0.01, eps: 1e-8 });
    const p = Float32Array.of(0.5);
    let ref = 0.5;
    let m = 0;
    let v = 0;
    const grads = [0.3, -0.2, 0.9, 0.1, -0.4];
    grads.forEach((g, k) => {
      adam.step([p], [Float32Array.of(g)]);
      m = 0.9 * m + 0.1 * g;
      v = 0.999 * v + 0.001 * g * g;
      const t = k + 1;
      ref -= (0.01 / (1 - 0.9 ** t)) * (m / (Math.sqrt(v) / Math.sqrt(1 - 0.999 ** t) + 1e-8));
    });
    expect(p[0]).toBeCloseTo(ref, 6);
  });

  it('RMSprop follows PyTorch (eps outside the square root)', () => {
    const rms = createRmsprop({ sizes: [1], learningRate: 7e-4 });
    const p = Float32Array.of(0);
    rms.step([p], [Float32Array.of(1)]);
    const v = 0.01;
    expect(p[0]).toBeCloseTo(-7e-4 / (Math.sqrt(v) + 1e-5), 7);
    rms.step([p], [Float32Array.of(1)]);
    const v2 = 0.99 * v + 0.01;
    expect(p[0]).toBeCloseTo(-7e-4 / (Math.sqrt(v) + 1e-5) - 7e-4 / (Math.sqrt(v2) + 1e-5), 7);
  });

  it('rejects tensors of the wrong size', () => {
    const adam = createAdam({ sizes: [2], learningRate: 1 });
    expect(() => adam.step([new Float32Array(3)], [new Float32Array(3)])).toThrow(/expected 2/);
  });

  it('clipGradNorm scales the global norm down to maxNorm and leaves small gradients alone', () => {
    const a = Float32Array.of(3, 0);
    const b = Float32Array.of(4);
    expect(clipGradNorm([a, b], 1)).toBeCloseTo(5);
    expect(Math.hypot(a[0]!, a[1]!, b[0]!)).toBeCloseTo(1, 5);
    expect(a[0]! / b[0]!).toBeCloseTo(0.75);
    const c = Float32Array.of(0.1);
    clipGradNorm([c], 1);
    expect(c[0]).toBeCloseTo(0.1);
  });
});
