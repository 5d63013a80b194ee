/**
 * Trains a PPO policy on recorded Kalshi sessions and registers it in the model registry, ready to paper
 * trade (with --deploy, deployed at once: running paper traders of that name hot-reload it).
 *
 * Reads the newest completed session(s) that examples/collector.ts recorded, from PostgreSQL when
 * DATABASE_URL is set, otherwise from PGlite in --data-dir, and trains with kflow's recommended Kalshi
 * setup (`KALSHI_PPO`: a decision every 2 s, taker orders of one contract, 4 envs).
 *
 * Run from the repository root:
 *   node --conditions=@kflow/source --import tsx examples/trainer.ts
 *   node --conditions=@kflow/source --import tsx examples/trainer.ts --sessions 3 --timesteps 100000 --name my-model --deploy
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { KALSHI_PPO, createCheckpoint, trainPpo, writeCheckpoint } from '@kflow/agents';
import { SyncVectorEnv, createKalshiEnv, createMarketPool } from '@kflow/env';
import { createModelRegistry, createSessionLoader, migrate, openPglite } from '@kflow/ingest';
import { connectPostgres } from '@kflow/ingest/pg';
import { systemClock } from '@kflow/orderbook';

const { values: args } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: './kflow-data' },
    sessions: { type: 'string', default: '1' },
    timesteps: { type: 'string', default: String(KALSHI_PPO.totalTimesteps) },
    seed: { type: 'string', default: '0' },
    name: { type: 'string', default: 'kflow-ppo' },
    out: { type: 'string' }, // checkpoint directory (default <data-dir>/models/<name>-<ms>)
    deploy: { type: 'boolean', default: false },
  },
});

const db = process.env.DATABASE_URL ? await connectPostgres({ url: process.env.DATABASE_URL }) : await openPglite({ dataDir: args['data-dir'] });
await migrate(db);

// Historical data only: the sessions are read into memory; the env never sees the database.
const loader = createSessionLoader({ db });
const recorded = (await loader.list()).filter((s) => s.status === 'completed').slice(0, Number(args.sessions));
if (recorded.length === 0) throw new Error('no completed session recorded yet: run examples/collector.ts first');
const pool = createMarketPool(await Promise.all(recorded.map((s) => loader.load(s.id))));

// The Kalshi env with the recommended setup, and PPO with its hyperparameters.
const makeEnv = () => createKalshiEnv({ sessions: pool, ...KALSHI_PPO.env });
const env = makeEnv();
const result = trainPpo({
  envs: new SyncVectorEnv(Array.from({ length: KALSHI_PPO.nEnvs }, () => makeEnv)),
  totalTimesteps: Number(args.timesteps),
  seed: Number(args.seed),
  featureSetVersion: env.metadata.featureSetVersion,
  ...KALSHI_PPO.ppo,
  policy: KALSHI_PPO.policy,
  clock: systemClock,
  onEvent: (e) => {
    if (e.kind === 'update') console.error(`${e.timesteps} steps  value loss ${e.metrics['losses/value_loss']?.toFixed(4)}  ${Math.round(e.metrics['charts/SPS'] ?? 0)} steps/s`);
  },
});

// The checkpoint records the trading setup, so the paper trader trades exactly as the env did.
const out = resolve(args.out ?? join(args['data-dir'], 'models', `${args.name}-${systemClock.now()}`));
await writeCheckpoint(out, createCheckpoint(result, { envId: 'kalshi', trading: env.setup, training: { sessions: recorded.map((s) => s.id) } }));

const registry = createModelRegistry({ db });
const model = await registry.register({
  name: args.name,
  architecture: `mlp ${result.policy.hiddenSizes.join('x')} ${result.policy.activation}`,
  checkpointPath: out,
  featureSetVersion: env.setup.featureSetVersion,
  hyperparameters: { ...result.hyperparameters },
  trainingConfig: { algorithm: result.algorithm, seed: result.seed, sessions: recorded.map((s) => s.id), kalshiEnv: KALSHI_PPO.env },
  status: 'ready',
});
if (args.deploy) await registry.deploy(model.name, model.version);
await db.close();

console.log(
  JSON.stringify({
    model: model.name,
    version: model.version,
    deployed: args.deploy,
    checkpoint: out,
    sessions: recorded.map((s) => s.id),
    timesteps: result.timesteps,
    episodes: result.episodes,
    meanEpisodicReturn: result.meanEpisodicReturn,
    seconds: result.seconds,
  }),
);
