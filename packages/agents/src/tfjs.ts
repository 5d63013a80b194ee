/**
 * Optional TensorFlow.js backend (`@kflow/agents/tfjs`): runs a checkpoint's policy network with tfjs
 * tensors behind the same `Policy` interface. `@tensorflow/tfjs` is an optional peer dependency, imported
 * lazily here only; the package's main entry never imports this module.
 *
 * @packageDocumentation
 * @module \@kflow/agents/tfjs
 */
import type { Policy } from './actorCritic';
import { MultiCategorical } from './categorical';
import { type Checkpoint, type CheckpointExpectation, type CheckpointManifest, loadPolicy } from './checkpoint';
import { agentsError } from './errors';

/** The slice of the tfjs API this adapter uses (so tfjs types never reach our public signatures). */
export interface TfLike {
  /** `tf.tensor1d`: a rank-1 tensor of `values`. */
  tensor1d(values: Float32Array): TfTensor;
  /** `tf.tensor2d`: a rank-2 tensor of `values` (row-major) with `shape`. */
  tensor2d(values: Float32Array, shape: [number, number]): TfTensor;
  /** `tf.tidy`: runs `fn` and disposes the intermediate tensors it created. */
  tidy<T>(fn: () => T): T;
  /** `tf.matMul`: the matrix product `a × b`. */
  matMul(a: TfTensor, b: TfTensor): TfTensor;
  /** `tf.add`: elementwise sum (broadcasting). */
  add(a: TfTensor, b: TfTensor): TfTensor;
  /** `tf.tanh`, elementwise. */
  tanh(x: TfTensor): TfTensor;
  /** `tf.relu`, elementwise. */
  relu(x: TfTensor): TfTensor;
}

/** The slice of a tfjs tensor this adapter uses. */
export interface TfTensor {
  /** The tensor's values, read synchronously. */
  dataSync(): ArrayLike<number>;
  /** Frees the tensor's memory. */
  dispose(): void;
}

/** A policy whose forward pass runs on tfjs; `dispose()` frees its weight tensors. */
export interface TfjsPolicy extends Policy {
  readonly manifest: CheckpointManifest;
  /** Most likely action row (one integer per action component); the array is reused by the next call. */
  actVector(observation: Float32Array, mask?: Uint8Array): Int32Array;
  /** Frees the policy's weight tensors; the policy must not be used afterwards. */
  dispose(): void;
}

/**
 * Loads `@tensorflow/tfjs` (or takes the module you pass, e.g. after choosing a backend) and builds a
 * tfjs policy from a checkpoint, with the same checks as `loadPolicy`. Actions equal those of the
 * TypeScript policy up to float rounding in near ties.
 *
 * @example
 * import { createTfjsPolicy } from '@kflow/agents/tfjs';
 * const policy = await createTfjsPolicy(await readCheckpoint('runs/cartpole'), { observationSize: 4 });
 * policy.act(observation);
 */
export async function createTfjsPolicy(
  checkpoint: Checkpoint,
  expected: CheckpointExpectation = {},
  tf?: TfLike,
): Promise<TfjsPolicy> {
  const inference = loadPolicy(checkpoint, expected);
  const lib = tf ?? (await importTfjs());
  const m = inference.manifest;
  const logitCount = inference.nvec.reduce((s, n) => s + n, 0);
  const sizes = [inference.observationSize, ...m.network.hiddenSizes, logitCount + (m.network.shared ? 1 : 0)];
  const params = inference.parameters;
  // tfjs multiplies rows by [in × out] matrices: transpose our row-major [out × in] weights.
  const layers: { w: TfTensor; b: TfTensor }[] = [];
  let offset = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inSize = sizes[l]!;
    const outSize = sizes[l + 1]!;
    const wt = new Float32Array(inSize * outSize);
    for (let o = 0; o < outSize; o++) for (let i = 0; i < inSize; i++) wt[i * outSize + o] = params[offset + o * inSize + i]!;
    offset += inSize * outSize;
    layers.push({ w: lib.tensor2d(wt, [inSize, outSize]), b: lib.tensor1d(params.slice(offset, offset + outSize)) });
    offset += outSize;
  }
  const activation = m.network.activation === 'tanh' ? lib.tanh.bind(lib) : lib.relu.bind(lib);
  const dist = new MultiCategorical(inference.nvec);
  const logits = new Float32Array(logitCount);
  const actions = new Int32Array(inference.nvec.length);
  const logProb = new Float32Array(1);
  const actVector = (observation: Float32Array, mask?: Uint8Array): Int32Array => {
    if (observation.length !== inference.observationSize) {
      throw agentsError('SHAPE_MISMATCH', `observation has ${observation.length} floats, policy expects ${inference.observationSize}`);
    }
    const out = lib.tidy(() => {
      let h = lib.tensor2d(observation, [1, inference.observationSize]);
      layers.forEach((layer, l) => {
        h = lib.add(lib.matMul(h, layer.w), layer.b);
        if (l + 1 < layers.length) h = activation(h);
      });
      return h.dataSync();
    });
    for (let j = 0; j < logitCount; j++) logits[j] = out[j]!;
    dist.sample(logits, 1, mask, undefined, actions, logProb);
    return actions;
  };
  return {
    manifest: m,
    observationSize: inference.observationSize,
    actionCount: inference.actionCount,
    featureSetVersion: inference.featureSetVersion,
    actVector,
    act(observation, mask) {
      if (inference.nvec.length !== 1) throw agentsError('UNSUPPORTED_SPACE', 'act() needs a Discrete action space; use actVector()');
      return actVector(observation, mask)[0]!;
    },
    dispose() {
      for (const layer of layers) {
        layer.w.dispose();
        layer.b.dispose();
      }
    },
  };
}

async function importTfjs(): Promise<TfLike> {
  // A variable specifier keeps bundlers from resolving the optional peer at build time.
  const specifier = '@tensorflow/tfjs';
  try {
    return (await import(/* @vite-ignore */ specifier)) as TfLike;
  } catch (cause) {
    const error = agentsError('DEPENDENCY_NOT_INSTALLED', 'install @tensorflow/tfjs to use @kflow/agents/tfjs');
    (error as { cause?: unknown }).cause = cause;
    throw error;
  }
}
