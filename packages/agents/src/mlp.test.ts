import { createRng } from '@kflow/orderbook';
import { describe, expect, it } from 'vitest';
import { numericGradient } from './gradcheck.testing';
import { jsBackend, type Backend } from './kernels';
import { type Activation, Mlp } from './mlp';
import { initOrthogonal, orthogonal } from './orthogonal';
import { isWasmSimdSupported, wasmBackend } from './wasmBackend';

/** Float64 forward pass of the same architecture, for finite differences. */
function referenceForward(net: Mlp, params: Float64Array, input: Float64Array, batch: number): Float64Array {
  let x = input;
  let offset = 0;
  for (let l = 0; l < net.layerCount; l++) {
    const [out, inp] = net.layerShape(l);
    const y = new Float64Array(batch * out);
    for (let b = 0; b < batch; b++) {
      for (let o = 0; o < out; o++) {
        let z = params[offset + out * inp + o]!;
        for (let i = 0; i < inp; i++) z += params[offset + o * inp + i]! * x[b * inp + i]!;
        const hidden = l < net.layerCount - 1;
        y[b * out + o] = !hidden ? z : net.activation === 'tanh' ? Math.tanh(z) : Math.max(0, z);
      }
    }
    offset += out * inp + out;
    x = y;
  }
  return x;
}

function checkGradients(backend: Backend, activation: Activation): void {
  const rng = createRng(activation === 'tanh' ? 1 : 2);
  const batch = 5;
  const net = new Mlp({ inputSize: 3, hiddenSizes: [7, 6], outputSize: 4, activation, backend });
  initOrthogonal(net, rng, { outputGain: 1 });
  for (let i = 0; i < net.params.length; i++) net.params[i] = net.params[i]! + 0.1 * rng.normal();
  const input = Float32Array.from({ length: batch * 3 }, () => rng.normal());
  const weights = Float32Array.from({ length: batch * 4 }, () => rng.normal());
  net.forward(input, batch);
  net.backward(weights, batch);
  const analytic = Float64Array.from(net.grads);
  // loss = Σ weights ⊙ output, so dL/doutput = weights.
  const params = Float64Array.from(net.params);
  const input64 = Float64Array.from(input);
  const loss = (p: Float64Array) => referenceForward(net, p, input64, batch).reduce((s, y, k) => s + y * weights[k]!, 0);
  const numeric = numericGradient(params, () => loss(params), 1e-6);
  let worst = 0;
  for (let k = 0; k < params.length; k++) {
    worst = Math.max(worst, Math.abs(numeric[k]! - analytic[k]!) / Math.max(1, Math.abs(numeric[k]!)));
  }
  expect(worst).toBeLessThan(1e-4);
}

describe('Mlp', () => {
  it('backward matches finite differences (tanh)', () => checkGradients(jsBackend, 'tanh'));
  it('backward matches finite differences (relu)', () => checkGradients(jsBackend, 'relu'));

  it('forward matches the float64 reference and is row-independent', () => {
    const rng = createRng(3);
    const net = new Mlp({ inputSize: 4, hiddenSizes: [64, 64], outputSize: 2 });
    initOrthogonal(net, rng, { outputGain: 1 });
    const input = Float32Array.from({ length: 8 * 4 }, () => rng.normal());
    const out = net.forward(input, 8).slice(0, 16);
    const ref = referenceForward(net, Float64Array.from(net.params), Float64Array.from(input), 8);
    for (let k = 0; k < 16; k++) expect(out[k]).toBeCloseTo(ref[k]!, 5);
    const single = net.forward(input.subarray(12, 16), 1);
    expect(single[0]).toBe(out[6]);
    expect(single[1]).toBe(out[7]);
  });

  it('grows its buffers for larger batches and keeps the parameters', () => {
    const net = new Mlp({ inputSize: 2, hiddenSizes: [3], outputSize: 1, maxBatch: 1 });
    initOrthogonal(net, createRng(4), { outputGain: 1 });
    const before = net.params.slice();
    const input = new Float32Array(2 * 10).fill(0.5);
    const out = net.forward(input, 10);
    expect(Array.from(net.params)).toEqual(Array.from(before));
    expect(out[0]).toBe(out[9]);
  });

  it('rejects bad sizes and backward without a matching forward', () => {
    expect(() => new Mlp({ inputSize: 0, hiddenSizes: [], outputSize: 1 })).toThrow(/positive integers/);
    const net = new Mlp({ inputSize: 2, hiddenSizes: [], outputSize: 1 });
    net.forward(new Float32Array(2), 1);
    expect(() => net.backward(new Float32Array(2), 2)).toThrow(/same batch/);
  });
});

describe('orthogonal', () => {
  it.each([
    [64, 4],
    [4, 64],
    [8, 8],
  ])('produces orthonormal rows or columns scaled by the gain (%i×%i)', (rows, cols) => {
    const w = new Float32Array(rows * cols);
    orthogonal(w, rows, cols, 2, createRng(rows * 100 + cols));
    // Gram matrix of the shorter dimension must be gain² · I.
    const short = Math.min(rows, cols);
    for (let a = 0; a < short; a++) {
      for (let b = 0; b < short; b++) {
        let dot = 0;
        for (let k = 0; k < Math.max(rows, cols); k++) {
          dot += rows <= cols ? w[a * cols + k]! * w[b * cols + k]! : w[k * cols + a]! * w[k * cols + b]!;
        }
        expect(dot).toBeCloseTo(a === b ? 4 : 0, 4);
      }
    }
  });

  it('initialises hidden layers with gain √2, the head with its gain and zero biases', () => {
    const net = new Mlp({ inputSize: 4, hiddenSizes: [64], outputSize: 3 });
    net.params.fill(1);
    initOrthogonal(net, createRng(5), { outputGain: [{ rows: 2, gain: 0.01 }, { rows: 1, gain: 1 }] });
    const rowNorm = (w: Float32Array, r: number, cols: number) => Math.hypot(...w.subarray(r * cols, (r + 1) * cols));
    expect(rowNorm(net.layerWeights(1), 0, 64)).toBeCloseTo(0.01, 5);
    expect(rowNorm(net.layerWeights(1), 2, 64)).toBeCloseTo(1, 5);
    // 64×4 is tall: columns have norm √2.
    const w0 = net.layerWeights(0);
    let col = 0;
    for (let r = 0; r < 64; r++) col += w0[r * 4]! ** 2;
    expect(Math.sqrt(col)).toBeCloseTo(Math.SQRT2, 5);
    expect(net.layerBias(0).every((b) => b === 0)).toBe(true);
  });
});

describe('wasm backend', () => {
  it('is available on this runtime', () => expect(isWasmSimdSupported()).toBe(true));
  it('backward matches finite differences (tanh)', () => checkGradients(wasmBackend, 'tanh'));
  it('backward matches finite differences (relu)', () => checkGradients(wasmBackend, 'relu'));

  it.each([
    [4, [64, 64], 2, 64],
    [5, [7, 13], 3, 9],
    [17, [64], 1, 256],
  ])('matches the TypeScript kernels (in %i, hidden %j, out %i, batch %i)', (inputSize, hiddenSizes, outputSize, batch) => {
    const rng = createRng(inputSize);
    const js = new Mlp({ inputSize, hiddenSizes, outputSize });
    const wasm = new Mlp({ inputSize, hiddenSizes, outputSize, backend: wasmBackend });
    initOrthogonal(js, rng, { outputGain: 1 });
    wasm.params.set(js.params);
    const input = Float32Array.from({ length: batch * inputSize }, () => 2 * rng.normal());
    const dOut = Float32Array.from({ length: batch * outputSize }, () => rng.normal());
    const a = js.forward(input, batch).slice(0, batch * outputSize);
    const b = wasm.forward(input, batch).slice(0, batch * outputSize);
    for (let k = 0; k < a.length; k++) expect(b[k]).toBeCloseTo(a[k]!, 5);
    js.backward(dOut, batch);
    wasm.backward(dOut, batch);
    for (let k = 0; k < js.grads.length; k++) expect(wasm.grads[k]).toBeCloseTo(js.grads[k]!, 3);
  });
});
