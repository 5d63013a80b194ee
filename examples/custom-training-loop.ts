/**
 * PPO written out as a loop over @kflow/agents' pieces, to read and change like CleanRL's ppo.py:
 * collect a rollout and its GAE advantages (`RolloutCollector`), then epochs of shuffled minibatches, each
 * one `ppoLoss` (clipped surrogate + value loss − entropy bonus, backpropagated), `clipGradNorm` and an Adam
 * step. Writes one CSV row per update (header: global_step and CleanRL's metric names) and prints the
 * final mean episodic return.
 *
 * CartPole-v1 by default (CleanRL's ppo.py hyperparameters, learning rate 1e-3); --env kalshi trains on
 * the newest session examples/collector.ts recorded (PostgreSQL when DATABASE_URL is set, otherwise PGlite
 * in --data-dir) with the recommended Kalshi setup `KALSHI_PPO`.
 *
 * Run from the repository root:
 *   node --conditions=@kflow/source --import tsx examples/custom-training-loop.ts
 *   node --conditions=@kflow/source --import tsx examples/custom-training-loop.ts --total-timesteps 30000 --csv runs/cartpole.csv
 *   node --conditions=@kflow/source --import tsx examples/custom-training-loop.ts --env kalshi --data-dir ./kflow-data
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ActorCritic,
  KALSHI_PPO,
  PPO_DEFAULTS,
  type PpoLossMetrics,
  RolloutCollector,
  TRAINING_METRIC_NAMES,
  type TrainingMetrics,
  clipGradNorm,
  createAdam,
  createMinibatch,
  explainedVariance,
  ppoLoss,
  scheduleValue,
} from '@kflow/agents';
import { type Box, type Discrete, SyncVectorEnv, type VectorEnv, createCartPole, createKalshiEnv, createMarketPool } from '@kflow/env';
import { createSessionLoader, openPglite } from '@kflow/ingest';
import { connectPostgres } from '@kflow/ingest/pg';
import { createRng } from '@kflow/orderbook';

const { values: args } = parseArgs({
  options: {
    env: { type: 'string', default: 'cartpole' }, // cartpole | kalshi
    'total-timesteps': { type: 'string', default: '100000' },
    seed: { type: 'string', default: '1' },
    csv: { type: 'string', default: 'runs/ppo.csv' },
    'data-dir': { type: 'string', default: './kflow-data' },
  },
});
const seed = Number(args.seed);
const totalTimesteps = Number(args['total-timesteps']);

// ── Hyperparameters (SB3 names): CleanRL's ppo.py with a learning rate of 1e-3 on CartPole, which
// learns it in about 20k steps; the recommended setup on the Kalshi env. ──────────────────────────────
const kalshi = args.env === 'kalshi';
const hp = kalshi
  ? { ...PPO_DEFAULTS, ...KALSHI_PPO.ppo, numEnvs: KALSHI_PPO.nEnvs }
  : { ...PPO_DEFAULTS, numEnvs: 4, nSteps: 128, batchSize: 128, nEpochs: 4, learningRate: { kind: 'linear', start: 1e-3 } as const, entCoef: 0.01 };

// ── Environments ─────────────────────────────────────────────────────────────────────────────────────
let envs: VectorEnv<Box, Discrete>;
if (kalshi) {
  const db = process.env.DATABASE_URL ? await connectPostgres({ url: process.env.DATABASE_URL }) : await openPglite({ dataDir: args['data-dir'] });
  const loader = createSessionLoader({ db });
  const newest = (await loader.list()).find((s) => s.status === 'completed');
  if (newest === undefined) throw new Error(`no completed session in ${args['data-dir']}: run examples/collector.ts first`);
  const pool = createMarketPool([await loader.load(newest.id)]);
  await db.close();
  envs = new SyncVectorEnv(Array.from({ length: hp.numEnvs }, () => () => createKalshiEnv({ sessions: pool, ...KALSHI_PPO.env })));
} else {
  envs = new SyncVectorEnv(Array.from({ length: hp.numEnvs }, () => () => createCartPole()));
}

// ── Agent, optimizer, rollout storage ───────────────────────────────────────────────────────────────
const rng = createRng(seed);
const agent = new ActorCritic({ observationSize: envs.observationSize, nvec: [envs.singleActionSpace.n], maxBatch: hp.batchSize });
agent.init(rng.fork());
const optimizer = createAdam({ sizes: agent.parameters().map((p) => p.length), learningRate: 0 });
const finished: { episodicReturn: number; length: number }[] = [];
const collector = new RolloutCollector({
  envs,
  policy: agent,
  nSteps: hp.nSteps,
  gamma: hp.gamma,
  gaeLambda: hp.gaeLambda,
  seed,
  rng: rng.fork(),
  onEpisode: (episodicReturn, length) => finished.push({ episodicReturn, length }),
});
const { buffer } = collector;
const indices = new Int32Array(buffer.size);
const minibatch = createMinibatch(buffer, hp.batchSize);
const shuffleRng = rng.fork();

// CleanRL's metric names (typed): this loop reports all but the two that only kflow's trainer fills in.
const columns = TRAINING_METRIC_NAMES.filter((name) => name !== 'charts/clip_range' && name !== 'charts/gradient_steps');
mkdirSync(dirname(args.csv), { recursive: true });
writeFileSync(args.csv, `global_step,${columns.join(',')}\n`);

// ── Training loop ────────────────────────────────────────────────────────────────────────────────────
const numUpdates = Math.ceil(totalTimesteps / buffer.size);
const mean = (xs: readonly number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((s, x) => s + x, 0) / xs.length);
const startTime = performance.now();
for (let update = 1; update <= numUpdates; update++) {
  // Schedules (a linear one anneals to 0 over the run).
  const progressRemaining = 1 - (update - 1) / numUpdates;
  optimizer.learningRate = scheduleValue(hp.learningRate, progressRemaining);
  const clipRange = scheduleValue(hp.clipRange, progressRemaining);
  const entCoef = scheduleValue(hp.entCoef, progressRemaining);

  // Rollout: nSteps × numEnvs transitions, then GAE advantages and returns (autoresets skipped).
  const episodesBefore = finished.length;
  collector.collect();

  // Optimise the policy and value network.
  let loss!: PpoLossMetrics;
  let clipfracs = 0;
  let minibatches = 0;
  for (let epoch = 0; epoch < hp.nEpochs; epoch++) {
    const count = buffer.shuffledValidIndices(shuffleRng, indices);
    for (let start = 0; start < count; start += hp.batchSize) {
      const rows = indices.subarray(start, Math.min(start + hp.batchSize, count));
      // The clipped surrogate + value loss − entropy bonus, and its gradient (PyTorch's loss.backward()).
      loss = ppoLoss({ policy: agent, buffer, rows, minibatch, clipRange, entCoef, vfCoef: hp.vfCoef });
      clipGradNorm(agent.gradients(), hp.maxGradNorm);
      optimizer.step(agent.parameters(), agent.gradients());
      clipfracs += loss.clipFraction;
      minibatches++;
    }
  }

  // Record: the last minibatch's losses, as CleanRL does, and this rollout's episodes.
  const episodes = finished.slice(episodesBefore);
  const metrics: TrainingMetrics = {
    'charts/episodic_return': mean(episodes.map((e) => e.episodicReturn)),
    'charts/episodic_length': mean(episodes.map((e) => e.length)),
    'charts/SPS': Math.round(collector.timesteps / ((performance.now() - startTime) / 1000)),
    'charts/learning_rate': optimizer.learningRate,
    'losses/value_loss': loss.valueLoss,
    'losses/policy_loss': loss.policyLoss,
    'losses/entropy': loss.entropy,
    'losses/old_approx_kl': loss.oldApproxKl,
    'losses/approx_kl': loss.approxKl,
    'losses/clipfrac': clipfracs / minibatches,
    'losses/explained_variance': explainedVariance(buffer.values, buffer.returns, buffer.valid),
  };
  appendFileSync(args.csv, `${collector.timesteps},${columns.map((c) => (Number.isFinite(metrics[c]) ? metrics[c] : '')).join(',')}\n`);
}
envs.close();

const last = finished.slice(-20).map((e) => e.episodicReturn);
console.log(`mean return of the last ${last.length} episodes: ${mean(last).toFixed(1)} after ${collector.timesteps} steps (metrics in ${args.csv})`);
