import type { Box, Discrete, Env, EnvInfo } from '@kflow/env';
import type { Policy } from './actorCritic';
import { agentsError } from './errors';

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** Seed of the first reset; episode `i` resets with `seed + i`. Default 0. */
  seed?: number;
}

/** Per-episode results of `evaluate`. */
export interface EvaluateResult {
  readonly returns: readonly number[];
  readonly lengths: readonly number[];
  readonly meanReturn: number;
  /** Population standard deviation (as SB3's `evaluate_policy`). */
  readonly stdReturn: number;
}

/**
 * Runs `policy` (deterministically, through `act`) for `episodes` episodes of `env`, passing the env's
 * action mask when it provides one, and reports the undiscounted returns.
 *
 * @example
 * const { meanReturn } = evaluate(policy, createCartPole(), 20, { seed: 1000 });
 */
export function evaluate(
  policy: Policy,
  env: Env<Box, Discrete, EnvInfo>,
  episodes: number,
  options: EvaluateOptions = {},
): EvaluateResult {
  if (!Number.isInteger(episodes) || episodes <= 0) throw agentsError('INVALID_OPTIONS', `episodes must be a positive integer, got ${episodes}`);
  if (env.observationSpace.size !== policy.observationSize) {
    throw agentsError('SHAPE_MISMATCH', `policy expects observations of ${policy.observationSize}, env gives ${env.observationSpace.size}`);
  }
  const seed = options.seed ?? 0;
  const returns: number[] = [];
  const lengths: number[] = [];
  for (let e = 0; e < episodes; e++) {
    let { observation, info } = env.reset({ seed: seed + e });
    let total = 0;
    let length = 0;
    for (;;) {
      const step = env.step(policy.act(observation, info.actionMask));
      total += step.reward;
      length++;
      if (step.terminated || step.truncated) break;
      observation = step.observation;
      info = step.info;
    }
    returns.push(total);
    lengths.push(length);
  }
  const meanReturn = returns.reduce((s, r) => s + r, 0) / episodes;
  const stdReturn = Math.sqrt(returns.reduce((s, r) => s + (r - meanReturn) ** 2, 0) / episodes);
  return { returns, lengths, meanReturn, stdReturn };
}
