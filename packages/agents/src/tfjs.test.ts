import { createRng, isKflowError } from '@kflow/orderbook';
import { describe, expect, it, vi } from 'vitest';
import { ActorCritic } from './actorCritic';
import { createCheckpoint, loadPolicy } from './checkpoint';
import { createAdam } from './optimizers';
import type { TrainResult } from './training';
import { type TfLike, type TfTensor, createTfjsPolicy } from './tfjs';

// @tensorflow/tfjs is an optional peer and not installed by default (it is ~260 MB of node_modules):
// the parity test against real tfjs runs when it is present, the adapter logic is tested without it.
const hasTfjs = await import(/* @vite-ignore */ '@tensorflow/tfjs'.toString()).then(
  () => true,
  () => false,
);

/** Row-major matrices on plain arrays, implementing exactly the tfjs ops the adapter uses. */
function miniTf(): TfLike & { readonly live: Set<TfTensor> } {
  const live = new Set<TfTensor>();
  class Tensor implements TfTensor {
    constructor(
      readonly values: Float64Array,
      readonly rows: number,
      readonly cols: number,
    ) {
      live.add(this);
    }
    dataSync() {
      return this.values;
    }
    dispose() {
      live.delete(this);
    }
  }
  const map = (x: TfTensor, f: (v: number) => number) => {
    const t = x as Tensor;
    return new Tensor(t.values.map(f), t.rows, t.cols);
  };
  return {
    live,
    tensor1d: (values: Float32Array) => new Tensor(Float64Array.from(values), 1, values.length),
    tensor2d: (values: Float32Array, [rows, cols]: [number, number]) => new Tensor(Float64Array.from(values), rows, cols),
    // As tfjs: every tensor created inside is disposed (the adapter returns plain data, not a tensor).
    tidy<T>(fn: () => T): T {
      const before = new Set(live);
      const result = fn();
      for (const t of live) if (!before.has(t)) t.dispose(); // deleting while iterating a Set is safe
      return result;
    },
    matMul(a: TfTensor, b: TfTensor) {
      const x = a as Tensor;
      const y = b as Tensor;
      const out = new Float64Array(x.rows * y.cols);
      for (let r = 0; r < x.rows; r++)
        for (let c = 0; c < y.cols; c++) for (let k = 0; k < x.cols; k++) out[r * y.cols + c]! += x.values[r * x.cols + k]! * y.values[k * y.cols + c]!;
      return new Tensor(out, x.rows, y.cols);
    },
    add(a: TfTensor, b: TfTensor) {
      const x = a as Tensor;
      const bias = (b as Tensor).values;
      return new Tensor(x.values.map((v, i) => v + bias[i % x.cols]!), x.rows, x.cols);
    },
    tanh: (x: TfTensor) => map(x, Math.tanh),
    relu: (x: TfTensor) => map(x, (v) => Math.max(0, v)),
  };
}

function checkpointOf(ac: ActorCritic) {
  const result: TrainResult<object> = {
    algorithm: 'ppo',
    policy: ac,
    hyperparameters: {},
    seed: 0,
    timesteps: 0,
    episodes: 0,
    updates: 0,
    meanEpisodicReturn: Number.NaN,
    seconds: 0,
    optimizer: createAdam({ sizes: ac.parameters().map((p) => p.length), learningRate: 0 }).exportState(),
  };
  return createCheckpoint(result);
}

/** The adapter must act exactly like the TypeScript policy of the same checkpoint. */
async function expectParity(activation: 'tanh' | 'relu', shared: boolean, tf?: TfLike) {
  const ac = new ActorCritic({ observationSize: 4, nvec: [3], activation, shared });
  ac.init(createRng(0));
  // Spread the head so actions depend on the observation.
  const head = ac.policyNet.layerWeights(2);
  for (let i = 0; i < head.length; i++) head[i] = head[i]! * 100;
  const checkpoint = checkpointOf(ac);
  const reference = loadPolicy(checkpoint);
  const policy = await createTfjsPolicy(checkpoint, { observationSize: 4 }, tf);
  const rng = createRng(1);
  const seen = new Set<number>();
  for (let i = 0; i < 100; i++) {
    const obs = Float32Array.from({ length: 4 }, () => rng.normal());
    const a = policy.act(obs);
    seen.add(a);
    expect(a).toBe(reference.act(obs));
  }
  expect(seen.size).toBeGreaterThan(1);
  expect(policy.act(new Float32Array(4), Uint8Array.of(0, 0, 1))).toBe(2);
  policy.dispose();
}

describe('@kflow/agents/tfjs', () => {
  it.skipIf(!hasTfjs)('acts like the TypeScript policy on @tensorflow/tfjs', { timeout: 30_000 }, () => expectParity('tanh', false));

  it('maps checkpoint layers onto tfjs ops exactly (transposed weights, bias, activation, shared head)', async () => {
    for (const [activation, shared] of [['tanh', false], ['relu', true]] as const) {
      const tf = miniTf();
      await expectParity(activation, shared, tf);
      expect(tf.live.size).toBe(0); // dispose() freed the weight tensors
    }
  });

  it('says what to install when @tensorflow/tfjs is missing', async () => {
    vi.doMock('@tensorflow/tfjs', () => {
      throw new Error('Cannot find package @tensorflow/tfjs');
    });
    const ac = new ActorCritic({ observationSize: 2, nvec: [2] });
    ac.init(createRng(0));
    await expect(createTfjsPolicy(checkpointOf(ac))).rejects.toSatisfy(
      (e: unknown) => isKflowError(e, 'DEPENDENCY_NOT_INSTALLED') && /install @tensorflow\/tfjs/.test((e as Error).message),
    );
    vi.doUnmock('@tensorflow/tfjs');
  });
});
