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
  const m = options.sizes.map((n) => new Float32Array(n));
  const v = options.sizes.map((n) => new Float32Array(n));
  const counter = { steps: 0 };
  return {
    kind: 'adam',
    learningRate: options.learningRate,
    ...stateOf('adam', options.sizes, [...m, ...v], counter),
    step(params, grads) {
      checkShapes(options.sizes, params, grads);
      const t = ++counter.steps;
      const bc1 = 1 - beta1 ** t;
      const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
      const stepSize = this.learningRate / bc1;
      for (let k = 0; k < params.length; k++) {
        const p = params[k]!;
        const g = grads[k]!;
        const mk = m[k]!;
        const vk = v[k]!;
        for (let i = 0; i < p.length; i++) {
          const gi = g[i]!;
          const mi = beta1 * mk[i]! + (1 - beta1) * gi;
          const vi = beta2 * vk[i]! + (1 - beta2) * gi * gi;
          mk[i] = mi;
          vk[i] = vi;
          p[i] = p[i]! - (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
        }
      }
    },
  };
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
