/**
 * Proximal Policy Optimization with Stable-Baselines3 2.x defaults and semantics, written to read top to
 * bottom like CleanRL's `ppo.py`: options, setup, then the loop "collect a rollout → several epochs of
 * clipped-surrogate minibatch updates → report".
 */
import { createRng } from '@kflow/orderbook';
import { createAdam, clipGradNorm } from './optimizers';
import { RolloutCollector } from './rolloutCollector';
import {
  type Schedule,
  type TrainerCommonOptions,
  type TrainResult,
  checkPositiveInteger,
  createActorCritic,
  explainedVariance,
  scheduleValue,
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
  const hp: PpoHyperparameters = {
    nSteps: options.nSteps ?? PPO_DEFAULTS.nSteps,
    batchSize: options.batchSize ?? PPO_DEFAULTS.batchSize,
    nEpochs: options.nEpochs ?? PPO_DEFAULTS.nEpochs,
    learningRate: options.learningRate ?? PPO_DEFAULTS.learningRate,
    gamma: options.gamma ?? PPO_DEFAULTS.gamma,
    gaeLambda: options.gaeLambda ?? PPO_DEFAULTS.gaeLambda,
    clipRange: options.clipRange ?? PPO_DEFAULTS.clipRange,
    clipRangeVf: options.clipRangeVf ?? PPO_DEFAULTS.clipRangeVf,
    normalizeAdvantage: options.normalizeAdvantage ?? PPO_DEFAULTS.normalizeAdvantage,
    entCoef: options.entCoef ?? PPO_DEFAULTS.entCoef,
    vfCoef: options.vfCoef ?? PPO_DEFAULTS.vfCoef,
    maxGradNorm: options.maxGradNorm ?? PPO_DEFAULTS.maxGradNorm,
    targetKl: options.targetKl ?? PPO_DEFAULTS.targetKl,
  };
  checkPositiveInteger('nSteps', hp.nSteps);
  checkPositiveInteger('batchSize', hp.batchSize);
  checkPositiveInteger('nEpochs', hp.nEpochs);
  const { envs, totalTimesteps, seed, clock, onEvent } = options;
  const nEnvs = envs.numEnvs;

  // ── 2. Setup: seeded streams, networks, optimizer, rollout storage ────────────────────────────────
  const rng = createRng(seed);
  const initRng = rng.fork();
  const actionRng = rng.fork();
  const shuffleRng = rng.fork();
  const policy = createActorCritic(options, Math.max(hp.batchSize, nEnvs), initRng);
  const optimizer = createAdam({ sizes: policy.parameters().map((p) => p.length), learningRate: 0 });
  const collector = new RolloutCollector({
    envs,
    policy,
    nSteps: hp.nSteps,
    gamma: hp.gamma,
    gaeLambda: hp.gaeLambda,
    seed,
    rng: actionRng,
    onEpisode: (episodicReturn, length) =>
      onEvent?.({
        kind: 'episode',
        timesteps: collector.timesteps,
        episodes: collector.episodes,
        metrics: { 'charts/episodic_return': episodicReturn, 'charts/episodic_length': length },
      }),
  });
  const buffer = collector.buffer;
  const B = hp.batchSize;
  const k = policy.nvec.length;
  const indices = new Int32Array(buffer.size);
  const mbObs = new Float32Array(B * buffer.observationSize);
  const mbActions = new Int32Array(B * k);
  const mbMasks = buffer.maskSize > 0 ? new Uint8Array(B * buffer.maskSize) : undefined;
  const logProbs = new Float32Array(B);
  const entropies = new Float32Array(B);
  const values = new Float32Array(B);
  const advantages = new Float32Array(B);
  const dLogProb = new Float32Array(B);
  const dValue = new Float32Array(B);
  const startMs = clock?.now() ?? 0;
  let updates = 0;

  // ── 3. Main loop ──────────────────────────────────────────────────────────────────────────────────
  while (collector.timesteps < totalTimesteps) {
    // 3a. Rollout: nSteps × nEnvs transitions with values, log-probs, GAE advantages and returns.
    collector.collect();
    const progressRemaining = Math.max(0, 1 - collector.timesteps / totalTimesteps);
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
        buffer.gather(indices, start, n, mbObs, mbActions, mbMasks);
        policy.evaluateActions(mbObs, mbActions, mbMasks, n, logProbs, entropies, values);

        // Advantage normalisation per minibatch (torch's unbiased std, as SB3).
        let mean = 0;
        for (let b = 0; b < n; b++) mean += buffer.advantages[indices[start + b]!]!;
        mean /= n;
        let sq = 0;
        for (let b = 0; b < n; b++) sq += (buffer.advantages[indices[start + b]!]! - mean) ** 2;
        const std = n > 1 ? Math.sqrt(sq / (n - 1)) : 1;
        const normalize = hp.normalizeAdvantage && n > 1;
        for (let b = 0; b < n; b++) {
          const a = buffer.advantages[indices[start + b]!]!;
          advantages[b] = normalize ? (a - mean) / (std + 1e-8) : a;
        }

        // Losses and their gradients w.r.t. log π(a|s) and V(s), sample by sample.
        let pgLoss = 0;
        let valueLoss = 0;
        let entropy = 0;
        let approxKl = 0;
        let clipped = 0;
        for (let b = 0; b < n; b++) {
          const idx = indices[start + b]!;
          const logRatio = logProbs[b]! - buffer.logProbs[idx]!;
          const ratio = Math.exp(logRatio);
          const adv = advantages[b]!;
          const surrogate = adv * ratio;
          const clippedSurrogate = adv * Math.min(Math.max(ratio, 1 - clipRange), 1 + clipRange);
          // -min(surrogate, clipped): the gradient flows only through the unclipped branch.
          pgLoss -= Math.min(surrogate, clippedSurrogate);
          dLogProb[b] = surrogate <= clippedSurrogate ? -surrogate / n : 0;
          if (Math.abs(ratio - 1) > clipRange) clipped++;
          approxKl += ratio - 1 - logRatio;
          entropy += entropies[b]!;

          const oldValue = buffer.values[idx]!;
          let v = values[b]!;
          let vGrad = 1;
          if (clipRangeVf !== null) {
            const dv = v - oldValue;
            if (dv > clipRangeVf || dv < -clipRangeVf) vGrad = 0;
            v = oldValue + Math.min(Math.max(dv, -clipRangeVf), clipRangeVf);
          }
          const err = v - buffer.returns[idx]!;
          valueLoss += err * err;
          dValue[b] = (hp.vfCoef * 2 * err * vGrad) / n;
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
        policy.backward(mbActions, mbMasks, n, dLogProb, -hp.entCoef / n, dValue);
        clipGradNorm(policy.gradients(), hp.maxGradNorm);
        optimizer.step(policy.parameters(), policy.gradients());
        gradientSteps++;
      }
    }
    updates++;

    // 3c. Report.
    const metrics: Record<string, number> = {
      'losses/policy_loss': pgLossSum / minibatches,
      'losses/value_loss': valueLossSum / minibatches,
      'losses/entropy': entropySum / minibatches,
      'losses/approx_kl': approxKlSum / minibatches,
      'losses/clip_fraction': clipFracSum / minibatches,
      'losses/explained_variance': explainedVariance(buffer.values, buffer.returns, buffer.valid),
      'charts/learning_rate': optimizer.learningRate,
      'charts/clip_range': clipRange,
      'charts/gradient_steps': gradientSteps,
    };
    if (clock !== undefined) metrics['charts/SPS'] = collector.timesteps / Math.max(1e-9, (clock.now() - startMs) / 1000);
    onEvent?.({ kind: 'update', timesteps: collector.timesteps, episodes: collector.episodes, metrics });
  }

  return {
    algorithm: 'ppo',
    policy,
    hyperparameters: hp,
    seed,
    timesteps: collector.timesteps,
    episodes: collector.episodes,
    updates,
    meanEpisodicReturn: collector.meanRecentReturn,
    seconds: clock === undefined ? 0 : (clock.now() - startMs) / 1000,
  };
}
