/**
 * Proximal Policy Optimization with Stable-Baselines3 2.x defaults and semantics, written to read top to
 * bottom like CleanRL's `ppo.py`: options, setup, then the loop "collect a rollout and its GAE advantages →
 * epochs of shuffled minibatches: clipped PPO loss and its gradient → clip the gradient norm → Adam step →
 * report". Each step is an exported piece (`RolloutCollector`, `computeGae`, `ppoLoss`, `clipGradNorm`,
 * `createAdam`), so a custom loop is built from the same code.
 */
import { createMinibatch } from './minibatch';
import { clipGradNorm, createAdam } from './optimizers';
import { ppoLoss } from './ppoLoss';
import {
  type Schedule,
  type TrainerCommonOptions,
  type TrainResult,
  checkPositiveInteger,
  resolveHyperparameters,
  scheduleValue,
  startOnPolicyRun,
} from './training';
import type { UpdateThreads } from './updateThreads';

/** PPO hyperparameters (SB3 names in camelCase). */
export interface PpoHyperparameters {
  /** Steps per env per rollout. */
  nSteps: number;
  /** Minibatch size. */
  batchSize: number;
  /** Passes over each rollout. */
  nEpochs: number;
  learningRate: Schedule;
  gamma: number;
  gaeLambda: number;
  /** Clipping of the probability ratio. */
  clipRange: Schedule;
  /** Clipping of the value change around the rollout's value; `null` disables it (SB3's default). */
  clipRangeVf: Schedule | null;
  normalizeAdvantage: boolean;
  /** Weight of the entropy bonus; a linear schedule anneals it over training (SB3 takes a constant only). */
  entCoef: Schedule;
  vfCoef: number;
  maxGradNorm: number;
  /** Stop the epochs of an update once the approximate KL exceeds 1.5 × this; `null` never stops. */
  targetKl: number | null;
}

/** SB3 2.x `PPO(...)` defaults. */
export const PPO_DEFAULTS: Readonly<PpoHyperparameters> = Object.freeze({
  nSteps: 2048,
  batchSize: 64,
  nEpochs: 10,
  learningRate: 3e-4,
  gamma: 0.99,
  gaeLambda: 0.95,
  clipRange: 0.2,
  clipRangeVf: null,
  normalizeAdvantage: true,
  entCoef: 0,
  vfCoef: 0.5,
  maxGradNorm: 0.5,
  targetKl: null,
});

/** The rl-baselines3-zoo CartPole-v1 settings (use with 8 envs). */
export const PPO_ZOO_CARTPOLE: Readonly<PpoHyperparameters> = Object.freeze({
  ...PPO_DEFAULTS,
  nSteps: 32,
  batchSize: 256,
  nEpochs: 20,
  gaeLambda: 0.8,
  gamma: 0.98,
  learningRate: { kind: 'linear', start: 1e-3 } as const,
  clipRange: { kind: 'linear', start: 0.2 } as const,
});

export interface PpoOptions extends TrainerCommonOptions, Partial<PpoHyperparameters> {
  /**
   * Threads to split each minibatch's gradient over (`createUpdateThreads`); without them the update runs
   * in this thread. A run is deterministic for a given thread count.
   */
  updateThreads?: UpdateThreads;
}

/**
 * Trains a PPO agent on `envs` for at least `totalTimesteps` env steps (whole rollouts, as SB3) and
 * returns the trained policy with the run's statistics. Synchronous and deterministic for a given seed.
 *
 * @example
 * const envs = new SyncVectorEnv([() => createCartPole()]);
 * const { policy } = trainPpo({ envs, totalTimesteps: 100_000, seed: 0 });
 * const action = policy.act(observation);
 */
export function trainPpo(options: PpoOptions): TrainResult<PpoHyperparameters> {
  // ── 1. Hyperparameters ────────────────────────────────────────────────────────────────────────────
  const hp = resolveHyperparameters(PPO_DEFAULTS, options);
  checkPositiveInteger('nSteps', hp.nSteps);
  checkPositiveInteger('batchSize', hp.batchSize);
  checkPositiveInteger('nEpochs', hp.nEpochs);

  // ── 2. Setup: seeded streams, networks, optimizer, rollout and minibatch storage ──────────────────
  const run = startOnPolicyRun(options, hp, hp.batchSize, options.updateThreads !== undefined);
  const { policy, collector } = run;
  const { buffer } = collector;
  const shuffleRng = run.rng.fork();
  const optimizer = createAdam({ sizes: policy.parameters().map((p) => p.length), learningRate: 0, shared: options.updateThreads !== undefined });
  run.resumeOptimizer(optimizer);
  const indices = new Int32Array(buffer.size);
  const minibatch = createMinibatch(buffer, hp.batchSize);
  const threaded = options.updateThreads?.bind(policy, buffer, hp.batchSize, optimizer);
  const lossOf = threaded?.ppoLoss ?? ppoLoss;

  // ── 3. Main loop ──────────────────────────────────────────────────────────────────────────────────
  try {
    while (collector.timesteps < options.totalTimesteps) {
      // 3a. Rollout: nSteps × nEnvs transitions with values and log-probs, then GAE advantages and returns.
      collector.collect();
      const progressRemaining = run.progressRemaining();
      optimizer.learningRate = scheduleValue(hp.learningRate, progressRemaining);
      const clipRange = scheduleValue(hp.clipRange, progressRemaining);
      const clipRangeVf = hp.clipRangeVf === null ? null : scheduleValue(hp.clipRangeVf, progressRemaining);
      const entCoef = scheduleValue(hp.entCoef, progressRemaining);

      // 3b. Optimise the clipped surrogate for nEpochs over shuffled minibatches.
      let policyLoss = 0;
      let valueLoss = 0;
      let entropy = 0;
      let oldApproxKl = 0;
      let approxKl = 0;
      let clipFraction = 0;
      let minibatches = 0;
      let gradientSteps = 0;
      let continueTraining = true;
      for (let epoch = 0; epoch < hp.nEpochs && continueTraining; epoch++) {
        const count = buffer.shuffledValidIndices(shuffleRng, indices);
        for (let start = 0; start < count; start += hp.batchSize) {
          const rows = indices.subarray(start, Math.min(start + hp.batchSize, count));
          // loss = clipped surrogate + vfCoef·value loss − entCoef·entropy, and ∂loss/∂θ in policy.gradients().
          const m = lossOf({
            policy,
            buffer,
            rows,
            minibatch,
            clipRange,
            clipRangeVf,
            normalizeAdvantage: hp.normalizeAdvantage,
            entCoef,
            vfCoef: hp.vfCoef,
          });
          policyLoss += m.policyLoss;
          valueLoss += m.valueLoss;
          entropy += m.entropy;
          oldApproxKl += m.oldApproxKl;
          approxKl += m.approxKl;
          clipFraction += m.clipFraction;
          minibatches++;
          // SB3's early stop: this minibatch's gradient is dropped, and so are the remaining epochs.
          if (hp.targetKl !== null && m.approxKl > 1.5 * hp.targetKl) {
            continueTraining = false;
            break;
          }

          // Clip the global gradient norm, then one Adam step.
          if (threaded === undefined) {
            clipGradNorm(policy.gradients(), hp.maxGradNorm);
            optimizer.step(policy.parameters(), policy.gradients());
          } else {
            threaded.step(hp.maxGradNorm);
          }
          gradientSteps++;
        }
      }

      // 3c. Report (means over the update's minibatches).
      run.reportUpdate({
        'charts/learning_rate': optimizer.learningRate,
        'charts/clip_range': clipRange,
        'charts/gradient_steps': gradientSteps,
        'losses/value_loss': valueLoss / minibatches,
        'losses/policy_loss': policyLoss / minibatches,
        'losses/entropy': entropy / minibatches,
        'losses/old_approx_kl': oldApproxKl / minibatches,
        'losses/approx_kl': approxKl / minibatches,
        'losses/clipfrac': clipFraction / minibatches,
      }, () => run.finish('ppo', hp, optimizer));
    }
  } finally {
    threaded?.release();
  }

  return run.finish('ppo', hp, optimizer);
}
