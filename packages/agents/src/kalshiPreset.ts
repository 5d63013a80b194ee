import type { KalshiEnvOptions } from '@kflow/env';
import type { PolicyOptions } from './training';
import type { PpoHyperparameters } from './ppo';

/** The Kalshi env options of a training setup (everything but the sessions). */
export type KalshiTrainingEnvOptions = Omit<KalshiEnvOptions, 'sessions'>;

/** One complete PPO setup for the Kalshi env: env options, hyperparameters, parallel envs, steps. */
export interface KalshiPpoPreset {
  readonly env: KalshiTrainingEnvOptions;
  readonly ppo: Readonly<Partial<PpoHyperparameters>>;
  readonly policy: PolicyOptions;
  readonly nEnvs: number;
  readonly totalTimesteps: number;
}

/**
 * The recommended PPO setup for the Kalshi env, measured by kflow's learning check on the simulator's
 * `informed` preset (the repository's docs/learning-check.md); `kflow train`, `kflow eval`, the demo and
 * the control server's training jobs use it, and a `--config` file overrides any part.
 *
 * Why these values:
 * - a decision every 2 s of exchange time: the informed signal plays out over 10–60 s, and at 1 s the
 *   exploration cost (random taker trades pay spread + fee every second) makes PPO settle on HOLD;
 * - taker actions only (`*_NOW`), one contract, position limit one contract: the check then measures
 *   prediction of the next mid moves only. Passive (maker) orders earn the spread from the simulator's
 *   noise traders even at edge 0 (zero maker fee, no adverse selection there), which is not a leak but
 *   would make the edge-0 control meaningless;
 * - episodes of at most 300 decisions (10 minutes; sessions of about 15 minutes suit it: in the `informed`
 *   preset most markets are decided, with nothing left to trade, after 10–15 minutes), reward in cents
 *   (rewardScale 1e-4);
 * - 4 envs × 512 steps per rollout, minibatches of 256, 10 epochs, γ 0.98 (a ~100 s horizon), λ 0.95, an
 *   entropy bonus annealed from 0.03 to 0 over training (it explores early and commits late: held-out Sharpe
 *   +0.03 to +0.06 over a constant 0.01); 300k steps (about 45 s on one core).
 *
 * @example
 * const env = createKalshiEnv({ sessions: pool, ...KALSHI_PPO.env });
 * const { policy } = trainPpo({ envs, totalTimesteps: KALSHI_PPO.totalTimesteps, seed: 0, ...KALSHI_PPO.ppo });
 */
export const KALSHI_PPO: KalshiPpoPreset = {
  env: {
    cadence: { everyMs: 2000 },
    episodeSteps: 300,
    sizesCenti: [100],
    positionLimitCenti: 100,
    tradingKinds: ['BUY_YES_NOW', 'SELL_YES_NOW', 'BUY_NO_NOW', 'SELL_NO_NOW'],
    rewardScale: 1e-4,
  },
  ppo: { nSteps: 512, batchSize: 256, nEpochs: 10, learningRate: 3e-4, gamma: 0.98, gaeLambda: 0.95, entCoef: { kind: 'linear', start: 0.03 } },
  policy: { hiddenSizes: [64, 64] },
  nEnvs: 4,
  totalTimesteps: 300_000,
};
