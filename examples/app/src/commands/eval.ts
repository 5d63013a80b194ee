import type { CAC } from 'cac';
import {
  type KalshiEvaluation,
  type Policy,
  createHoldPolicy,
  createKalshiHeuristicPolicy,
  createRandomPolicy,
  evaluate,
  evaluateKalshi,
  loadPolicy,
  readCheckpoint,
  KALSHI_PPO,
} from '@kflow/agents';
import { createCartPole, createKalshiEnv, envOptionsFromSetup } from '@kflow/env';
import { type TradingSetupOptions, parseTradingSetup } from '@kflow/paper';
import { createRng } from '@kflow/orderbook';
import { userPath, wholeNumber } from '../flags';
import { printJson } from '../output';
import { type DataSourceOptions, loadData, reportProblems } from '../dataSources';
import { marketPool } from './train';

/** Options of `kflow eval` (as cac parses them; `quiet` is for in-process callers such as the learning check). */
export interface EvalOptions extends DataSourceOptions {
  model?: string;
  policy?: string;
  env: string;
  episodes: string;
  seed: string;
  json?: boolean;
  /** Print nothing. */
  quiet?: boolean;
}

/** What `kflow eval --data` reports (dollars): `evaluateKalshi`'s figures under the policy's name. */
export type KalshiEvalSummary = { readonly policy: string } & Omit<KalshiEvaluation, 'pnls' | 'tickers'>;

/** The reported summary of one evaluation, keys in the documented order. */
export function toEvalSummary(policy: string, r: KalshiEvaluation): KalshiEvalSummary {
  return {
    policy,
    episodes: r.episodes,
    meanPnl: r.meanPnl,
    stdPnl: r.stdPnl,
    sharpe: r.sharpe,
    meanTrades: r.meanTrades,
    winRate: r.winRate,
    feesPaid: r.feesPaid,
  };
}

/** `runEval`'s result with `--data`: the summary plus each episode's PnL (dollars) and market. */
export interface KalshiEvalRun {
  readonly summary: KalshiEvalSummary;
  readonly pnls: readonly number[];
  readonly tickers: readonly string[];
}

/** The env options of a checkpoint's recorded trading setup (undefined for checkpoints without one). */
async function tradingOptionsOf(dir: string): Promise<TradingSetupOptions | undefined> {
  const trading = (await readCheckpoint(userPath(dir))).manifest.trading;
  return trading === undefined ? undefined : envOptionsFromSetup(parseTradingSetup(trading));
}

/** Restores a checkpoint, checked against the env it will run in. */
async function modelPolicy(dir: string, env: { observationSize: number; actionCount: number; featureSetVersion: string }): Promise<Policy> {
  return loadPolicy(await readCheckpoint(userPath(dir)), {
    featureSetVersion: env.featureSetVersion,
    observationSize: env.observationSize,
    action: { kind: 'discrete', n: env.actionCount },
  });
}

export function registerEval(cli: CAC): void {
  cli
    .command('eval [...captures]', 'Evaluate a checkpoint or a baseline policy on CartPole-v1, or on Kalshi market data (captures or recorded sessions)')
    .option('--model <dir>', 'Checkpoint directory written by `kflow train --out`')
    .option('--policy <name>', 'Baseline instead of a checkpoint: random | hold | heuristic (hold and heuristic: Kalshi only)')
    .option('--data <captures>', 'Kalshi capture JSONL files (repeat or comma-separate)')
    .option('--session <ids>', 'Recorded sessions: ID[,ID...] | latest | latest:N | all (from --db / --data-dir)')
    .option('--db <url>', 'PostgreSQL connection string (default: PGlite in --data-dir)')
    .option('--data-dir <dir>', 'PGlite data directory (default kflow-data)')
    .option('--strict', 'Malformed capture lines are fatal (default: skipped and reported)')
    .option('--env <id>', 'Environment id without --data', { default: 'CartPole-v1' })
    .option('--episodes <n>', 'Episodes', { default: '20' })
    .option('--seed <n>', 'Seed of the first episode (episode i uses seed + i)', { default: '0' })
    .option('--json', 'Print one JSON object')
    .action(async (positional: string[], o: EvalOptions) => {
      await runEval(positional, o);
    });
}

/**
 * The body of `kflow eval`. With `--data` it returns the Kalshi summary (episodes run in an env built with
 * {@link KALSHI_PPO}'s env options, as `kflow train --data` trains in), otherwise undefined.
 *
 * @example
 * const r = await runEval([], { policy: 'hold', data: ['held-out.jsonl'], env: 'CartPole-v1', episodes: '100', seed: '0', quiet: true });
 */
export async function runEval(positional: string[], o: EvalOptions): Promise<KalshiEvalRun | undefined> {
  if ((o.model === undefined) === (o.policy === undefined)) throw new Error('give exactly one of --model or --policy');
  const episodes = wholeNumber(o.episodes, 'episodes', 1);
  const seed = wholeNumber(o.seed, 'seed', 0);
  const name = o.model ?? o.policy!;
  const data = await loadData(o, positional);
  reportProblems(data?.problems ?? [], o.quiet === true);

  if (data !== undefined) {
    // The setup the model was trained with (its checkpoint says), else the recommended one.
    const setup = o.model === undefined ? KALSHI_PPO.env : (await tradingOptionsOf(o.model)) ?? KALSHI_PPO.env;
    const env = createKalshiEnv({ sessions: marketPool(data), ...setup, episodeSteps: KALSHI_PPO.env.episodeSteps ?? 300 });
    const meta = env.metadata;
    let policy: Policy;
    if (o.model !== undefined) policy = await modelPolicy(o.model, meta);
    else if (o.policy === 'random') policy = createRandomPolicy({ ...meta, rng: createRng(seed) });
    else if (o.policy === 'hold') policy = createHoldPolicy(meta);
    else if (o.policy === 'heuristic') policy = createKalshiHeuristicPolicy(meta);
    else throw new Error(`--policy must be random, hold or heuristic, got "${o.policy}"`);
    const r = evaluateKalshi(policy, env, episodes, { seed });
    const summary = toEvalSummary(name, r);
    if (o.quiet) return { summary, pnls: r.pnls, tickers: r.tickers };
    if (o.json) printJson({ ...summary, ...(data.problems.length === 0 ? {} : { skipped: data.problems }) });
    else {
      console.log(
        `${name} on ${data.sources.join(', ')}, ${episodes} episodes: PnL $${r.meanPnl.toFixed(4)} ± ${r.stdPnl.toFixed(4)} ` +
          `(Sharpe ${r.sharpe.toFixed(3)}), ${r.meanTrades.toFixed(1)} trades/episode, win rate ${(100 * r.winRate).toFixed(0)}%, ` +
          `fees $${r.feesPaid.toFixed(4)}`,
      );
    }
    return { summary, pnls: r.pnls, tickers: r.tickers };
  }

  if (o.env !== 'CartPole-v1') throw new Error(`--env must be CartPole-v1 (or pass --data captures), got "${o.env}"`);
  const env = createCartPole();
  const meta = { observationSize: env.observationSpace.size, actionCount: env.actionSpace.n, featureSetVersion: 'none' };
  let policy: Policy;
  if (o.model !== undefined) policy = await modelPolicy(o.model, meta);
  else if (o.policy === 'random') policy = createRandomPolicy({ ...meta, rng: createRng(seed) });
  else throw new Error(`--policy must be random for CartPole-v1, got "${o.policy}"`);
  const r = evaluate(policy, env, episodes, { seed });
  if (o.quiet) return undefined;
  if (o.json) printJson({ policy: name, env: o.env, episodes, meanReturn: r.meanReturn, stdReturn: r.stdReturn });
  else console.log(`${name} on ${o.env}: ${r.meanReturn.toFixed(1)} ± ${r.stdReturn.toFixed(1)} over ${episodes} episodes`);
  return undefined;
}
