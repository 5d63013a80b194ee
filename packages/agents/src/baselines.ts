import {
  type Box,
  type Discrete,
  type Env,
  type KalshiEnvInfo,
  type KalshiEnvMetadata,
  type ResetOptions,
  type ResetResult,
  type StepResult,
  Wrapper,
} from '@kflow/env';
import { F } from '@kflow/features';
import { PRICE_ONE, type Rng } from '@kflow/orderbook';
import { type ActionKind, DEFAULT_FEE_SCHEDULE, type TradingSetup, quoteFee } from '@kflow/paper';
import type { Policy } from './actorCritic';
import { agentsError } from './errors';

/** The policy metadata every baseline policy reports. */
export interface BaselinePolicyOptions {
  observationSize: number;
  actionCount: number;
  /** Default `'none'`. */
  featureSetVersion?: string;
}

/**
 * Uniformly random among the allowed actions (all of them without a mask): the floor any trained
 * policy must beat.
 *
 * @example
 * const random = createRandomPolicy({ observationSize: 4, actionCount: 2, rng: createRng(0) });
 */
export function createRandomPolicy(options: BaselinePolicyOptions & { rng: Rng }): Policy {
  const { rng, actionCount } = options;
  return {
    observationSize: options.observationSize,
    actionCount,
    featureSetVersion: options.featureSetVersion ?? 'none',
    act(_observation, mask) {
      if (mask === undefined) return rng.int(actionCount);
      let allowed = 0;
      for (let i = 0; i < actionCount; i++) allowed += mask[i] === 1 ? 1 : 0;
      if (allowed === 0) throw agentsError('INVALID_OPTIONS', 'action mask allows no action');
      let k = rng.int(allowed);
      for (let i = 0; i < actionCount; i++) if (mask[i] === 1 && k-- === 0) return i;
      return 0;
    },
  };
}

/**
 * Always the same action (default 0, the no-op of the Kalshi env): the "do nothing" baseline.
 *
 * @example
 * const hold = createHoldPolicy({ observationSize: 32, actionCount: 9 });
 */
export function createHoldPolicy(options: BaselinePolicyOptions & { holdAction?: number }): Policy {
  const hold = options.holdAction ?? 0;
  if (!Number.isInteger(hold) || hold < 0 || hold >= options.actionCount) {
    throw agentsError('INVALID_OPTIONS', `holdAction must be in [0, ${options.actionCount}), got ${hold}`);
  }
  return {
    observationSize: options.observationSize,
    actionCount: options.actionCount,
    featureSetVersion: options.featureSetVersion ?? 'none',
    act: () => hold,
  };
}

/** Options of {@link createKalshiOracle}. */
export interface KalshiOracleOptions {
  /** The Kalshi env the oracle trades in: its action space, fees and fills are the ones every policy gets. */
  readonly env: Env<Box, Discrete, KalshiEnvInfo> & { readonly metadata: KalshiEnvMetadata; readonly setup: TradingSetup };
  /**
   * The latent YES probability of `ticker` at exchange time `tsMs` (e.g. `@kflow/sim`'s `LatentIndex`).
   * Simulator only: no real market has one.
   */
  readonly latentAt: (ticker: string, tsMs: number) => number;
  /**
   * Expected gain per contract beyond spread and fee that an entry must clear, dollars. Default 0.02: the
   * best mean PnL of 0–8 ¢ on the simulator's `informed` preset (training seeds of the learning check).
   */
  readonly entryMarginDollars?: number;
  /**
   * Expected value per contract the oracle gives up to close a position, dollars (default 0: it closes only
   * when the sale beats holding). Closing early frees the one-contract limit for the next mispricing.
   */
  readonly exitSlackDollars?: number;
}

/** The oracle policy and the env to run it in (the given env, seen through a wrapper that tells the policy the market and time). */
export interface KalshiOracle {
  readonly policy: Policy;
  readonly env: Env<Box, Discrete, KalshiEnvInfo>;
}

/** Passes every reset's and step's info to `onInfo` before the caller sees it. */
class InfoTap extends Wrapper<Box, Discrete, KalshiEnvInfo> {
  constructor(
    env: Env<Box, Discrete, KalshiEnvInfo>,
    private readonly onInfo: (info: KalshiEnvInfo) => void,
  ) {
    super(env);
  }
  override reset(options?: ResetOptions): ResetResult<Float32Array, KalshiEnvInfo> {
    const r = super.reset(options);
    this.onInfo(r.info);
    return r;
  }
  override step(action: number): StepResult<Float32Array, KalshiEnvInfo> {
    const r = super.step(action);
    this.onInfo(r.info);
    return r;
  }
}

// The observation's spread feature is log1p(spread in cents) / log1p(100) (FEATURE_SPEC).
const LOG_SPREAD_MAX = Math.log1p(100);

/**
 * The oracle baseline of the Kalshi env on simulated markets: it reads the simulator's latent probability
 * `p` (which no agent observes) and trades the env's taker actions with their first size, through the
 * env's own execution model. Flat, it buys YES when `p − ask` exceeds the taker fee (NO when `bid − p`
 * does); holding, it sells back when the sale beats holding by the fee (YES: `bid − fee > p`). Prices
 * come from the observation's mid and spread features (exact to the price unit), the fee from the env's
 * fee schedule. It is a ceiling in practice, not a bound: it is myopic, and episodes are marked to the
 * (lagging) mid, not to `p`.
 *
 * @example
 * const latents = createLatentIndex(); // @kflow/sim, filled while simulating
 * const oracle = createKalshiOracle({ env, latentAt: latents.latentAt });
 * evaluateKalshi(oracle.policy, oracle.env, 400, { seed: 0 });
 */
export function createKalshiOracle(options: KalshiOracleOptions): KalshiOracle {
  const { metadata, setup } = options.env;
  const margin = options.entryMarginDollars ?? 0.02;
  const slack = options.exitSlackDollars ?? 0;
  const index = (kind: ActionKind) => {
    const i = metadata.actionKinds.indexOf(kind);
    if (i < 0) throw agentsError('UNSUPPORTED_SPACE', `the action space has no ${kind}`);
    return i;
  };
  const hold = index('HOLD');
  const buyYes = index('BUY_YES_NOW');
  const sellYes = index('SELL_YES_NOW');
  const buyNo = index('BUY_NO_NOW');
  const sellNo = index('SELL_NO_NOW');
  // `indexOf` finds each kind's first action, i.e. the first size of the action space.
  const sizeCenti = metadata.sizesCenti[0]!;
  const fee = (priceUnits: number) =>
    quoteFee({ priceUnits, countCenti: sizeCenti, schedule: setup.fees ?? DEFAULT_FEE_SCHEDULE, precision: setup.precision }).chargedMicros /
    (1e6 * (sizeCenti / 100));
  let ticker = '';
  let tsMs = 0;
  const env = new InfoTap(options.env, (info) => {
    ticker = info.ticker;
    tsMs = info.tsMs;
  });
  const policy: Policy = {
    observationSize: metadata.observationSize,
    actionCount: metadata.actionCount,
    featureSetVersion: metadata.featureSetVersion,
    act(observation, mask) {
      const p = options.latentAt(ticker, tsMs);
      const mid = observation[F.mid]!;
      const spread = Math.expm1(observation[F.spread]! * LOG_SPREAD_MAX) / 100;
      const bidUnits = Math.round((mid - spread / 2) * PRICE_ONE);
      const askUnits = Math.round((mid + spread / 2) * PRICE_ONE);
      const bid = bidUnits / PRICE_ONE;
      const ask = askUnits / PRICE_ONE;
      const position = observation[F.position]!;
      let action = hold;
      if (position > 0) {
        if (bidUnits > 0 && bid - fee(bidUnits) > p - slack) action = sellYes;
      } else if (position < 0) {
        if (askUnits < PRICE_ONE && p - ask > fee(PRICE_ONE - askUnits) - slack) action = sellNo;
      } else if (askUnits < PRICE_ONE && p - ask > fee(askUnits) + margin) action = buyYes;
      else if (bidUnits > 0 && bid - p > fee(PRICE_ONE - bidUnits) + margin) action = buyNo;
      return mask === undefined || mask[action] === 1 ? action : hold;
    },
  };
  return { policy, env };
}
