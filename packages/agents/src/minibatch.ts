import type { ActorCritic } from './actorCritic';
import { agentsError } from './errors';
import type { RolloutBuffer } from './rolloutBuffer';

/**
 * Preallocated storage for one minibatch of rollout rows and the policy's outputs on them, reused from
 * minibatch to minibatch (a training step allocates nothing).
 */
export interface Minibatch {
  /** Rows it holds at most. */
  readonly size: number;
  readonly observations: Float32Array;
  readonly actions: Int32Array;
  readonly masks: Uint8Array | undefined;
  /** log π(a|s), entropy and V(s) under the current parameters. */
  readonly logProbs: Float32Array;
  readonly entropies: Float32Array;
  readonly values: Float32Array;
  /** Advantages of the rows (normalised when asked). */
  readonly advantages: Float32Array;
  /** Loss gradients w.r.t. log π(a|s) and V(s), filled by the loss. */
  readonly dLogProb: Float32Array;
  readonly dValue: Float32Array;
}

/**
 * Minibatch storage for up to `size` rows of `buffer` (its observation, action and mask widths).
 *
 * @example
 * const minibatch = createMinibatch(collector.buffer, 64);
 * ppoLoss({ policy, buffer: collector.buffer, rows, minibatch, clipRange: 0.2 });
 */
export function createMinibatch(buffer: RolloutBuffer, size: number): Minibatch {
  if (!Number.isInteger(size) || size <= 0) throw agentsError('INVALID_OPTIONS', `minibatch size must be a positive integer, got ${size}`);
  return {
    size,
    observations: new Float32Array(size * buffer.observationSize),
    actions: new Int32Array(size * buffer.actionDims),
    masks: buffer.maskSize > 0 ? new Uint8Array(size * buffer.maskSize) : undefined,
    logProbs: new Float32Array(size),
    entropies: new Float32Array(size),
    values: new Float32Array(size),
    advantages: new Float32Array(size),
    dLogProb: new Float32Array(size),
    dValue: new Float32Array(size),
  };
}

/** The mean and standard deviation a minibatch's advantages are normalised with (0 and 1: left as they are). */
export interface AdvantageScale {
  readonly mean: number;
  readonly std: number;
}

/** The advantage normalisation of the minibatch `rows` (torch's unbiased std, as SB3), or none. */
export function advantageScale(buffer: RolloutBuffer, rows: Int32Array, normalizeAdvantage: boolean): AdvantageScale {
  const n = rows.length;
  if (!normalizeAdvantage || n <= 1) return { mean: 0, std: 1 };
  let mean = 0;
  for (let b = 0; b < n; b++) mean += buffer.advantages[rows[b]!]!;
  mean /= n;
  let sq = 0;
  for (let b = 0; b < n; b++) sq += (buffer.advantages[rows[b]!]! - mean) ** 2;
  return { mean, std: Math.sqrt(sq / (n - 1)) + 1e-8 };
}

/**
 * Gathers `rows` of `buffer` into `minibatch`, evaluates the policy on them (the forward pass a following
 * `policy.backward` differentiates) and copies their advantages, normalised over the minibatch when
 * `normalizeAdvantage` (torch's unbiased std, as SB3). The building block of a custom loss; `ppoLoss`
 * starts with it.
 *
 * @example
 * loadMinibatch(policy, buffer, rows, minibatch, false);
 * // minibatch.logProbs, .entropies, .values and .advantages now hold rows.length entries
 */
export function loadMinibatch(
  policy: ActorCritic,
  buffer: RolloutBuffer,
  rows: Int32Array,
  minibatch: Minibatch,
  normalizeAdvantage: boolean,
): void {
  loadRows(policy, buffer, rows, minibatch, advantageScale(buffer, rows, normalizeAdvantage));
}

/** `loadMinibatch` for part of a minibatch whose advantage scale was computed over all of it. */
export function loadRows(policy: ActorCritic, buffer: RolloutBuffer, rows: Int32Array, minibatch: Minibatch, scale: AdvantageScale): void {
  const n = rows.length;
  const mb = minibatch;
  if (n > mb.size) throw agentsError('SHAPE_MISMATCH', `${n} rows do not fit a minibatch of ${mb.size}`);
  buffer.gather(rows, 0, n, mb.observations, mb.actions, mb.masks);
  policy.evaluateActions(mb.observations, mb.actions, mb.masks, n, mb.logProbs, mb.entropies, mb.values);
  for (let b = 0; b < n; b++) mb.advantages[b] = (buffer.advantages[rows[b]!]! - scale.mean) / scale.std;
}
