/**
 * Proximal Policy Optimization with Stable-Baselines3 2.x defaults and semantics, written to read top to
 * bottom like CleanRL's `ppo.py`: options, setup, then the loop "collect a rollout → several epochs of
 * clipped-surrogate minibatch updates → report".
 */
import { createAdam } from './optimizers';
import {
  type Schedule,
  type TrainerCommonOptions,
  type TrainResult,
  checkPositiveInteger,
  createMinibatch,
  loadMinibatch,
  minibatchStep,
  resolveHyperparameters,
  scheduleValue,
  startOnPolicyRun,
} from './training';

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
  entCoef: number;
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

export interface PpoOptions extends TrainerCommonOptions, Partial<PpoHyperparameters> {}

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

  // ── 2. Setup: seeded streams, networks, optimizer, rollout storage ────────────────────────────────
  const run = startOnPolicyRun(options, hp, hp.batchSize);
  const { policy, collector } = run;
  const shuffleRng = run.rng.fork();
  const optimizer = createAdam({ sizes: policy.parameters().map((p) => p.length), learningRate: 0 });
  const buffer = collector.buffer;
  const B = hp.batchSize;
  const indices = new Int32Array(buffer.size);
  const mb = createMinibatch(buffer, B);
  let updates = 0;

  // ── 3. Main loop ──────────────────────────────────────────────────────────────────────────────────
  while (collector.timesteps < options.totalTimesteps) {
    // 3a. Rollout: nSteps × nEnvs transitions with values, log-probs, GAE advantages and returns.
    collector.collect();
    const progressRemaining = run.progressRemaining();
    optimizer.learningRate = scheduleValue(hp.learningRate, progressRemaining);
    const clipRange = scheduleValue(hp.clipRange, progressRemaining);
    const clipRangeVf = hp.clipRangeVf === null ? null : scheduleValue(hp.clipRangeVf, progressRemaining);

    // 3b. Optimise the clipped surrogate for nEpochs over shuffled minibatches.
    let pgLossSum = 0;
    let valueLossSum = 0;
    let entropySum = 0;
    let approxKlSum = 0;
    let clipFracSum = 0;
    let minibatches = 0;
    let gradientSteps = 0;
    let continueTraining = true;
    for (let epoch = 0; epoch < hp.nEpochs && continueTraining; epoch++) {
      const count = buffer.shuffledValidIndices(shuffleRng, indices);
      for (let start = 0; start < count; start += B) {
        const n = Math.min(B, count - start);
        // Log-probs, entropies and values under the current parameters; advantages normalised per minibatch.
        loadMinibatch(policy, buffer, indices, start, n, mb, hp.normalizeAdvantage);

        // Losses and their gradients w.r.t. log π(a|s) and V(s), sample by sample.
        let pgLoss = 0;
        let valueLoss = 0;
        let entropy = 0;
        let approxKl = 0;
        let clipped = 0;
        for (let b = 0; b < n; b++) {
          const idx = indices[start + b]!;
          const logRatio = mb.logProbs[b]! - buffer.logProbs[idx]!;
          const ratio = Math.exp(logRatio);
          const adv = mb.advantages[b]!;
          const surrogate = adv * ratio;
          const clippedSurrogate = adv * Math.min(Math.max(ratio, 1 - clipRange), 1 + clipRange);
          // -min(surrogate, clipped): the gradient flows only through the unclipped branch.
          pgLoss -= Math.min(surrogate, clippedSurrogate);
          mb.dLogProb[b] = surrogate <= clippedSurrogate ? -surrogate / n : 0;
          if (Math.abs(ratio - 1) > clipRange) clipped++;
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
          mb.dValue[b] = (hp.vfCoef * 2 * err * vGrad) / n;
        }
        pgLoss /= n;
        valueLoss /= n;
        entropy /= n;
        approxKl /= n;
        pgLossSum += pgLoss;
        valueLossSum += valueLoss;
        entropySum += entropy;
        approxKlSum += approxKl;
        clipFracSum += clipped / n;
        minibatches++;
        if (hp.targetKl !== null && approxKl > 1.5 * hp.targetKl) {
          continueTraining = false;
          break;
        }

        // loss = pg + entCoef·(−mean H) + vfCoef·MSE → backprop, clip the global norm, Adam step.
        minibatchStep(policy, optimizer, mb, n, -hp.entCoef / n, hp.maxGradNorm);
        gradientSteps++;
      }
    }
    updates++;

    // 3c. Report.
    run.reportUpdate({
      'losses/policy_loss': pgLossSum / minibatches,
      'losses/value_loss': valueLossSum / minibatches,
      'losses/entropy': entropySum / minibatches,
      'losses/approx_kl': approxKlSum / minibatches,
      'losses/clip_fraction': clipFracSum / minibatches,
      'charts/learning_rate': optimizer.learningRate,
      'charts/clip_range': clipRange,
      'charts/gradient_steps': gradientSteps,
    });
  }

  return run.finish('ppo', hp, updates);
}
