/**
 * Advantage Actor-Critic (synchronous A2C) with Stable-Baselines3 2.x defaults and semantics: short
 * rollouts, one RMSprop step on the whole rollout, no advantage normalisation.
 */
import { createMinibatch, loadMinibatch } from './minibatch';
import { clipGradNorm, createAdam, createRmsprop } from './optimizers';
import {
  type Schedule,
  type TrainerCommonOptions,
  type TrainResult,
  checkPositiveInteger,
  resolveHyperparameters,
  scheduleValue,
  startOnPolicyRun,
} from './training';

/** A2C hyperparameters (SB3 names in camelCase). */
export interface A2cHyperparameters {
  nSteps: number;
  learningRate: Schedule;
  gamma: number;
  gaeLambda: number;
  /** Weight of the entropy bonus; a linear schedule anneals it over training. */
  entCoef: Schedule;
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
  const hp = resolveHyperparameters(A2C_DEFAULTS, options);
  checkPositiveInteger('nSteps', hp.nSteps);
  const size = hp.nSteps * options.envs.numEnvs;
  const run = startOnPolicyRun(options, hp, size);
  const { policy, collector } = run;
  const sizes = policy.parameters().map((p) => p.length);
  const optimizer = hp.useRmsProp
    ? createRmsprop({ sizes, learningRate: 0, alpha: 0.99, eps: hp.rmsPropEps })
    : createAdam({ sizes, learningRate: 0 });
  run.resumeOptimizer(optimizer);
  const buffer = collector.buffer;
  const indices = new Int32Array(size);
  const mb = createMinibatch(buffer, size);

  while (collector.timesteps < options.totalTimesteps) {
    collector.collect();
    const progressRemaining = run.progressRemaining();
    optimizer.learningRate = scheduleValue(hp.learningRate, progressRemaining);
    const entCoef = scheduleValue(hp.entCoef, progressRemaining);

    // One gradient step on every valid transition of the rollout.
    let n = 0;
    for (let idx = 0; idx < size; idx++) if (buffer.valid[idx] === 1) indices[n++] = idx;
    const rows = indices.subarray(0, n);
    loadMinibatch(policy, buffer, rows, mb, hp.normalizeAdvantage);
    let pgLoss = 0;
    let valueLoss = 0;
    let entropy = 0;
    for (let b = 0; b < n; b++) {
      const adv = mb.advantages[b]!;
      // loss = −mean(A·log π) + entCoef·(−mean H) + vfCoef·mean((V − R)²)
      pgLoss -= adv * mb.logProbs[b]!;
      mb.dLogProb[b] = -adv / n;
      const err = mb.values[b]! - buffer.returns[rows[b]!]!;
      valueLoss += err * err;
      mb.dValue[b] = (hp.vfCoef * 2 * err) / n;
      entropy += mb.entropies[b]!;
    }
    policy.backward(mb.actions, mb.masks, n, mb.dLogProb, -entCoef / n, mb.dValue);
    clipGradNorm(policy.gradients(), hp.maxGradNorm);
    optimizer.step(policy.parameters(), policy.gradients());

    run.reportUpdate({
      'losses/policy_loss': pgLoss / n,
      'losses/value_loss': valueLoss / n,
      'losses/entropy': entropy / n,
      'charts/learning_rate': optimizer.learningRate,
    }, () => run.finish('a2c', hp, optimizer));
  }

  return run.finish('a2c', hp, optimizer);
}
