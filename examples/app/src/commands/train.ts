import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CAC } from 'cac';
import { z } from 'zod';
import {
  type DiscreteVectorEnv,
  type KalshiEvaluation,
  type KalshiPpoPreset,
  type KalshiTrainingEnvOptions,
  type PpoHyperparameters,
  type TrainingEvent,
  type TrainResult,
  KALSHI_PPO,
  PPO_DEFAULTS,
  PPO_ZOO_CARTPOLE,
  createCheckpoint,
  evaluate,
  evaluateKalshi,
  type TrainingState,
  type UpdateThreads,
  createUpdateThreads,
  readCheckpoint,
  resumeState,
  trainA2c,
  trainPpo,
  writeCheckpoint,
} from '@kflow/agents';
import {
  type Box,
  type Discrete,
  type MarketPool,
  SyncVectorEnv,
  cartPoleWorkerEnv,
  createAsyncVectorEnv,
  createCartPole,
  createKalshiEnv,
  createMarketPool,
  kalshiWorkerEnv,
} from '@kflow/env';
import { systemClock } from '@kflow/orderbook';
import { type CaptureProblems, type DataSourceOptions, type LoadedData, loadData, reportProblems } from '../dataSources';
import { userPath, wholeNumber } from '../flags';
import { printJson } from '../output';
import { createMetricsLog, removeStaleFiles, writeRunningCheckpoint } from '../trainingFiles';
import { openStorage } from './collect';
import { registerCheckpoint } from './models';

/** Options of `kflow train` (as cac parses them; `quiet` is for in-process callers such as the learning check). */
export interface TrainOptions extends DataSourceOptions {
  env: string;
  algo: string;
  timesteps?: string;
  seed: string;
  nEnvs?: string;
  /** Worker threads stepping the envs (1: all in the main thread). */
  workers?: string;
  envWorkers?: string;
  /** PPO hyperparameters for CartPole: `default` (Stable-Baselines3's) or `zoo` (rl-baselines3-zoo's). */
  ppoPreset: string;
  /** A JSON file overriding parts of the Kalshi setup (`KALSHI_PPO`). */
  config?: string;
  cadenceMs?: string;
  positionLimit?: string;
  /** Held-out evaluation data: captures or recorded sessions. */
  evalData?: string | string[];
  evalSession?: string | string[];
  evalEpisodes?: string;
  out?: string;
  register?: string;
  /** Continue the run of this checkpoint directory (its parameters, optimizer state and counters). */
  resume?: string;
  /** With `out`: write a checkpoint to resume from every this many updates. */
  checkpointEvery?: string;
  /** Append every episode's and update's metrics to this .csv or .jsonl file. */
  metrics?: string;
  json?: boolean;
  /** Print nothing (no progress, no summary). */
  quiet?: boolean;
  /** Hears every training event (in-process callers such as a job report progress with it). */
  onEvent?: (event: TrainingEvent) => void;
}

/** An evaluation's figures (Kalshi: dollars per episode; CartPole: returns). */
export type EvalFigures =
  | { readonly episodes: number; readonly meanPnl: number; readonly stdPnl: number; readonly sharpe: number; readonly winRate: number; readonly meanTrades: number }
  | { readonly episodes: number; readonly meanReturn: number; readonly stdReturn: number };

/** What `kflow train` reports at the end (the last JSON line). */
export interface TrainSummary {
  readonly algo: string;
  readonly env: string;
  readonly timesteps: number;
  readonly seconds: number;
  readonly sps: number;
  /** Threads PPO's update was split over (1: the main thread alone). */
  readonly workers: number;
  /** Worker threads that stepped the envs (1: the main thread). */
  readonly envWorkers: number;
  /** On the training data itself: how well the policy fits what it saw, not how it generalizes. */
  readonly inSample: EvalFigures;
  /** On `--eval-data` / `--eval-session`: data the policy never saw. */
  readonly heldOut?: EvalFigures;
  /** Where the training data came from (`capture:<file>`, `session:<id>`). */
  readonly sources?: readonly string[];
  /** Malformed capture lines that were skipped (training and held-out data). */
  readonly skipped?: readonly CaptureProblems[];
  readonly registered?: string;
}

/** Deterministic evaluation episodes after training, and the seed offset that keeps them apart from training. */
export const EVAL_EPISODES = 20;
export const EVAL_SEED_OFFSET = 10_000;

/** The PPO hyperparameters that take a linear schedule (`PpoHyperparameters`). */
const SCHEDULED = new Set(['learningRate', 'clipRange', 'clipRangeVf', 'entCoef']);

/** The `--config` file: any part of the Kalshi setup, validated (unknown keys are refused). */
const ConfigFile = z
  .object({
    env: z.record(z.string(), z.unknown()).optional(),
    // A value, or a linear schedule for the hyperparameters that take one (learningRate, clipRange, entCoef …).
    ppo: z
      .record(
        z.string(),
        z.union([z.number(), z.boolean(), z.object({ kind: z.literal('linear'), start: z.number(), end: z.number().optional() }).strict()], {
          error: 'expected a number, true / false, or a linear schedule { "kind": "linear", "start": x, "end": y } (end optional, default 0)',
        }),
      )
      .optional(),
    policy: z.object({ hiddenSizes: z.array(z.number().int().min(1)).min(1).optional(), activation: z.enum(['tanh', 'relu']).optional() }).strict().optional(),
    nEnvs: z.number().int().min(1).optional(),
    totalTimesteps: z.number().int().min(1).optional(),
  })
  .strict();

/**
 * The Kalshi setup of a run: `KALSHI_PPO`, then the `--config` file, then the flags. Checked by building
 * an env with it (bad env options fail here, with the env's message).
 */
export async function kalshiConfig(o: TrainOptions): Promise<KalshiPpoPreset> {
  let preset: KalshiPpoPreset = KALSHI_PPO;
  if (o.config !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(userPath(o.config), 'utf8'));
    } catch (error) {
      throw new Error(`--config ${o.config}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const parsed = ConfigFile.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`--config ${o.config}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    }
    const c = parsed.data;
    for (const [key, value] of Object.entries(c.ppo ?? {})) {
      if (!(key in PPO_DEFAULTS)) throw new Error(`--config ${o.config}: ppo.${key} is not a PPO hyperparameter`);
      if (typeof value === 'object' && !SCHEDULED.has(key)) throw new Error(`--config ${o.config}: ppo.${key} takes a number, not a schedule (${[...SCHEDULED].join(', ')} take one)`);
    }
    preset = {
      env: { ...preset.env, ...(c.env as KalshiTrainingEnvOptions) },
      ppo: { ...preset.ppo, ...(c.ppo as Partial<PpoHyperparameters>) },
      policy: {
        ...preset.policy,
        ...(c.policy?.hiddenSizes === undefined ? {} : { hiddenSizes: c.policy.hiddenSizes }),
        ...(c.policy?.activation === undefined ? {} : { activation: c.policy.activation }),
      },
      nEnvs: c.nEnvs ?? preset.nEnvs,
      totalTimesteps: c.totalTimesteps ?? preset.totalTimesteps,
    };
  }
  const env: KalshiTrainingEnvOptions = {
    ...preset.env,
    ...(o.cadenceMs === undefined ? {} : { cadence: { everyMs: wholeNumber(o.cadenceMs, 'cadence-ms', 1) } }),
    ...(o.positionLimit === undefined ? {} : { positionLimitCenti: wholeNumber(o.positionLimit, 'position-limit', 1) * 100 }),
  };
  return {
    ...preset,
    env,
    ...(o.timesteps === undefined ? {} : { totalTimesteps: wholeNumber(o.timesteps, 'timesteps', 1) }),
    ...(o.nEnvs === undefined ? {} : { nEnvs: wholeNumber(o.nEnvs, 'n-envs', 1) }),
  };
}

/** A pool of the sessions' markets, or an error that says which check left nothing to train on. */
export function marketPool(data: LoadedData): MarketPool {
  try {
    return createMarketPool(data.sessions);
  } catch (error) {
    const markets = data.sessions.reduce((n, s) => n + s.markets.length, 0);
    const most = Math.max(0, ...data.sessions.flatMap((s) => s.markets.map((m) => m.length)));
    const why =
      markets === 0
        ? 'no market has an orderbook_snapshot (a market starts at its first snapshot)'
        : `${markets} market(s) have a snapshot, but the most events after it is ${most} (at least 2 are needed)`;
    throw new Error(`${data.sources.join(', ')}: no usable market: ${why}`, { cause: error });
  }
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
    .command('train [...captures]', 'Train PPO or A2C on CartPole-v1, or on Kalshi market data (captures or recorded sessions), then evaluate')
    .option('--data <captures>', 'Kalshi capture JSONL files (repeat or comma-separate)')
    .option('--session <ids>', 'Recorded sessions: ID[,ID...] | latest | latest:N | all (from --db / --data-dir)')
    .option('--db <url>', 'PostgreSQL connection string (default: PGlite in --data-dir)')
    .option('--data-dir <dir>', 'PGlite data directory (default kflow-data)')
    .option('--strict', 'Malformed capture lines are fatal (default: skipped and reported)')
    .option('--config <file>', 'JSON overriding parts of the Kalshi setup: { env, ppo, policy, nEnvs, totalTimesteps }')
    .option('--cadence-ms <ms>', 'Kalshi: decide every this many ms of exchange time (default 2000)')
    .option('--position-limit <contracts>', 'Kalshi: largest |position| (default 1)')
    .option('--eval-data <captures>', 'Held-out captures to evaluate on after training')
    .option('--eval-session <ids>', 'Held-out recorded sessions to evaluate on after training')
    .option('--eval-episodes <n>', 'Evaluation episodes', { default: String(EVAL_EPISODES) })
    .option('--env <id>', 'Environment id without market data', { default: 'CartPole-v1' })
    .option('--algo <algo>', 'ppo | a2c', { default: 'ppo' })
    .option('--timesteps <n>', 'Env steps to train for (default 300000 on Kalshi data, 100000 for ppo, 200000 for a2c)')
    .option('--seed <n>', 'Seed of the run', { default: '0' })
    .option('--n-envs <k>', 'Parallel envs (default 4 on Kalshi data, 1 for ppo, 8 for --ppo-preset zoo and for a2c)')
    .option('--workers <n>', "Threads PPO's update is split over, the main thread included", { default: '1' })
    .option('--env-workers <n>', 'Worker threads stepping the envs, at most --n-envs (1: the main thread steps them)', { default: '1' })
    .option('--ppo-preset <preset>', 'CartPole: default (SB3 defaults) | zoo (rl-baselines3-zoo settings)', { default: 'default' })
    .option('--out <dir>', 'Save a checkpoint (manifest.json + weights.bin) to this directory')
    .option('--register <name>', 'Register the saved checkpoint in the model registry under this name (needs --out)')
    .option('--resume <dir>', 'Continue the run of this checkpoint (parameters, optimizer state, step counts); --timesteps is the total, steps done included')
    .option('--checkpoint-every <updates>', 'With --out: write a checkpoint to resume from every this many updates (default: only at the end)')
    .option('--metrics <file>', 'Append every episode and update (CleanRL metric names) to this .csv or .jsonl file')
    .option('--json', 'Print progress as JSON lines; the last line is the summary')
    .action(async (positional: string[], o: TrainOptions) => {
      await runTrain(positional, o);
    });
}

/** The state of the run in checkpoint `dir`, checked against the run that continues it. */
async function resumeFrom(dir: string, algo: string, featureSetVersion: string, totalTimesteps: number): Promise<TrainingState> {
  if (!existsSync(join(dir, 'manifest.json'))) throw new Error(`--resume ${dir}: no checkpoint there (no manifest.json); pass the --out directory of the run to continue`);
  const checkpoint = await readCheckpoint(dir);
  const { manifest } = checkpoint;
  if (manifest.algorithm !== algo) throw new Error(`--resume ${dir} is a ${manifest.algorithm} run: resume it with --algo ${manifest.algorithm}`);
  if (manifest.featureSetVersion !== featureSetVersion) {
    throw new Error(`--resume ${dir} was trained on feature set ${manifest.featureSetVersion}, this run builds ${featureSetVersion}: resume it on the same kind of data`);
  }
  const state = resumeState(checkpoint);
  if (state.timesteps >= totalTimesteps) {
    throw new Error(`--resume ${dir} has already trained ${state.timesteps} steps: --timesteps is the run's total, pass more than that`);
  }
  return state;
}

/** Evaluation figures of a Kalshi env or CartPole, in the summary's shape. */
function figures(evaluation: KalshiEvaluation | { meanReturn: number; stdReturn: number }, episodes: number): EvalFigures {
  return 'meanPnl' in evaluation
    ? { episodes, meanPnl: evaluation.meanPnl, stdPnl: evaluation.stdPnl, sharpe: evaluation.sharpe, winRate: evaluation.winRate, meanTrades: evaluation.meanTrades }
    : { episodes, meanReturn: evaluation.meanReturn, stdReturn: evaluation.stdReturn };
}

function describe(f: EvalFigures): string {
  return 'meanPnl' in f
    ? `PnL $${f.meanPnl.toFixed(4)} ± ${f.stdPnl.toFixed(4)} per episode after fees (Sharpe ${f.sharpe.toFixed(3)}, win rate ${(100 * f.winRate).toFixed(0)}%)`
    : `return ${f.meanReturn.toFixed(1)} ± ${f.stdReturn.toFixed(1)}`;
}

/**
 * The body of `kflow train`: trains, evaluates in-sample (and held-out with `--eval-data` /
 * `--eval-session`), optionally writes and registers a checkpoint, and returns the summary it prints.
 * On Kalshi data it uses `KALSHI_PPO`, overridden by `--config` and the flags.
 *
 * @example
 * const summary = await runTrain([], { data: ['capture.jsonl'], env: 'CartPole-v1', algo: 'ppo', seed: '0', ppoPreset: 'default', quiet: true });
 */
export async function runTrain(positional: string[], o: TrainOptions): Promise<TrainSummary> {
  if (o.algo !== 'ppo' && o.algo !== 'a2c') throw new Error(`--algo must be ppo or a2c, got "${o.algo}"`);
  if (o.ppoPreset !== 'default' && o.ppoPreset !== 'zoo') throw new Error(`--ppo-preset must be default or zoo, got "${o.ppoPreset}"`);
  const seed = wholeNumber(o.seed, 'seed', 0);
  const evalEpisodes = wholeNumber(o.evalEpisodes ?? String(EVAL_EPISODES), 'eval-episodes', 1);
  const data = await loadData(o, positional);
  reportProblems(data?.problems ?? [], o.quiet === true);
  const kalshi = data !== undefined;
  if (!kalshi && o.env !== 'CartPole-v1') throw new Error(`--env must be CartPole-v1 (or pass market data: --data captures or --session ids), got "${o.env}"`);
  if (kalshi && o.ppoPreset === 'zoo') throw new Error('--ppo-preset zoo is the CartPole-v1 setting; the Kalshi setup is KALSHI_PPO (override it with --config)');
  if (kalshi && o.algo === 'a2c') throw new Error('the Kalshi setup is a PPO setup: use --algo ppo with market data');
  if (o.register !== undefined && !kalshi) throw new Error('--register needs a Kalshi model (market data): CartPole policies cannot paper trade');
  if (o.register !== undefined && o.out === undefined) throw new Error('--register needs --out DIR (the checkpoint the registry points at)');
  if (!kalshi && (o.evalData !== undefined || o.evalSession !== undefined)) throw new Error('--eval-data / --eval-session evaluate Kalshi models: pass training market data too');
  if (!kalshi && (o.config !== undefined || o.cadenceMs !== undefined || o.positionLimit !== undefined)) throw new Error('--config, --cadence-ms and --position-limit set up the Kalshi env: pass market data too');
  if (o.checkpointEvery !== undefined && o.out === undefined) throw new Error('--checkpoint-every needs --out DIR (where the checkpoints go)');
  const checkpointEvery = o.checkpointEvery === undefined ? undefined : wholeNumber(o.checkpointEvery, 'checkpoint-every', 1);
  const metricsLog = o.metrics === undefined ? undefined : createMetricsLog(userPath(o.metrics));

  const config = kalshi ? await kalshiConfig(o) : undefined;
  const pool = data === undefined ? undefined : marketPool(data);
  const heldOutData =
    o.evalData !== undefined || o.evalSession !== undefined
      ? await loadData({ ...(o.evalData === undefined ? {} : { data: o.evalData }), ...(o.evalSession === undefined ? {} : { session: o.evalSession }), ...(o.db === undefined ? {} : { db: o.db }), ...(o.dataDir === undefined ? {} : { dataDir: o.dataDir }), ...(o.strict === undefined ? {} : { strict: o.strict }) })
      : undefined;
  reportProblems(heldOutData?.problems ?? [], o.quiet === true);
  const skipped = [...(data?.problems ?? []), ...(heldOutData?.problems ?? [])];
  const heldOutPool = heldOutData === undefined ? undefined : marketPool(heldOutData);

  const defaultTimesteps = config?.totalTimesteps ?? (o.algo === 'ppo' ? 100_000 : 200_000);
  const totalTimesteps = config?.totalTimesteps ?? wholeNumber(o.timesteps ?? String(defaultTimesteps), 'timesteps', 1);
  const nEnvs = config?.nEnvs ?? wholeNumber(o.nEnvs ?? String(o.ppoPreset === 'zoo' || o.algo === 'a2c' ? 8 : 1), 'n-envs', 1);
  const workers = wholeNumber(o.workers ?? '1', 'workers', 1);
  const envWorkers = wholeNumber(o.envWorkers ?? '1', 'env-workers', 1);
  if (envWorkers > nEnvs) throw new Error(`--env-workers ${envWorkers} is more than the ${nEnvs} envs (each worker steps at least one): lower it or raise --n-envs`);
  if (workers > 1 && o.algo !== 'ppo') throw new Error("--workers splits PPO's update; A2C's update runs in the main thread (use --env-workers to step its envs in threads)");
  const makeKalshi = (p: MarketPool) => () => createKalshiEnv({ sessions: p, ...config!.env });
  // With env workers, each thread builds its envs (and its market pool) from the sessions, sent to it once.
  const envs: DiscreteVectorEnv =
    envWorkers > 1
      ? await createAsyncVectorEnv<Box, Discrete>({ env: data === undefined ? cartPoleWorkerEnv() : kalshiWorkerEnv({ sessions: data.sessions, ...config!.env }), numEnvs: nEnvs, workers: envWorkers })
      : pool === undefined
        ? new SyncVectorEnv(Array.from({ length: nEnvs }, () => () => createCartPole()))
        : new SyncVectorEnv(Array.from({ length: nEnvs }, () => makeKalshi(pool)));
  const trading = pool === undefined ? undefined : makeKalshi(pool)().setup;
  const featureSetVersion = trading?.featureSetVersion ?? 'none';
  let resume: TrainingState | undefined;
  try {
    resume = o.resume === undefined ? undefined : await resumeFrom(userPath(o.resume), o.algo, featureSetVersion, totalTimesteps);
  } catch (error) {
    envs.close();
    throw error;
  }

  const bar = o.quiet || o.json || !process.stderr.isTTY ? undefined : progressLine(totalTimesteps);
  let meanReturn = Number.NaN;
  const recent: number[] = [];
  let lastJsonMs = 0;
  const onEvent = (event: TrainingEvent) => {
    o.onEvent?.(event);
    metricsLog?.write(event);
    if (event.kind === 'episode') {
      recent.push(event.metrics['charts/episodic_return']!);
      if (recent.length > 100) recent.shift();
      meanReturn = recent.reduce((sum, r) => sum + r, 0) / recent.length;
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

  const checkpointOf = (run: TrainResult<object>) => createCheckpoint(run, { envId: kalshi ? 'kalshi' : o.env, training: trainingRecord(), ...(trading === undefined ? {} : { trading }) });
  const trainingRecord = (): Record<string, unknown> => ({
    ppoPreset: o.ppoPreset,
    nEnvs,
    workers,
    envWorkers,
    ...(o.resume === undefined ? {} : { resumedFrom: userPath(o.resume) }),
    ...(config === undefined ? {} : { sources: data!.sources, kalshiConfig: config }),
  });
  const common = {
    envs,
    totalTimesteps,
    seed,
    clock: systemClock,
    onEvent,
    featureSetVersion,
    ...(resume === undefined ? {} : { resume }),
    ...(checkpointEvery === undefined ? {} : { checkpointEvery, onCheckpoint: (run: TrainResult<object>) => writeRunningCheckpoint(userPath(o.out!), checkpointOf(run)) }),
  };
  const ppoSettings = config !== undefined ? { ...config.ppo, policy: config.policy } : o.ppoPreset === 'zoo' ? PPO_ZOO_CARTPOLE : {};
  let result: TrainResult<object>;
  let updateThreads: UpdateThreads | undefined;
  try {
    updateThreads = workers > 1 ? await createUpdateThreads({ threads: workers }) : undefined;
    result = o.algo === 'ppo' ? trainPpo({ ...common, ...ppoSettings, ...(updateThreads === undefined ? {} : { updateThreads }) }) : trainA2c(common);
  } finally {
    envs.close();
    await updateThreads?.close();
    metricsLog?.flush();
  }
  bar?.done();

  const evalSeed = seed + EVAL_SEED_OFFSET;
  const inSample = figures(
    pool === undefined ? evaluate(result.policy, createCartPole(), evalEpisodes, { seed: evalSeed }) : evaluateKalshi(result.policy, makeKalshi(pool)(), evalEpisodes, { seed: evalSeed }),
    evalEpisodes,
  );
  const heldOut = heldOutPool === undefined ? undefined : figures(evaluateKalshi(result.policy, makeKalshi(heldOutPool)(), evalEpisodes, { seed: evalSeed }), evalEpisodes);

  if (o.out !== undefined) {
    const checkpoint = checkpointOf(result);
    const withEvaluation = { ...checkpoint, manifest: { ...checkpoint.manifest, training: { ...checkpoint.manifest.training, inSample, ...(heldOut === undefined ? {} : { heldOut }) } } };
    await writeCheckpoint(userPath(o.out), withEvaluation);
    removeStaleFiles(userPath(o.out), withEvaluation);
  }
  let registered: { name: string; version: number } | undefined;
  if (o.register !== undefined && o.out !== undefined) {
    const storage = await openStorage({ ...(o.db === undefined ? {} : { db: o.db }), ...(o.dataDir === undefined ? {} : { dataDir: o.dataDir }) });
    try {
      const { model } = await registerCheckpoint(storage.db, userPath(o.out), o.register, { performance: { inSample, ...(heldOut === undefined ? {} : { heldOut }) } });
      registered = { name: model.name, version: model.version };
    } finally {
      await storage.db.close();
    }
  }
  const summary: TrainSummary = {
    algo: o.algo,
    env: kalshi ? 'kalshi' : o.env,
    timesteps: result.timesteps,
    seconds: Math.round(result.seconds * 1000) / 1000,
    sps: Math.round(result.timesteps / result.seconds),
    workers,
    envWorkers,
    inSample,
    ...(heldOut === undefined ? {} : { heldOut }),
    ...(data === undefined ? {} : { sources: data.sources }),
    ...(skipped.length === 0 ? {} : { skipped }),
    ...(registered === undefined ? {} : { registered: `${registered.name} v${registered.version}` }),
  };
  if (o.quiet) return summary;
  if (o.json) printJson(summary);
  else {
    const threads = [workers === 1 ? '' : `, update in ${workers} threads`, envWorkers === 1 ? '' : `, envs in ${envWorkers} worker threads`].join('');
    console.log(`${o.algo} on ${summary.env}: ${summary.timesteps} steps in ${summary.seconds.toFixed(1)} s (${summary.sps} steps/s${threads})`);
    console.log(`in-sample (${inSample.episodes} episodes of the training data): ${describe(inSample)}`);
    if (heldOut !== undefined) console.log(`held-out (${heldOut.episodes} episodes of data it never saw): ${describe(heldOut)}`);
    else if (kalshi) console.log('held-out: not measured (pass --eval-data or --eval-session with data the model never saw)');
    if (o.out !== undefined) console.log(`checkpoint written to ${userPath(o.out)}`);
    if (registered !== undefined) {
      const where = o.db !== undefined ? ' --db URL' : o.dataDir !== undefined ? ` --data-dir ${o.dataDir}` : '';
      console.log(`registered ${registered.name} v${registered.version} (ready; deploy it with: kflow models deploy ${registered.name} ${registered.version}${where})`);
    }
  }
  return summary;
}
