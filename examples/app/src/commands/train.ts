import { basename } from 'node:path';
import type { CAC } from 'cac';
import {
  type DiscreteVectorEnv,
  type TrainingEvent,
  type TrainResult,
  PPO_ZOO_CARTPOLE,
  createCheckpoint,
  evaluate,
  evaluateKalshi,
  trainA2c,
  trainPpo,
  writeCheckpoint,
} from '@kflow/agents';
import { type MarketPool, SyncVectorEnv, createCartPole, createKalshiEnv, createMarketPool } from '@kflow/env';
import { systemClock } from '@kflow/orderbook';
import { loadCaptureSession } from '../captures';
import { KALSHI_DEMO_TRAINING } from '../kalshiTraining';
import { printJson } from '../output';
import { openStorage } from './collect';
import { registerCheckpoint } from './models';

/** Options of `kflow train` (as cac parses them; `quiet` is for in-process callers such as the learning check). */
export interface TrainOptions {
  data?: string | string[];
  env: string;
  algo: string;
  timesteps?: string;
  seed: string;
  nEnvs?: string;
  preset: string;
  out?: string;
  register?: string;
  db?: string;
  dataDir?: string;
  json?: boolean;
  /** Print nothing (no progress, no summary). */
  quiet?: boolean;
}

/** What `kflow train` reports at the end (the last JSON line). */
export interface TrainSummary {
  readonly algo: string;
  readonly env: string;
  readonly timesteps: number;
  readonly seconds: number;
  readonly sps: number;
  readonly evalEpisodes: number;
  readonly [metric: string]: number | string;
}

/** Deterministic evaluation episodes after training, and the seed offset that keeps them apart from training. */
export const EVAL_EPISODES = 20;
export const EVAL_SEED_OFFSET = 10_000;

/** Capture paths from `--data` (repeatable, comma-separated) plus positional arguments. */
export function capturePaths(data: string | string[] | undefined, positional: readonly string[]): string[] {
  const fromOption = data === undefined ? [] : (Array.isArray(data) ? data : [data]).flatMap((d) => String(d).split(','));
  return [...fromOption, ...positional].filter((p) => p.length > 0);
}

/** Builds the Kalshi env's market pool from JSONL captures. */
export async function loadCapturePool(paths: readonly string[]): Promise<MarketPool> {
  return createMarketPool(await Promise.all(paths.map(loadCaptureSession)));
}

function integer(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${value}"`);
  return n;
}

/** A one-line progress bar redrawn in place on a TTY. */
export function progressLine(total: number) {
  let last = 0;
  return {
    update(timesteps: number, meanReturn: number, sps: number | undefined) {
      const now = systemClock.now();
      if (now - last < 100 && timesteps < total) return;
      last = now;
      const frac = Math.min(1, timesteps / total);
      const bar = '█'.repeat(Math.round(frac * 30)).padEnd(30, '░');
      const ret = Number.isNaN(meanReturn) ? '   -  ' : meanReturn.toFixed(1).padStart(6);
      const speed = sps === undefined ? '' : `  ${Math.round(sps)} steps/s`;
      process.stderr.write(`\r${bar} ${timesteps}/${total}  return ${ret}${speed}   `);
    },
    done() {
      process.stderr.write('\n');
    },
  };
}

export function registerTrain(cli: CAC): void {
  cli
    .command('train [...captures]', 'Train PPO or A2C on CartPole-v1 or (with --data) the Kalshi env, then evaluate')
    .option('--data <captures>', 'Kalshi capture JSONL files (repeat or comma-separate): train on the Kalshi env')
    .option('--env <id>', 'Environment id (CartPole-v1; ignored with --data)', { default: 'CartPole-v1' })
    .option('--algo <algo>', 'ppo | a2c', { default: 'ppo' })
    .option('--timesteps <n>', 'Env steps to train for (default 100000 for ppo, 300000 for ppo with --data, 200000 for a2c)')
    .option('--seed <n>', 'Seed of the run', { default: '0' })
    .option('--n-envs <k>', 'Parallel envs (default 1 for ppo, 4 for ppo with --data, 8 for --preset zoo and for a2c)')
    .option('--preset <preset>', 'default (SB3 defaults) | zoo (rl-baselines3-zoo CartPole settings)', { default: 'default' })
    .option('--out <dir>', 'Save a checkpoint (manifest.json + weights.bin) to this directory')
    .option('--register <name>', 'Register the saved checkpoint in the model registry under this name (needs --out)')
    .option('--db <url>', '--register: PostgreSQL connection string (default: PGlite in --data-dir)')
    .option('--data-dir <dir>', '--register: PGlite data directory (default kflow-data)')
    .option('--json', 'Print progress as JSON lines; the last line is the summary')
    .action(async (positional: string[], o: TrainOptions) => {
      await runTrain(positional, o);
    });
}

/**
 * The body of `kflow train`: trains, evaluates on the training data, optionally writes a checkpoint, and
 * returns the summary it prints. With `--data` it uses {@link KALSHI_DEMO_TRAINING}.
 *
 * @example
 * const summary = await runTrain([], { data: ['capture.jsonl'], env: 'CartPole-v1', algo: 'ppo', seed: '0', preset: 'default', quiet: true });
 */
export async function runTrain(positional: string[], o: TrainOptions): Promise<TrainSummary> {
  const captures = capturePaths(o.data, positional);
  const kalshi = captures.length > 0;
  if (!kalshi && o.env !== 'CartPole-v1') throw new Error(`--env must be CartPole-v1 (or pass --data captures), got "${o.env}"`);
  if (kalshi && o.preset === 'zoo') throw new Error('--preset zoo is the CartPole-v1 setting; use the default preset with --data');
  if (o.algo !== 'ppo' && o.algo !== 'a2c') throw new Error(`--algo must be ppo or a2c, got "${o.algo}"`);
  if (o.preset !== 'default' && o.preset !== 'zoo') throw new Error(`--preset must be default or zoo, got "${o.preset}"`);
  const seed = integer(o.seed, 'seed');
  // With --data, PPO defaults to the measured Kalshi setup (KALSHI_DEMO_TRAINING).
  const kalshiPpo = kalshi && o.algo === 'ppo';
  const defaultTimesteps = kalshiPpo ? KALSHI_DEMO_TRAINING.totalTimesteps : o.algo === 'ppo' ? 100_000 : 200_000;
  const totalTimesteps = integer(o.timesteps ?? String(defaultTimesteps), 'timesteps');
  const defaultEnvs = kalshiPpo ? KALSHI_DEMO_TRAINING.nEnvs : o.preset === 'zoo' || o.algo === 'a2c' ? 8 : 1;
  const nEnvs = integer(o.nEnvs ?? String(defaultEnvs), 'n-envs');
  if (nEnvs === 0) throw new Error('--n-envs must be at least 1');
  const pool = kalshi ? await loadCapturePool(captures) : undefined;
  const envId = pool === undefined ? o.env : 'kalshi';
  const envs: DiscreteVectorEnv =
    pool === undefined
      ? new SyncVectorEnv(Array.from({ length: nEnvs }, () => () => createCartPole()))
      : new SyncVectorEnv(Array.from({ length: nEnvs }, () => () => createKalshiEnv({ sessions: pool, ...KALSHI_DEMO_TRAINING.env })));
  const trading = pool === undefined ? undefined : createKalshiEnv({ sessions: pool, ...KALSHI_DEMO_TRAINING.env }).setup;
  const featureSetVersion = trading?.featureSetVersion ?? 'none';
  if (o.register !== undefined && trading === undefined) throw new Error('--register needs a Kalshi model (train with --data): CartPole policies cannot paper trade');
  if (o.register !== undefined && o.out === undefined) throw new Error('--register needs --out DIR (the checkpoint the registry points at)');

  const bar = o.quiet || o.json || !process.stderr.isTTY ? undefined : progressLine(totalTimesteps);
  let meanReturn = Number.NaN;
  const recent: number[] = [];
  let lastJsonMs = 0;
  const onEvent = (event: TrainingEvent) => {
    if (event.kind === 'episode') {
      recent.push(event.metrics['charts/episodic_return']!);
      if (recent.length > 100) recent.shift();
      meanReturn = recent.reduce((s, r) => s + r, 0) / recent.length;
      return;
    }
    bar?.update(event.timesteps, meanReturn, event.metrics['charts/SPS']);
    // A2C updates every few steps: JSON progress lines are throttled to ~4 per second.
    const now = systemClock.now();
    if (o.json && !o.quiet && (now - lastJsonMs >= 250 || event.timesteps >= totalTimesteps)) {
      lastJsonMs = now;
      printJson({ timesteps: event.timesteps, episodes: event.episodes, 'charts/mean_episodic_return': meanReturn, ...event.metrics });
    }
  };

  const common = { envs, totalTimesteps, seed, clock: systemClock, onEvent, featureSetVersion };
  const ppoPreset = o.preset === 'zoo' ? PPO_ZOO_CARTPOLE : kalshi ? { ...KALSHI_DEMO_TRAINING.ppo, policy: KALSHI_DEMO_TRAINING.policy } : {};
  const result: TrainResult<object> = o.algo === 'ppo' ? trainPpo({ ...common, ...ppoPreset }) : trainA2c(common);
  bar?.done();
  envs.close();

  const evalSeed = seed + EVAL_SEED_OFFSET;
  const evaluation =
    pool === undefined
      ? evaluate(result.policy, createCartPole(), EVAL_EPISODES, { seed: evalSeed })
      : evaluateKalshi(result.policy, createKalshiEnv({ sessions: pool, ...KALSHI_DEMO_TRAINING.env }), EVAL_EPISODES, { seed: evalSeed });
  const evalFields =
    'meanReturn' in evaluation
      ? { evalMeanReturn: evaluation.meanReturn, evalStdReturn: evaluation.stdReturn }
      : { evalMeanPnl: evaluation.meanPnl, evalStdPnl: evaluation.stdPnl, evalSharpe: evaluation.sharpe };
  if (o.out !== undefined) {
    const training = { preset: o.preset, nEnvs, ...evalFields, ...(kalshi ? { captures: captures.map((c) => basename(c)), kalshiEnv: KALSHI_DEMO_TRAINING.env } : {}) };
    await writeCheckpoint(o.out, createCheckpoint(result, { envId, training, ...(trading === undefined ? {} : { trading }) }));
  }
  let registered: { name: string; version: number } | undefined;
  if (o.register !== undefined && o.out !== undefined) {
    const storage = await openStorage({ ...(o.db === undefined ? {} : { db: o.db }), ...(o.dataDir === undefined ? {} : { dataDir: o.dataDir }) });
    try {
      const { model } = await registerCheckpoint(storage.db, o.out, o.register, { performance: { inSample: evalFields } });
      registered = { name: model.name, version: model.version };
    } finally {
      await storage.db.close();
    }
  }
  const summary: TrainSummary = {
    algo: o.algo,
    env: envId,
    timesteps: result.timesteps,
    seconds: Math.round(result.seconds * 1000) / 1000,
    sps: Math.round(result.timesteps / result.seconds),
    ...evalFields,
    evalEpisodes: EVAL_EPISODES,
    ...(registered === undefined ? {} : { registered: `${registered.name} v${registered.version}` }),
  };
  if (o.quiet) return summary;
  if (o.json) printJson(summary);
  else {
    const score =
      'meanReturn' in evaluation
        ? `return ${evaluation.meanReturn.toFixed(1)} ± ${evaluation.stdReturn.toFixed(1)}`
        : `PnL $${evaluation.meanPnl.toFixed(4)} ± ${evaluation.stdPnl.toFixed(4)} (Sharpe ${evaluation.sharpe.toFixed(3)})`;
    console.log(
      `${o.algo} on ${envId}: ${summary.timesteps} steps in ${summary.seconds.toFixed(1)} s (${summary.sps} steps/s); ` +
        `eval ${score} over ${EVAL_EPISODES} episodes`,
    );
    if (o.out !== undefined) console.log(`checkpoint written to ${o.out}`);
    if (registered !== undefined) console.log(`registered ${registered.name} v${registered.version} (ready; deploy it with: kflow models deploy ${registered.name} ${registered.version})`);
  }
  return summary;
}
