import type { Box, Discrete, Env, KalshiEnvInfo, KalshiEnvMetadata } from '@kflow/env';
import { F } from '@kflow/features';
import type { Policy } from './actorCritic';
import { agentsError } from './errors';

/** Options of {@link createKalshiHeuristicPolicy}. */
export interface KalshiHeuristicOptions {
  /** |Top-of-book imbalance| needed to open a position (default 0.6). */
  entryImbalance?: number;
  /** Imbalance against the position at which it is closed (default 0). */
  exitImbalance?: number;
}

/**
 * A transparent order-flow baseline for the Kalshi env: with no position, buy the side the top of the
 * book leans to (`imbalanceTop` beyond ±`entryImbalance`) with the smallest size, taking liquidity;
 * holding, sell it back as soon as the imbalance turns against the position. Masked choices fall back
 * to HOLD. It reads the feature vector through `@kflow/features`' `F` index, so it follows the spec.
 *
 * @example
 * const heuristic = createKalshiHeuristicPolicy(kalshiEnvMetadata());
 */
export function createKalshiHeuristicPolicy(metadata: KalshiEnvMetadata, options: KalshiHeuristicOptions = {}): Policy {
  const entry = options.entryImbalance ?? 0.6;
  const exit = options.exitImbalance ?? 0;
  const index = (kind: string) => {
    const i = metadata.actionKinds.indexOf(kind as never);
    if (i < 0) throw agentsError('UNSUPPORTED_SPACE', `the action space has no ${kind}`);
    return i;
  };
  const hold = index('HOLD');
  const buyYes = index('BUY_YES_NOW');
  const buyNo = index('BUY_NO_NOW');
  const sellYes = index('SELL_YES_NOW');
  const sellNo = index('SELL_NO_NOW');
  return {
    observationSize: metadata.observationSize,
    actionCount: metadata.actionCount,
    featureSetVersion: metadata.featureSetVersion,
    act(observation, mask) {
      const imbalance = observation[F.imbalanceTop]!;
      const position = observation[F.position]!;
      let action = hold;
      if (position > 0 && imbalance < -exit) action = sellYes;
      else if (position < 0 && imbalance > exit) action = sellNo;
      else if (position === 0 && imbalance > entry) action = buyYes;
      else if (position === 0 && imbalance < -entry) action = buyNo;
      return mask === undefined || mask[action] === 1 ? action : hold;
    },
  };
}

/** Trading results of `evaluateKalshi`, in dollars. */
export interface KalshiEvaluation {
  readonly episodes: number;
  readonly meanPnl: number;
  /** Population standard deviation of the per-episode PnL. */
  readonly stdPnl: number;
  /** meanPnl / stdPnl per episode (0 when the PnL never varies). */
  readonly sharpe: number;
  readonly meanTrades: number;
  /** Share of episodes with a positive PnL. */
  readonly winRate: number;
  /** Fees paid over all episodes. */
  readonly feesPaid: number;
  readonly pnls: readonly number[];
  /** The market of each episode (episodes of one market are correlated: cluster by it for error bars). */
  readonly tickers: readonly string[];
}

/**
 * Runs `policy` for `episodes` episodes of a Kalshi env (episode `i` reset with `seed + i`, the env's
 * action mask passed to `act`) and reports PnL (marked to mid, fees included), trades and fees.
 *
 * @example
 * const { meanPnl, sharpe } = evaluateKalshi(policy, createKalshiEnv({ sessions }), 50, { seed: 0 });
 */
export function evaluateKalshi(
  policy: Policy,
  env: Env<Box, Discrete, KalshiEnvInfo>,
  episodes: number,
  options: { seed?: number } = {},
): KalshiEvaluation {
  if (!Number.isInteger(episodes) || episodes <= 0) throw agentsError('INVALID_OPTIONS', `episodes must be a positive integer, got ${episodes}`);
  if (policy.observationSize !== env.observationSpace.size || policy.actionCount !== env.actionSpace.n) {
    throw agentsError('SHAPE_MISMATCH', 'policy and env disagree on observation size or action count');
  }
  const seed = options.seed ?? 0;
  const pnls: number[] = [];
  const tickers: string[] = [];
  let trades = 0;
  let feesMicros = 0;
  for (let e = 0; e < episodes; e++) {
    let { observation, info } = env.reset({ seed: seed + e });
    for (;;) {
      const step = env.step(policy.act(observation, info.actionMask));
      observation = step.observation;
      info = step.info;
      if (step.terminated || step.truncated) break;
    }
    pnls.push(info.pnlMicros / 1e6);
    tickers.push(info.ticker);
    trades += info.trades;
    feesMicros += info.feesMicros;
  }
  const meanPnl = pnls.reduce((s, p) => s + p, 0) / episodes;
  const stdPnl = Math.sqrt(pnls.reduce((s, p) => s + (p - meanPnl) ** 2, 0) / episodes);
  return {
    episodes,
    meanPnl,
    stdPnl,
    sharpe: stdPnl > 0 ? meanPnl / stdPnl : 0,
    meanTrades: trades / episodes,
    winRate: pnls.filter((p) => p > 0).length / episodes,
    feesPaid: feesMicros / 1e6,
    pnls,
    tickers,
  };
}
