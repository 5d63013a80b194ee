import type { ActorCritic } from './actorCritic';
import { type AdvantageScale, type Minibatch, advantageScale, loadRows } from './minibatch';
import type { RolloutBuffer } from './rolloutBuffer';

/** Options of {@link ppoLoss}: the policy, the rollout, the minibatch's rows and the loss coefficients. */
export interface PpoLossOptions {
  /** The actor-critic being trained; `ppoLoss` overwrites its gradient buffers (`policy.gradients()`). */
  readonly policy: ActorCritic;
  /** A collected rollout with advantages and returns (after `RolloutCollector.collect()`). */
  readonly buffer: RolloutBuffer;
  /** Indices of the minibatch's rows in `buffer`, e.g. a slice of `buffer.shuffledValidIndices`. */
  readonly rows: Int32Array;
  /** Scratch storage from `createMinibatch(buffer, batchSize)`, with room for `rows.length` rows. */
  readonly minibatch: Minibatch;
  /** ε of the clipped surrogate: the probability ratio is clipped to `1 ± clipRange` (CleanRL's `clip_coef`). */
  readonly clipRange: number;
  /** Clips the value prediction to `V_old ± clipRangeVf` (SB3's `clip_range_vf`); `null` (default) does not clip. */
  readonly clipRangeVf?: number | null;
  /** Normalise the advantages over the minibatch (default true). */
  readonly normalizeAdvantage?: boolean;
  /** Weight of the entropy bonus (default 0, SB3's). */
  readonly entCoef?: number;
  /** Weight of the value loss (default 0.5). */
  readonly vfCoef?: number;
}

/** The minibatch's losses and diagnostics (means over its rows). */
export interface PpoLossMetrics {
  /** `policyLoss − entCoef·entropy + vfCoef·valueLoss`: the quantity whose gradient was computed. */
  readonly loss: number;
  /** `−mean(min(r·A, clip(r, 1 ± ε)·A))` with `r = π(a|s) / π_old(a|s)`. */
  readonly policyLoss: number;
  /** `mean((V − R)²)` (SB3's `F.mse_loss`; CleanRL's has a factor ½), with `V` clipped when `clipRangeVf` is set. */
  readonly valueLoss: number;
  readonly entropy: number;
  /** `mean(−log r)`, the naive KL estimator CleanRL logs as `losses/old_approx_kl`. */
  readonly oldApproxKl: number;
  /** `mean((r − 1) − log r)`, the unbiased low-variance KL estimator (`losses/approx_kl`; `targetKl` reads it). */
  readonly approxKl: number;
  /** Fraction of rows whose ratio left `1 ± ε` (`losses/clipfrac`). */
  readonly clipFraction: number;
}

/**
 * The PPO loss of one minibatch and its gradient: evaluates the policy on `rows` of the rollout, computes
 * the clipped surrogate, the (optionally clipped) value loss and the entropy bonus exactly as SB3's
 * `PPO.train`, and backpropagates `loss` into the networks' gradient buffers (PyTorch's `loss.backward()`).
 * What remains of a gradient step is `clipGradNorm` and the optimizer's `step`.
 *
 * @example
 * const count = buffer.shuffledValidIndices(rng, indices);
 * for (let start = 0; start < count; start += 64) {
 *   const rows = indices.subarray(start, Math.min(start + 64, count));
 *   const m = ppoLoss({ policy, buffer, rows, minibatch, clipRange: 0.2, entCoef: 0.01 });
 *   clipGradNorm(policy.gradients(), 0.5);
 *   optimizer.step(policy.parameters(), policy.gradients());
 * }
 */
export function ppoLoss(options: PpoLossOptions): PpoLossMetrics {
  const { buffer, rows } = options;
  const sums = ppoLossSums(options, rows, advantageScale(buffer, rows, options.normalizeAdvantage ?? true), rows.length);
  return ppoLossMetrics(sums, rows.length, options);
}

/** Sums over rows of the quantities {@link PpoLossMetrics} averages (`clipped` counts rows). */
export interface PpoLossSums {
  policyLoss: number;
  valueLoss: number;
  entropy: number;
  oldApproxKl: number;
  approxKl: number;
  clipped: number;
}

/**
 * The PPO loss of `rows`, one part of a minibatch of `total` rows whose advantages are scaled by `scale`:
 * returns the sums over `rows` and writes the part's share of the minibatch's gradient (every row weighs
 * `1 / total`) into `policy.gradients()`. The parts' gradients add up to the minibatch's.
 */
export function ppoLossSums(options: PpoLossOptions, rows: Int32Array, scale: AdvantageScale, total: number): PpoLossSums {
  const { policy, buffer, minibatch: mb, clipRange } = options;
  const clipRangeVf = options.clipRangeVf ?? null;
  const entCoef = options.entCoef ?? 0;
  const vfCoef = options.vfCoef ?? 0.5;
  const n = rows.length;
  // Log-probs, entropies and values under the current parameters; advantages scaled over the minibatch.
  loadRows(policy, buffer, rows, mb, scale);

  // Losses and their gradients w.r.t. log π(a|s) and V(s), row by row.
  let policyLoss = 0;
  let valueLoss = 0;
  let entropy = 0;
  let oldApproxKl = 0;
  let approxKl = 0;
  let clipped = 0;
  for (let b = 0; b < n; b++) {
    const idx = rows[b]!;
    const logRatio = mb.logProbs[b]! - buffer.logProbs[idx]!;
    const ratio = Math.exp(logRatio);
    const adv = mb.advantages[b]!;
    const surrogate = adv * ratio;
    const clippedSurrogate = adv * Math.min(Math.max(ratio, 1 - clipRange), 1 + clipRange);
    // −min(surrogate, clipped): the gradient flows only through the unclipped branch.
    policyLoss -= Math.min(surrogate, clippedSurrogate);
    mb.dLogProb[b] = surrogate <= clippedSurrogate ? -surrogate / total : 0;
    if (Math.abs(ratio - 1) > clipRange) clipped++;
    oldApproxKl -= logRatio;
    approxKl += ratio - 1 - logRatio;
    entropy += mb.entropies[b]!;

    // SB3's value clipping: the prediction itself is clipped around the rollout's value (no max).
    const oldValue = buffer.values[idx]!;
    let v = mb.values[b]!;
    let vGrad = 1;
    if (clipRangeVf !== null) {
      const dv = v - oldValue;
      if (dv > clipRangeVf || dv < -clipRangeVf) vGrad = 0;
      v = oldValue + Math.min(Math.max(dv, -clipRangeVf), clipRangeVf);
    }
    const err = v - buffer.returns[idx]!;
    valueLoss += err * err;
    mb.dValue[b] = (vfCoef * 2 * err * vGrad) / total;
  }

  // ∂loss/∂θ through the distribution and both networks; the entropy term is −entCoef·mean(H).
  policy.backward(mb.actions, mb.masks, n, mb.dLogProb, -entCoef / total, mb.dValue);
  return { policyLoss, valueLoss, entropy, oldApproxKl, approxKl, clipped };
}

/** The minibatch's metrics from the sums over its `total` rows. */
export function ppoLossMetrics(sums: PpoLossSums, total: number, options: Pick<PpoLossOptions, 'entCoef' | 'vfCoef'>): PpoLossMetrics {
  const policyLoss = sums.policyLoss / total;
  const valueLoss = sums.valueLoss / total;
  const entropy = sums.entropy / total;
  return {
    loss: policyLoss - (options.entCoef ?? 0) * entropy + (options.vfCoef ?? 0.5) * valueLoss,
    policyLoss,
    valueLoss,
    entropy,
    oldApproxKl: sums.oldApproxKl / total,
    approxKl: sums.approxKl / total,
    clipFraction: sums.clipped / total,
  };
}
