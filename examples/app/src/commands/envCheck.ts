import type { CAC } from 'cac';
import { type MarketPool, checkEnv, createKalshiEnv } from '@kflow/env';
import { createRng } from '@kflow/orderbook';
import { type DataSourceOptions, loadData, reportProblems } from '../dataSources';
import { marketPool } from './train';
import { wholeNumber } from '../flags';
import { printJson } from '../output';

/** The `--json` object of `kflow env-check`. */
export interface EnvCheckSummary {
  ok: boolean;
  /** Markets with enough events to sample episodes from. */
  markets: number;
  /** Recorded events in those markets. */
  events: number;
  /** Episodes finished in the random rollout. */
  episodes: number;
  steps: number;
  meanReward: number;
  observationSize: number;
  actionCount: number;
  featureSetVersion: string;
}

export interface EnvCheckOptions {
  readonly seed: number;
  readonly steps: number;
}

/**
 * Builds a Kalshi env from a market pool, runs `checkEnv`, then a seeded random rollout (uniform over the
 * masked-in actions) of `steps` steps. Throws (`ENV_CHECK_FAILED`, ...) if the env breaks its contract.
 */
export function runEnvCheck(pool: MarketPool, options: EnvCheckOptions): EnvCheckSummary {
  // Short episodes so a few minutes of recording still yields several of them.
  const env = createKalshiEnv({ sessions: pool, episodeSteps: { min: 50, max: 400 } });
  checkEnv(env, { seed: options.seed, steps: 300 });
  const rng = createRng(options.seed);
  let { info } = env.reset({ seed: options.seed });
  let episodes = 0;
  let rewardSum = 0;
  for (let i = 0; i < options.steps; i++) {
    let k = 0;
    for (const m of info.actionMask) k += m;
    let pick = rng.int(k);
    let action = 0;
    while (info.actionMask[action] === 0 || pick-- > 0) action++;
    const step = env.step(action);
    rewardSum += step.reward;
    info = step.info;
    if (step.terminated || step.truncated) {
      episodes++;
      info = env.reset().info;
    }
  }
  const { observationSize, actionCount, featureSetVersion } = env.metadata;
  return {
    ok: true,
    markets: env.pool.markets.length,
    events: env.pool.events,
    episodes,
    steps: options.steps,
    meanReward: rewardSum / options.steps,
    observationSize,
    actionCount,
    featureSetVersion,
  };
}

export function registerEnvCheck(cli: CAC): void {
  cli
    .command('env-check [...captures]', 'Build the Kalshi env from captures or recorded sessions, run checkEnv and a seeded random rollout')
    .option('--data <captures>', 'Kalshi capture JSONL files (repeat or comma-separate; or as arguments)')
    .option('--session <ids>', 'Recorded sessions: ID[,ID...] | latest | latest:N | all (from --db / --data-dir)')
    .option('--db <url>', 'PostgreSQL connection string (default: PGlite in --data-dir)')
    .option('--data-dir <dir>', 'PGlite data directory (default kflow-data)')
    .option('--strict', 'Malformed capture lines are fatal (default: skipped and reported)')
    .option('--seed <n>', 'Seed of checkEnv and the rollout', { default: '0' })
    .option('--steps <n>', 'Steps of the random rollout', { default: '2000' })
    .option('--json', 'Print one JSON object')
    .action(async (captures: string[], options: DataSourceOptions & { seed: string; steps: string; json?: boolean }) => {
      const seed = wholeNumber(options.seed, 'seed', 0);
      const steps = wholeNumber(options.steps, 'steps', 1);
      const data = await loadData(options, captures);
      if (data === undefined) throw new Error('give market data: capture files (arguments or --data) or recorded sessions (--session)');
      reportProblems(data.problems, false);
      let summary: EnvCheckSummary;
      try {
        summary = runEnvCheck(marketPool(data), { seed, steps });
      } catch (error) {
        if (!options.json) throw error;
        printJson({ ok: false, error: error instanceof Error ? error.message : String(error) });
        process.exitCode = 1;
        return;
      }
      if (options.json) printJson({ ...summary, sources: data.sources, ...(data.problems.length === 0 ? {} : { skipped: data.problems }) });
      else {
        console.log(`env-check ok: ${summary.markets} markets, ${summary.events} events (${data.sources.join(', ')})`);
        console.log(`rollout: ${summary.steps} steps, ${summary.episodes} episodes, mean reward ${summary.meanReward.toFixed(6)}`);
        console.log(`observation ${summary.observationSize} (${summary.featureSetVersion}), ${summary.actionCount} actions`);
      }
    });
}
