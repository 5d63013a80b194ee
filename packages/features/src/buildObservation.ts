import { type BookView, PRICE_ONE } from '@kflow/orderbook';
import { F } from './featureSpec';
import { effectiveAsk, effectiveBid } from './marketPrices';
import type { TemporalState } from './temporalState';

/**
 * The account numbers the position features need, in exact units. A structural input so this package
 * does not depend on @kflow/paper: the paper tracker (training and live) fills it in.
 */
export interface PositionFeaturesInput {
  /** Signed position in 1/100 contracts: + YES, − NO. */
  readonly positionCenti: number;
  /** The position limit the actions respect (normaliser of `position`); > 0. */
  readonly positionLimitCenti: number;
  /** Unrealized PnL of the position marked to mid, micro-dollars. */
  readonly unrealizedPnlMicros: number;
  readonly cashMicros: number;
  /** Cash plus the position marked to mid, micro-dollars. */
  readonly portfolioValueMicros: number;
  /** Size of our resting YES-leg bids (buy YES / sell NO), 1/100 contracts. */
  readonly restingBidCenti: number;
  /** Size of our resting YES-leg asks (sell YES / buy NO), 1/100 contracts. */
  readonly restingAskCenti: number;
}

const DEPTH_LEVELS = 5;
const LOG_SPREAD_MAX = Math.log1p(100); // cents
const LOG_DEPTH_MAX = Math.log1p(1e7); // contracts
const ARB_SIZE_CENTI = 10_000; // 100 contracts
const ARB_MAX_LEVELS = 10;
const LOG_GAP_MAX = Math.log1p(3_600_000); // 1 h in ms
const LOG_RATE_MAX = Math.log1p(1000); // events per second
const BURST_COUNT_1S = 5;
const ACTIVE_RATE_10S = 0.2;
const QUIET_GAP_MS = 30_000;
const RETURN_SCALE = 0.02;
const VOL_SCALE = 0.05;
const PNL_SCALE = 0.1;
const CENT = 100; // price units

const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);
const clamp11 = (x: number): number => (x < -1 ? -1 : x > 1 ? 1 : x);

/** Cost in micro-dollars of buying `ARB_SIZE_CENTI` of `side` by walking its asks; missing size costs $1. */
function buyCost(book: BookView, side: 'yes' | 'no'): number {
  const other = side === 'yes' ? 'no' : 'yes';
  const n = Math.min(book.levelCount(other), ARB_MAX_LEVELS);
  let remaining = ARB_SIZE_CENTI;
  let cost = 0;
  for (let i = 0; i < n && remaining > 0; i++) {
    const take = Math.min(remaining, book.sizeAt(other, i));
    cost += take * (PRICE_ONE - book.priceAt(other, i));
    remaining -= take;
  }
  return cost + remaining * PRICE_ONE;
}

/**
 * Writes the observation (`FEATURE_SPEC` layout, `OBSERVATION_SIZE` floats) for one market into `out` at
 * `offset`, and returns `out`. The one observation builder: the training env and the live actor both call
 * it, with the book after the latest event, the `TemporalState` updated with every event so far, the
 * account numbers, and the decision time `nowMs` (exchange time, ≥ the latest event's). Every value is
 * finite and inside its range in `FEATURE_SPEC`, empty sides included; nothing is allocated.
 * Positional parameters rather than an options object: this runs once per env step.
 *
 * @example
 * const obs = new Float32Array(OBSERVATION_SIZE);
 * temporal.update(event.tsMs, book);
 * buildObservation(obs, book, temporal, account, event.tsMs);
 */
export function buildObservation(
  out: Float32Array,
  book: BookView,
  temporal: TemporalState,
  position: PositionFeaturesInput,
  nowMs: number,
  offset = 0,
): Float32Array {
  // Market.
  const bid = effectiveBid(book);
  const ask = effectiveAsk(book);
  const midUnits = (bid + ask) / 2;
  const mid = midUnits / PRICE_ONE;
  const spreadUnits = ask - bid;
  const room = Math.min(mid, 1 - mid);
  const bidSize = book.bestBidSize('yes');
  const askSize = book.bestAskSize('yes');
  const micro = bidSize + askSize > 0 ? (bid * askSize + ask * bidSize) / (bidSize + askSize) : midUnits;
  const excess = (buyCost(book, 'yes') + buyCost(book, 'no')) / (ARB_SIZE_CENTI * PRICE_ONE) - 1;
  out[offset + F.mid] = clamp01(mid);
  out[offset + F.spread] = clamp01(Math.log1p(Math.max(0, spreadUnits) / 100) / LOG_SPREAD_MAX);
  out[offset + F.relSpread] = room > 0 ? clamp01(spreadUnits / PRICE_ONE / (2 * room)) : 1;
  out[offset + F.depthYes] = clamp01(Math.log1p(book.depth('yes', DEPTH_LEVELS) / 100) / LOG_DEPTH_MAX);
  out[offset + F.depthNo] = clamp01(Math.log1p(book.depth('no', DEPTH_LEVELS) / 100) / LOG_DEPTH_MAX);
  out[offset + F.imbalanceTop] = clamp11(book.imbalance(1));
  out[offset + F.imbalanceDepth] = clamp11(book.imbalance(DEPTH_LEVELS));
  // Not divided by the half-spread: that ratio is exactly imbalanceTop.
  out[offset + F.micropriceOffset] = Math.tanh((micro - midUnits) / CENT);
  out[offset + F.distanceFromHalf] = clamp01(Math.abs(2 * mid - 1));
  out[offset + F.priceSumExcess] = clamp11(Math.sign(excess) * Math.sqrt(Math.abs(excess)));

  // Temporal: decay the streaming statistics from the latest event to the decision time.
  const t = temporal;
  const seen = t.count > 0;
  const since = seen && nowMs > t.lastTsMs ? nowMs - t.lastTsMs : 0;
  const a1 = Math.exp(-since / 1_000);
  const a10 = Math.exp(-since / 10_000);
  const a60 = Math.exp(-since / 60_000);
  const gap = seen ? Math.max(t.gapMs, since) : Number.POSITIVE_INFINITY;
  const rate10 = (t.count10s * a10) / 10;
  const rate60 = (t.count60s * a60) / 60;
  const ema10 = t.mid + (t.midEma10s - t.mid) * a10;
  const ema60 = t.mid + (t.midEma60s - t.mid) * a60;
  out[offset + F.logGap] = seen ? clamp01(Math.log1p(gap) / LOG_GAP_MAX) : 1;
  out[offset + F.burst] = t.count1s * a1 >= BURST_COUNT_1S ? 1 : 0;
  out[offset + F.active] = rate10 >= ACTIVE_RATE_10S ? 1 : 0;
  out[offset + F.quiet] = gap >= QUIET_GAP_MS ? 1 : 0;
  out[offset + F.rate10s] = clamp01(Math.log1p(rate10) / LOG_RATE_MAX);
  out[offset + F.rate60s] = clamp01(Math.log1p(rate60) / LOG_RATE_MAX);
  out[offset + F.activityAccel] = rate10 + rate60 > 0 ? clamp11((rate10 - rate60) / (rate10 + rate60)) : 0;
  out[offset + F.midReturn10s] = Math.tanh((t.mid - ema10) / RETURN_SCALE);
  out[offset + F.midReturn60s] = Math.tanh((t.mid - ema60) / RETURN_SCALE);
  out[offset + F.volatility10s] = Math.tanh(Math.sqrt(t.realizedVar10s * a10) / VOL_SCALE);
  out[offset + F.volatility60s] = Math.tanh(Math.sqrt(t.realizedVar60s * a60) / VOL_SCALE);
  out[offset + F.tradeFlow60s] = clamp11((t.tradeFlow60s * a60) / (t.tradeVolume60s * a60 + 1));

  // Position.
  const limit = position.positionLimitCenti;
  out[offset + F.position] = limit > 0 ? clamp11(position.positionCenti / limit) : 0;
  out[offset + F.unrealizedPnl] =
    limit > 0 ? Math.tanh(position.unrealizedPnlMicros / (PNL_SCALE * limit * PRICE_ONE)) : 0;
  out[offset + F.cashFraction] =
    position.portfolioValueMicros > 0 ? clamp01(position.cashMicros / position.portfolioValueMicros) : 0;
  out[offset + F.restingBid] = position.restingBidCenti > 0 ? 1 : 0;
  out[offset + F.restingAsk] = position.restingAskCenti > 0 ? 1 : 0;
  return out;
}

