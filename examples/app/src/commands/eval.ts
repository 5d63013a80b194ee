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
} from '@kflow/agents';
import { createCartPole, createKalshiEnv } from '@kflow/env';
import { createRng } from '@kflow/orderbook';
import { KALSHI_DEMO_TRAINING } from '../kalshiTraining';
import { printJson } from '../output';
import { capturePaths, loadCapturePool } from './train';

/** Options of `kflow eval` (as cac parses them; `quiet` is for in-process callers such as the learning check). */
export interface EvalOptions {
  model?: string;
  policy?: string;
  data?: string | string[];
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

/** Restores a checkpoint, checked against the env it will run in. */
async function modelPolicy(dir: string, env: { observationSize: number; actionCount: number; featureSetVersion: string }): Promise<Policy> {
  return loadPolicy(await readCheckpoint(dir), {
    featureSetVersion: env.featureSetVersion,
    observationSize: env.observationSize,
    action: { kind: 'discrete', n: env.actionCount },
  });
}

export function registerEval(cli: CAC): void {
  cli
    .command('eval [...captures]', 'Evaluate a checkpoint or a baseline policy on CartPole-v1 or (with --data) the Kalshi env')
    .option('--model <dir>', 'Checkpoint directory written by `kflow train --out`')
    .option('--policy <name>', 'Baseline instead of a checkpoint: random | hold | heuristic (hold and heuristic: Kalshi only)')
    .option('--data <captures>', 'Kalshi capture JSONL files (repeat or comma-separate)')
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
 * {@link KALSHI_DEMO_TRAINING}'s env options, as `kflow train --data` trains in), otherwise undefined.
 *
 * @example
 * const r = await runEval([], { policy: 'hold', data: ['held-out.jsonl'], env: 'CartPole-v1', episodes: '100', seed: '0', quiet: true });
 */
export async function runEval(positional: string[], o: EvalOptions): Promise<KalshiEvalRun | undefined> {
  if ((o.model === undefined) === (o.policy === undefined)) throw new Error('give exactly one of --model or --policy');
  const episodes = Number(o.episodes);
  const seed = Number(o.seed);
  if (!Number.isInteger(episodes) || episodes <= 0) throw new Error(`--episodes must be a positive integer, got "${o.episodes}"`);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got "${o.seed}"`);
  const captures = capturePaths(o.data, positional);
  const name = o.model ?? o.policy!;

  if (captures.length > 0) {
    const env = createKalshiEnv({ sessions: await loadCapturePool(captures), ...KALSHI_DEMO_TRAINING.env });
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
    if (o.json) printJson(summary);
    else {
      console.log(
        `${name} on ${captures.length} capture(s), ${episodes} episodes: PnL $${r.meanPnl.toFixed(4)} ± ${r.stdPnl.toFixed(4)} ` +
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
