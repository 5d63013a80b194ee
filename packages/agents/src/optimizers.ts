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
  let t = 0;
  return {
    kind: 'adam',
    learningRate: options.learningRate,
    step(params, grads) {
      checkShapes(options.sizes, params, grads);
      t++;
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
  return {
    kind: 'rmsprop',
    learningRate: options.learningRate,
    step(params, grads) {
      checkShapes(options.sizes, params, grads);
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
