import type { Rng } from '@kflow/orderbook';
import { agentsError } from './errors';
import type { Mlp } from './mlp';

/**
 * Fills `target` (row-major `rows × cols`) with a scaled (semi-)orthogonal matrix, as
 * `torch.nn.init.orthogonal_` does: a Gaussian matrix is orthonormalised (QR with a positive diagonal,
 * here by modified Gram–Schmidt in float64), so rows are orthonormal when `rows ≤ cols` and columns are
 * orthonormal otherwise, then multiplied by `gain`.
 *
 * @example
 * orthogonal(net.layerWeights(0), 64, 4, Math.SQRT2, createRng(0));
 */
export function orthogonal(target: Float32Array, rows: number, cols: number, gain: number, rng: Rng): void {
  if (target.length !== rows * cols) {
    throw agentsError('SHAPE_MISMATCH', `orthogonal: target has ${target.length} floats, expected ${rows}×${cols}`);
  }
  // Work on a tall matrix A (m × n, m ≥ n) stored column-major: the transpose when rows < cols.
  const tall = rows >= cols;
  const m = tall ? rows : cols;
  const n = tall ? cols : rows;
  const a = new Float64Array(m * n);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const g = rng.normal();
      if (tall) a[c * m + r] = g;
      else a[r * m + c] = g;
    }
  }
  for (let j = 0; j < n; j++) {
    const qj = j * m;
    for (let k = 0; k < j; k++) {
      const qk = k * m;
      let dot = 0;
      for (let i = 0; i < m; i++) dot += a[qk + i]! * a[qj + i]!;
      for (let i = 0; i < m; i++) a[qj + i] = a[qj + i]! - dot * a[qk + i]!;
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += a[qj + i]! * a[qj + i]!;
    norm = Math.sqrt(norm);
    for (let i = 0; i < m; i++) a[qj + i] = a[qj + i]! / norm;
  }
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) target[r * cols + c] = gain * (tall ? a[c * m + r]! : a[r * m + c]!);
  }
}

/** Options of {@link initOrthogonal}. */
export interface OrthogonalInitOptions {
  /** Gain of hidden layers; default √2 (SB3/CleanRL). */
  hiddenGain?: number;
  /**
   * Gain of the output layer, or gains for consecutive row groups of it (a shared trunk whose output
   * layer holds the policy logits and the value: `[{ rows: 2, gain: 0.01 }, { rows: 1, gain: 1 }]`).
   */
  outputGain: number | readonly { rows: number; gain: number }[];
}

/**
 * Orthogonal initialisation of every layer of `net` with zero biases (SB3's `ortho_init`).
 *
 * @example
 * initOrthogonal(policyNet, rng, { outputGain: 0.01 });
 * initOrthogonal(valueNet, rng, { outputGain: 1 });
 */
export function initOrthogonal(net: Mlp, rng: Rng, options: OrthogonalInitOptions): void {
  const last = net.layerCount - 1;
  for (let l = 0; l <= last; l++) {
    const [rows, cols] = net.layerShape(l);
    const w = net.layerWeights(l);
    net.layerBias(l).fill(0);
    if (l < last) {
      orthogonal(w, rows, cols, options.hiddenGain ?? Math.SQRT2, rng);
      continue;
    }
    const groups = typeof options.outputGain === 'number' ? [{ rows, gain: options.outputGain }] : options.outputGain;
    if (groups.reduce((s, g) => s + g.rows, 0) !== rows) {
      throw agentsError('SHAPE_MISMATCH', `output gain groups must cover the ${rows} output rows`);
    }
    let r0 = 0;
    for (const g of groups) {
      orthogonal(w.subarray(r0 * cols, (r0 + g.rows) * cols), g.rows, cols, g.gain, rng);
      r0 += g.rows;
    }
  }
}
