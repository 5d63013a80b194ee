/**
 * Dense-layer kernels on row-major `Float32Array`s. A layer with `inSize` inputs and `outSize` outputs
 * stores its weights as `w[o * inSize + i]`, so the forward pass is a dot product over contiguous rows and
 * both backward products are contiguous axpy loops. Every kernel processes a whole minibatch per layer.
 */

/** Activation applied after a layer: 0 none (output layer), 1 tanh, 2 relu. */
export type ActivationCode = 0 | 1 | 2;

/** The dense-layer operations an `Mlp` needs. */
export interface Kernels {
  readonly name: 'js' | 'wasm';
  /** `y[b,o] = act(bias[o] + Σ_i x[b,i] · w[o,i])` for `b < batch`. */
  linearForward(
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array,
    y: Float32Array,
    batch: number,
    inSize: number,
    outSize: number,
    act: ActivationCode,
  ): void;
  /**
   * Backward of `linearForward`: first `dy ← dy ⊙ act'(y)` in place, then `dw = dyᵀ·x`, `db = Σ_b dy`
   * (both overwritten, not accumulated) and, when `dx` is given, `dx = dy · w`.
   */
  linearBackward(
    dy: Float32Array,
    y: Float32Array,
    x: Float32Array,
    w: Float32Array,
    dw: Float32Array,
    db: Float32Array,
    dx: Float32Array | undefined,
    batch: number,
    inSize: number,
    outSize: number,
    act: ActivationCode,
  ): void;
}

/** A block of float memory and the kernels that may operate on views of it. */
export interface Arena {
  readonly heap: Float32Array;
  readonly kernels: Kernels;
}

/** Where an `Mlp` keeps its parameters, gradients and activations. */
export interface Backend {
  readonly name: 'js' | 'wasm';
  /** A zeroed arena of `floats` 32-bit floats. */
  createArena(floats: number): Arena;
}

// Typed through `Kernels` so the parameter lists are written once (in the interface above).
const linearForward: Kernels['linearForward'] = (x, w, bias, y, batch, inSize, outSize, act) => {
  for (let b = 0; b < batch; b++) {
    const xo = b * inSize;
    const yo = b * outSize;
    for (let o = 0; o < outSize; o++) {
      const wo = o * inSize;
      // Four independent accumulators let the CPU overlap the multiply-adds.
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let i = 0;
      for (; i + 3 < inSize; i += 4) {
        s0 += x[xo + i]! * w[wo + i]!;
        s1 += x[xo + i + 1]! * w[wo + i + 1]!;
        s2 += x[xo + i + 2]! * w[wo + i + 2]!;
        s3 += x[xo + i + 3]! * w[wo + i + 3]!;
      }
      for (; i < inSize; i++) s0 += x[xo + i]! * w[wo + i]!;
      const z = bias[o]! + (s0 + s1) + (s2 + s3);
      y[yo + o] = act === 1 ? Math.tanh(z) : act === 2 ? (z > 0 ? z : 0) : z;
    }
  }
};

const linearBackward: Kernels['linearBackward'] = (dy, y, x, w, dw, db, dx, batch, inSize, outSize, act) => {
  const n = batch * outSize;
  if (act === 1) for (let k = 0; k < n; k++) dy[k] = dy[k]! * (1 - y[k]! * y[k]!);
  else if (act === 2) for (let k = 0; k < n; k++) if (y[k]! <= 0) dy[k] = 0;
  // dw[o,:] = Σ_b dy[b,o] · x[b,:]: the weight row stays in L1 while the batch streams past.
  for (let o = 0; o < outSize; o++) {
    const wo = o * inSize;
    let bsum = 0;
    for (let i = 0; i < inSize; i++) dw[wo + i] = 0;
    for (let b = 0; b < batch; b++) {
      const g = dy[b * outSize + o]!;
      bsum += g;
      if (g === 0) continue;
      const xo = b * inSize;
      for (let i = 0; i < inSize; i++) dw[wo + i] = dw[wo + i]! + g * x[xo + i]!;
    }
    db[o] = bsum;
  }
  if (dx === undefined) return;
  // dx[b,:] = Σ_o dy[b,o] · w[o,:]
  for (let b = 0; b < batch; b++) {
    const xo = b * inSize;
    const yo = b * outSize;
    for (let i = 0; i < inSize; i++) dx[xo + i] = 0;
    for (let o = 0; o < outSize; o++) {
      const g = dy[yo + o]!;
      if (g === 0) continue;
      const wo = o * inSize;
      for (let i = 0; i < inSize; i++) dx[xo + i] = dx[xo + i]! + g * w[wo + i]!;
    }
  }
};

const jsKernels: Kernels = { name: 'js', linearForward, linearBackward };

/** Plain TypeScript kernels on ordinary `Float32Array`s: the portable reference backend. */
export const jsBackend: Backend = {
  name: 'js',
  createArena: (floats) => ({ heap: new Float32Array(floats), kernels: jsKernels }),
};
