/** Inputs of {@link computeGae}: one rollout in `[step][env]` layout. */
export interface GaeOptions {
  /** Rewards, `[step][env]` row-major (`nSteps × nEnvs`), with truncation bootstraps already added. */
  rewards: Float32Array;
  /** Value estimates `V(s_t)`, same layout. */
  values: Float32Array;
  /** 1 where `s_t` is the first observation of an episode, same layout. */
  episodeStarts: Uint8Array;
  /** `V(s_T)` of the observation after the last step, one per env. */
  lastValues: Float32Array;
  /** 1 where the last step ended an episode, one per env. */
  lastDones: Uint8Array;
  nSteps: number;
  nEnvs: number;
  gamma: number;
  gaeLambda: number;
  /** Output: advantages, same layout as `rewards`. */
  advantages: Float32Array;
  /** Output: `advantages + values` (the value-function targets). */
  returns: Float32Array;
}

/**
 * Generalised advantage estimation exactly as SB3's `RolloutBuffer.compute_returns_and_advantage`:
 * `δ_t = r_t + γ·V(s_{t+1})·(1 - done_t) - V(s_t)`, `A_t = δ_t + γλ·(1 - done_t)·A_{t+1}`, where
 * `done_t` is read from the next step's episode start (or `lastDones` for the final step).
 *
 * @example
 * computeGae({ rewards, values, episodeStarts, lastValues, lastDones, nSteps: 2048, nEnvs: 1,
 *              gamma: 0.99, gaeLambda: 0.95, advantages, returns });
 */
export function computeGae(o: GaeOptions): void {
  const { nSteps, nEnvs, gamma, gaeLambda } = o;
  for (let e = 0; e < nEnvs; e++) {
    let lastGae = 0;
    for (let t = nSteps - 1; t >= 0; t--) {
      const k = t * nEnvs + e;
      const last = t === nSteps - 1;
      const nextNonTerminal = 1 - (last ? o.lastDones[e]! : o.episodeStarts[k + nEnvs]!);
      const nextValue = last ? o.lastValues[e]! : o.values[k + nEnvs]!;
      const delta = o.rewards[k]! + gamma * nextValue * nextNonTerminal - o.values[k]!;
      lastGae = delta + gamma * gaeLambda * nextNonTerminal * lastGae;
      o.advantages[k] = lastGae;
      o.returns[k] = lastGae + o.values[k]!;
    }
  }
}
