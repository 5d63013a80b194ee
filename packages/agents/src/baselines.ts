import type { Rng } from '@kflow/orderbook';
import type { Policy } from './actorCritic';
import { agentsError } from './errors';

/** The policy metadata every baseline policy reports. */
export interface BaselinePolicyOptions {
  observationSize: number;
  actionCount: number;
  /** Default `'none'`. */
  featureSetVersion?: string;
}

/**
 * Uniformly random among the allowed actions (all of them without a mask): the floor any trained
 * policy must beat.
 *
 * @example
 * const random = createRandomPolicy({ observationSize: 4, actionCount: 2, rng: createRng(0) });
 */
export function createRandomPolicy(options: BaselinePolicyOptions & { rng: Rng }): Policy {
  const { rng, actionCount } = options;
  return {
    observationSize: options.observationSize,
    actionCount,
    featureSetVersion: options.featureSetVersion ?? 'none',
    act(_observation, mask) {
      if (mask === undefined) return rng.int(actionCount);
      let allowed = 0;
      for (let i = 0; i < actionCount; i++) allowed += mask[i] === 1 ? 1 : 0;
      if (allowed === 0) throw agentsError('INVALID_OPTIONS', 'action mask allows no action');
      let k = rng.int(allowed);
      for (let i = 0; i < actionCount; i++) if (mask[i] === 1 && k-- === 0) return i;
      return 0;
    },
  };
}

/**
 * Always the same action (default 0, the no-op of the Kalshi env): the "do nothing" baseline.
 *
 * @example
 * const hold = createHoldPolicy({ observationSize: 32, actionCount: 9 });
 */
export function createHoldPolicy(options: BaselinePolicyOptions & { holdAction?: number }): Policy {
  const hold = options.holdAction ?? 0;
  if (!Number.isInteger(hold) || hold < 0 || hold >= options.actionCount) {
    throw agentsError('INVALID_OPTIONS', `holdAction must be in [0, ${options.actionCount}), got ${hold}`);
  }
  return {
    observationSize: options.observationSize,
    actionCount: options.actionCount,
    featureSetVersion: options.featureSetVersion ?? 'none',
    act: () => hold,
  };
}
