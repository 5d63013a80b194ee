/**
 * Advantage Actor-Critic (synchronous A2C) with Stable-Baselines3 2.x defaults and semantics: short
 * rollouts, one RMSprop step on the whole rollout, no advantage normalisation.
 */
import { createRng } from '@kflow/orderbook';
import { createAdam, createRmsprop, clipGradNorm } from './optimizers';
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

/** A2C hyperparameters (SB3 names in camelCase). */
export interface A2cHyperparameters {
  nSteps: number;
  learningRate: Schedule;
  gamma: number;
  gaeLambda: number;
  entCoef: number;
  vfCoef: number;
  maxGradNorm: number;
  normalizeAdvantage: boolean;
  /** RMSprop (SB3's default) or Adam. */
  useRmsProp: boolean;
  rmsPropEps: number;
}

/** SB3 2.x `A2C(...)` defaults. */
export const A2C_DEFAULTS: Readonly<A2cHyperparameters> = Object.freeze({
  nSteps: 5,
  learningRate: 7e-4,
  gamma: 0.99,
  gaeLambda: 1,
  entCoef: 0,
  vfCoef: 0.5,
  maxGradNorm: 0.5,
  normalizeAdvantage: false,
  useRmsProp: true,
  rmsPropEps: 1e-5,
});

export interface A2cOptions extends TrainerCommonOptions, Partial<A2cHyperparameters> {}

/**
 * Trains an A2C agent on `envs` for at least `totalTimesteps` env steps.
 *
 * @example
 * const envs = new SyncVectorEnv(Array.from({ length: 8 }, () => () => createCartPole()));
 * const { policy } = trainA2c({ envs, totalTimesteps: 200_000, seed: 0 });
 */
export function trainA2c(options: A2cOptions): TrainResult<A2cHyperparameters> {
  const hp: A2cHyperparameters = {
    nSteps: options.nSteps ?? A2C_DEFAULTS.nSteps,
    learningRate: options.learningRate ?? A2C_DEFAULTS.learningRate,
    gamma: options.gamma ?? A2C_DEFAULTS.gamma,
    gaeLambda: options.gaeLambda ?? A2C_DEFAULTS.gaeLambda,
    entCoef: options.entCoef ?? A2C_DEFAULTS.entCoef,
    vfCoef: options.vfCoef ?? A2C_DEFAULTS.vfCoef,
    maxGradNorm: options.maxGradNorm ?? A2C_DEFAULTS.maxGradNorm,
    normalizeAdvantage: options.normalizeAdvantage ?? A2C_DEFAULTS.normalizeAdvantage,
    useRmsProp: options.useRmsProp ?? A2C_DEFAULTS.useRmsProp,
    rmsPropEps: options.rmsPropEps ?? A2C_DEFAULTS.rmsPropEps,
  };
  checkPositiveInteger('nSteps', hp.nSteps);
  const { envs, totalTimesteps, seed, clock, onEvent } = options;
  const nEnvs = envs.numEnvs;

  const rng = createRng(seed);
  const initRng = rng.fork();
  const actionRng = rng.fork();
  const size = hp.nSteps * nEnvs;
  const policy = createActorCritic(options, Math.max(size, nEnvs), initRng);
  const sizes = policy.parameters().map((p) => p.length);
  const optimizer = hp.useRmsProp
    ? createRmsprop({ sizes, learningRate: 0, alpha: 0.99, eps: hp.rmsPropEps })
    : createAdam({ sizes, learningRate: 0 });
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
  const k = policy.nvec.length;
  const indices = new Int32Array(size);
  const obs = new Float32Array(size * buffer.observationSize);
  const actions = new Int32Array(size * k);
  const masks = buffer.maskSize > 0 ? new Uint8Array(size * buffer.maskSize) : undefined;
  const logProbs = new Float32Array(size);
  const entropies = new Float32Array(size);
  const values = new Float32Array(size);
  const dLogProb = new Float32Array(size);
  const dValue = new Float32Array(size);
  const startMs = clock?.now() ?? 0;
  let updates = 0;

  while (collector.timesteps < totalTimesteps) {
    collector.collect();
    optimizer.learningRate = scheduleValue(hp.learningRate, Math.max(0, 1 - collector.timesteps / totalTimesteps));

    // One gradient step on every valid transition of the rollout.
    let n = 0;
    for (let idx = 0; idx < size; idx++) if (buffer.valid[idx] === 1) indices[n++] = idx;
    buffer.gather(indices, 0, n, obs, actions, masks);
    policy.evaluateActions(obs, actions, masks, n, logProbs, entropies, values);
    let mean = 0;
    let sq = 0;
    if (hp.normalizeAdvantage && n > 1) {
      for (let b = 0; b < n; b++) mean += buffer.advantages[indices[b]!]!;
      mean /= n;
      for (let b = 0; b < n; b++) sq += (buffer.advantages[indices[b]!]! - mean) ** 2;
    }
    const std = hp.normalizeAdvantage && n > 1 ? Math.sqrt(sq / (n - 1)) + 1e-8 : 1;
    let pgLoss = 0;
    let valueLoss = 0;
    let entropy = 0;
    for (let b = 0; b < n; b++) {
      const idx = indices[b]!;
      const adv = (buffer.advantages[idx]! - mean) / std;
      // loss = −mean(A·log π) + entCoef·(−mean H) + vfCoef·mean((V − R)²)
      pgLoss -= adv * logProbs[b]!;
      dLogProb[b] = -adv / n;
      const err = values[b]! - buffer.returns[idx]!;
      valueLoss += err * err;
      dValue[b] = (hp.vfCoef * 2 * err) / n;
      entropy += entropies[b]!;
    }
    policy.backward(actions, masks, n, dLogProb, -hp.entCoef / n, dValue);
    clipGradNorm(policy.gradients(), hp.maxGradNorm);
    optimizer.step(policy.parameters(), policy.gradients());
    updates++;

    const metrics: Record<string, number> = {
      'losses/policy_loss': pgLoss / n,
      'losses/value_loss': valueLoss / n,
      'losses/entropy': entropy / n,
      'losses/explained_variance': explainedVariance(buffer.values, buffer.returns, buffer.valid),
      'charts/learning_rate': optimizer.learningRate,
    };
    if (clock !== undefined) metrics['charts/SPS'] = collector.timesteps / Math.max(1e-9, (clock.now() - startMs) / 1000);
    onEvent?.({ kind: 'update', timesteps: collector.timesteps, episodes: collector.episodes, metrics });
  }

  return {
    algorithm: 'a2c',
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
