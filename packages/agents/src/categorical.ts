import type { Rng } from '@kflow/orderbook';
import { agentsError } from './errors';

/** Logit given to masked-out actions (sb3-contrib's MaskableCategorical uses the same constant). */
const MASKED_LOGIT = -1e8;

/**
 * Independent categorical distributions over the components of a `MultiDiscrete` action (`nvec`), with
 * `Discrete(n)` as the one-component case. Logit rows hold `Σ nvec` floats; an action row holds one
 * integer per component; an optional mask row (1 = allowed) masks logits, so masked actions get zero
 * probability and zero gradient. Batched methods keep the probabilities of the last `evaluate` for
 * `backward`.
 *
 * @example
 * const dist = new MultiCategorical([2]);
 * dist.sample(logits, 1, undefined, rng, actions, logProbs);
 */
export class MultiCategorical {
  readonly nvec: readonly number[];
  readonly logitCount: number;
  private probs = new Float32Array(0);
  private logProbsAll = new Float32Array(0);
  private entropies = new Float32Array(0);
  private lastBatch = -1;

  constructor(nvec: readonly number[]) {
    if (nvec.length === 0 || !nvec.every((n) => Number.isInteger(n) && n > 0)) {
      throw agentsError('INVALID_OPTIONS', `nvec must be positive integers, got [${nvec.join(', ')}]`);
    }
    this.nvec = [...nvec];
    this.logitCount = nvec.reduce((s, n) => s + n, 0);
  }

  /**
   * Samples an action row for each of `batch` logit rows with `rng`, or takes the most likely action when
   * `rng` is undefined (deterministic evaluation), and writes its log-probability.
   */
  sample(
    logits: Float32Array,
    batch: number,
    masks: Uint8Array | undefined,
    rng: Rng | undefined,
    actions: Int32Array,
    logProbs: Float32Array,
  ): void {
    const L = this.logitCount;
    const k = this.nvec.length;
    for (let b = 0; b < batch; b++) {
      let logp = 0;
      let offset = 0;
      for (let c = 0; c < k; c++) {
        const n = this.nvec[c]!;
        const base = b * L + offset;
        let max = -Infinity;
        let best = 0;
        for (let j = 0; j < n; j++) {
          const l = masked(logits, masks, base + j);
          if (l > max) {
            max = l;
            best = j;
          }
        }
        let sum = 0;
        for (let j = 0; j < n; j++) sum += Math.exp(masked(logits, masks, base + j) - max);
        let chosen = best;
        if (rng !== undefined) {
          // Inverse CDF; the fallback to the argmax only matters for rounding at u ≈ 1.
          let u = rng.next() * sum;
          for (let j = 0; j < n; j++) {
            u -= Math.exp(masked(logits, masks, base + j) - max);
            if (u < 0) {
              chosen = j;
              break;
            }
          }
        }
        actions[b * k + c] = chosen;
        logp += masked(logits, masks, base + chosen) - max - Math.log(sum);
        offset += n;
      }
      logProbs[b] = logp;
    }
  }

  /**
   * Log-probability of `actions` and entropy (summed over components) for `batch` rows; remembers the
   * probabilities for `backward`.
   */
  evaluate(
    logits: Float32Array,
    actions: Int32Array,
    masks: Uint8Array | undefined,
    batch: number,
    logProbs: Float32Array,
    entropies: Float32Array,
  ): void {
    const L = this.logitCount;
    const k = this.nvec.length;
    if (this.probs.length < batch * L) {
      this.probs = new Float32Array(batch * L);
      this.logProbsAll = new Float32Array(batch * L);
      this.entropies = new Float32Array(batch * k);
    }
    const probs = this.probs;
    const logAll = this.logProbsAll;
    for (let b = 0; b < batch; b++) {
      let logp = 0;
      let entropy = 0;
      let offset = 0;
      for (let c = 0; c < k; c++) {
        const n = this.nvec[c]!;
        const base = b * L + offset;
        let max = -Infinity;
        for (let j = 0; j < n; j++) max = Math.max(max, masked(logits, masks, base + j));
        let sum = 0;
        for (let j = 0; j < n; j++) sum += Math.exp(masked(logits, masks, base + j) - max);
        const lse = max + Math.log(sum);
        let h = 0;
        for (let j = 0; j < n; j++) {
          const lp = masked(logits, masks, base + j) - lse;
          const p = Math.exp(lp);
          logAll[base + j] = lp;
          probs[base + j] = p;
          if (p > 0) h -= p * lp;
        }
        this.entropies[b * k + c] = h;
        entropy += h;
        logp += logAll[base + actions[b * k + c]!]!;
        offset += n;
      }
      logProbs[b] = logp;
      entropies[b] = entropy;
    }
    this.lastBatch = batch;
  }

  /**
   * Gradient of `Σ_b (dLogProb[b]·logπ(a_b) + dEntropy·H_b)` with respect to the logits of the last
   * `evaluate`, written to `dLogits` (`batch × logitCount`). Masked logits get zero.
   */
  backward(
    actions: Int32Array,
    masks: Uint8Array | undefined,
    batch: number,
    dLogProb: Float32Array,
    dEntropy: number,
    dLogits: Float32Array,
  ): void {
    if (batch !== this.lastBatch) throw agentsError('SHAPE_MISMATCH', 'backward must follow evaluate with the same batch');
    const L = this.logitCount;
    const k = this.nvec.length;
    for (let b = 0; b < batch; b++) {
      const g = dLogProb[b]!;
      let offset = 0;
      for (let c = 0; c < k; c++) {
        const n = this.nvec[c]!;
        const base = b * L + offset;
        const h = this.entropies[b * k + c]!;
        const a = actions[b * k + c]!;
        for (let j = 0; j < n; j++) {
          const i = base + j;
          if (masks !== undefined && masks[i] === 0) {
            dLogits[i] = 0;
            continue;
          }
          const p = this.probs[i]!;
          // d logπ(a)/dl_j = [j = a] - p_j;  dH/dl_j = -p_j (log p_j + H)
          dLogits[i] = g * ((j === a ? 1 : 0) - p) - dEntropy * p * (this.logProbsAll[i]! + h);
        }
        offset += n;
      }
    }
  }
}

function masked(logits: Float32Array, masks: Uint8Array | undefined, i: number): number {
  return masks !== undefined && masks[i] === 0 ? MASKED_LOGIT : logits[i]!;
}
