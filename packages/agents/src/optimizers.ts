import { agentsError } from './errors';

/**
 * A first-order optimizer over one or more parameter tensors (e.g. the policy and the value network),
 * with PyTorch's update rules so SB3 hyperparameters carry over unchanged.
 */
export interface Optimizer {
  readonly kind: 'adam' | 'rmsprop';
  /** Current learning rate; schedules assign it before each update. */
  learningRate: number;
  /** Applies one update: `params[k] -= f(grads[k])`. Tensors must keep the sizes given at creation. */
  step(params: readonly Float32Array[], grads: readonly Float32Array[]): void;
  /** A copy of what the optimizer carries from step to step (to checkpoint and resume a run). */
  exportState(): OptimizerState;
  /** Continues from `state` (exported by an optimizer of the same kind and tensor sizes). */
  importState(state: OptimizerState): void;
}

/**
 * What an optimizer carries between steps: the steps taken and its moment tensors (Adam: first moments of
 * every parameter tensor, then second moments; RMSprop: the squared-gradient averages).
 */
export interface OptimizerState {
  readonly kind: 'adam' | 'rmsprop';
  readonly steps: number;
  readonly moments: readonly Float32Array[];
}

/** The state-keeping half of an optimizer over `moments` tensors, with `steps` in `counter`. */
function stateOf(kind: OptimizerState['kind'], sizes: readonly number[], moments: readonly Float32Array[], counter: { steps: number }) {
  return {
    exportState: (): OptimizerState => ({ kind, steps: counter.steps, moments: moments.map((m) => Float32Array.from(m)) }),
    importState(state: OptimizerState): void {
      const expected = moments.map((m) => m.length).join(',');
      if (state.kind !== kind || state.moments.map((m) => m.length).join(',') !== expected || !(Number.isInteger(state.steps) && state.steps >= 0)) {
        throw agentsError('SHAPE_MISMATCH', `optimizer state of ${state.kind} over [${state.moments.map((m) => m.length)}] does not fit this ${kind} over [${sizes}]`);
      }
      moments.forEach((m, k) => m.set(state.moments[k]!));
      counter.steps = state.steps;
    },
  };
}

/** Options of {@link createAdam}. */
export interface AdamOptions {
  /** Sizes of the parameter tensors the optimizer will update, in `step` order. */
  sizes: readonly number[];
  learningRate: number;
  beta1?: number;
  beta2?: number;
  /** Default 1e-5, SB3's choice for its policies (PyTorch's own default is 1e-8). */
  eps?: number;
  /** Keep the moments in shared memory, so update threads can each step a part of the parameters (`UpdateThreads.bind`). */
  shared?: boolean;
}

/** The constants of one Adam step. */
export interface AdamStep {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** `learningRate / (1 − β1ᵗ)`. */
  readonly stepSize: number;
  /** `√(1 − β2ᵗ)`. */
  readonly bc2Sqrt: number;
}

/** @internal What update threads need to step parts of an Adam optimizer's parameters. */
export interface SharedAdam {
  /** First moments of every tensor end to end, then second moments (float32). */
  readonly moments: SharedArrayBuffer;
  /** Sizes of the parameter tensors. */
  readonly sizes: readonly number[];
  /** Counts one step and returns its constants; the threads then call {@link adamUpdate} on their parts. */
  begin(): AdamStep;
}

const sharedAdams = new WeakMap<Optimizer, SharedAdam>();

/** @internal The shared half of an optimizer made by `createAdam({ shared: true })`, else undefined. */
export function sharedAdamOf(optimizer: Optimizer): SharedAdam | undefined {
  return sharedAdams.get(optimizer);
}

/**
 * Adam's rule on elements `[from, to)` of one tensor, each gradient first scaled by `coef` as `clipGradNorm`
 * would (1: unscaled): `p -= stepSize · m / (√v / bc2Sqrt + eps)`. Elementwise, so steps of disjoint parts
 * add up to the whole step exactly.
 */
export function adamUpdate(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, from: number, to: number, coef: number, s: AdamStep): void {
  const { beta1, beta2, eps, stepSize, bc2Sqrt } = s;
  for (let i = from; i < to; i++) {
    const gi = Math.fround(g[i]! * coef);
    const mi = beta1 * m[i]! + (1 - beta1) * gi;
    const vi = beta2 * v[i]! + (1 - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i]! - (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
  }
}

/**
 * Adam with PyTorch semantics: bias-corrected moments, `p -= lr/(1-β1ᵗ) · m / (√v/√(1-β2ᵗ) + eps)`.
 *
 * @example
 * const adam = createAdam({ sizes: [pi.paramCount, vf.paramCount], learningRate: 3e-4 });
 * adam.step([pi.params, vf.params], [pi.grads, vf.grads]);
 */
export function createAdam(options: AdamOptions): Optimizer {
  const beta1 = options.beta1 ?? 0.9;
  const beta2 = options.beta2 ?? 0.999;
  const eps = options.eps ?? 1e-5;
  const total = options.sizes.reduce((n, size) => n + size, 0);
  const memory = options.shared === true ? new SharedArrayBuffer(2 * total * 4) : new ArrayBuffer(2 * total * 4);
  const moments: Float32Array[] = [];
  let offset = 0;
  for (let i = 0; i < 2 * options.sizes.length; i++) {
    const size = options.sizes[i % options.sizes.length]!;
    moments.push(new Float32Array(memory, offset * 4, size));
    offset += size;
  }
  const m = moments.slice(0, options.sizes.length);
  const v = moments.slice(options.sizes.length);
  const counter = { steps: 0 };
  const optimizer: Optimizer = {
    kind: 'adam',
    learningRate: options.learningRate,
    ...stateOf('adam', options.sizes, moments, counter),
    step(params, grads) {
      checkShapes(options.sizes, params, grads);
      const s = begin();
      for (let k = 0; k < params.length; k++) adamUpdate(params[k]!, grads[k]!, m[k]!, v[k]!, 0, params[k]!.length, 1, s);
    },
  };
  function begin(): AdamStep {
    const t = ++counter.steps;
    return { beta1, beta2, eps, stepSize: optimizer.learningRate / (1 - beta1 ** t), bc2Sqrt: Math.sqrt(1 - beta2 ** t) };
  }
  if (memory instanceof SharedArrayBuffer) sharedAdams.set(optimizer, { moments: memory, sizes: options.sizes, begin });
  return optimizer;
}

/** Options of {@link createRmsprop}. */
export interface RmspropOptions {
  sizes: readonly number[];
  learningRate: number;
  /** Smoothing constant; default 0.99 (SB3 A2C). */
  alpha?: number;
  /** Default 1e-5 (SB3 A2C's `rms_prop_eps`). */
  eps?: number;
}

/**
 * RMSprop with PyTorch semantics (eps outside the square root, no momentum, not centred), as SB3's A2C
 * uses it: `v = α·v + (1-α)·g²; p -= lr · g / (√v + eps)`.
 *
 * @example
 * const rms = createRmsprop({ sizes: [net.paramCount], learningRate: 7e-4 });
 */
export function createRmsprop(options: RmspropOptions): Optimizer {
  const alpha = options.alpha ?? 0.99;
  const eps = options.eps ?? 1e-5;
  const v = options.sizes.map((n) => new Float32Array(n));
  const counter = { steps: 0 };
  return {
    kind: 'rmsprop',
    learningRate: options.learningRate,
    ...stateOf('rmsprop', options.sizes, v, counter),
    step(params, grads) {
      checkShapes(options.sizes, params, grads);
      counter.steps++;
      const lr = this.learningRate;
      for (let k = 0; k < params.length; k++) {
        const p = params[k]!;
        const g = grads[k]!;
        const vk = v[k]!;
        for (let i = 0; i < p.length; i++) {
          const gi = g[i]!;
          const vi = alpha * vk[i]! + (1 - alpha) * gi * gi;
          vk[i] = vi;
          p[i] = p[i]! - (lr * gi) / (Math.sqrt(vi) + eps);
        }
      }
    },
  };
}

/**
 * Scales gradients in place so their global L2 norm is at most `maxNorm` (PyTorch's `clip_grad_norm_`,
 * including its 1e-6 in the denominator). Returns the norm before clipping.
 *
 * @example
 * clipGradNorm([pi.grads, vf.grads], 0.5);
 */
export function clipGradNorm(grads: readonly Float32Array[], maxNorm: number): number {
  let sq = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
  const norm = Math.sqrt(sq);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (const g of grads) for (let i = 0; i < g.length; i++) g[i] = g[i]! * coef;
  return norm;
}

function checkShapes(sizes: readonly number[], params: readonly Float32Array[], grads: readonly Float32Array[]): void {
  if (params.length !== sizes.length || grads.length !== sizes.length) {
    throw agentsError('SHAPE_MISMATCH', `optimizer created for ${sizes.length} tensors, got ${params.length}`);
  }
  for (let k = 0; k < sizes.length; k++) {
    if (params[k]!.length !== sizes[k] || grads[k]!.length !== sizes[k]) {
      throw agentsError('SHAPE_MISMATCH', `tensor ${k}: expected ${sizes[k]} floats`);
    }
  }
}
