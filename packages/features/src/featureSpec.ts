/** Version of the observation layout. Bump it whenever a feature is added, removed, reordered or redefined. */
export const FEATURE_SET_VERSION = 'kflow-features/1';

/** The three groups of features: the book, its recent activity, and our account. */
export type FeatureGroup = 'market' | 'temporal' | 'position';

/** One observation entry: its name, group, closed value range and meaning. */
export interface FeatureDef {
  readonly name: string;
  readonly group: FeatureGroup;
  readonly min: -1 | 0;
  readonly max: 1;
  readonly description: string;
}

/** The named, versioned layout of the observation vector (recorded in every checkpoint). */
export interface FeatureSpec {
  readonly version: string;
  readonly size: number;
  readonly features: readonly FeatureDef[];
}

const unit = <N extends string>(name: N, group: FeatureGroup, description: string) =>
  ({ name, group, min: 0, max: 1, description }) as const;
const signed = <N extends string>(name: N, group: FeatureGroup, description: string) =>
  ({ name, group, min: -1, max: 1, description }) as const;

// Order here is the order in the vector; `F` below is derived from it, so the two cannot drift apart.
const FEATURES = [
  unit('mid', 'market', 'YES mid as a probability (an empty side counts as bid 0 / ask 1)'),
  unit('spread', 'market', 'YES spread, log-scaled: log1p(spread in cents) / log1p(100)'),
  unit('relSpread', 'market', 'spread / (2·min(mid, 1−mid)): the spread relative to the room the price has'),
  unit('depthYes', 'market', 'size of the top 5 YES bids, log1p(contracts) / log1p(1e7)'),
  unit('depthNo', 'market', 'size of the top 5 NO bids (= YES asks), log1p(contracts) / log1p(1e7)'),
  signed('imbalanceTop', 'market', '(YES − NO) / (YES + NO) size at the best level'),
  signed('imbalanceDepth', 'market', '(YES − NO) / (YES + NO) size over the top 5 levels'),
  signed('micropriceOffset', 'market', 'tanh((microprice − mid) in cents): touch imbalance × half-spread'),
  unit('distanceFromHalf', 'market', '|2·mid − 1|: how decided the market is'),
  signed('priceSumExcess', 'market', 'signed sqrt of (VWAP to buy 100 YES + VWAP to buy 100 NO − $1); < 0 only if crossed'),
  unit('logGap', 'temporal', 'log1p(ms since the previous event, or the gap before the latest one) / log1p(1 h)'),
  unit('burst', 'temporal', '1 when the 1 s event rate is ≥ 5/s'),
  unit('active', 'temporal', '1 when the 10 s event rate is ≥ 0.2/s'),
  unit('quiet', 'temporal', '1 when the gap (as in logGap) is ≥ 30 s'),
  unit('rate10s', 'temporal', 'events per second over ~10 s, log1p(rate) / log1p(1000)'),
  unit('rate60s', 'temporal', 'events per second over ~60 s, log1p(rate) / log1p(1000)'),
  signed('activityAccel', 'temporal', '(rate10s − rate60s) / (rate10s + rate60s)'),
  signed('midReturn10s', 'temporal', 'tanh((mid − 10 s mid EMA) / 0.02)'),
  signed('midReturn60s', 'temporal', 'tanh((mid − 60 s mid EMA) / 0.02)'),
  unit('volatility10s', 'temporal', 'tanh(sqrt(sum of squared mid changes over ~10 s) / 0.05)'),
  unit('volatility60s', 'temporal', 'tanh(sqrt(sum of squared mid changes over ~60 s) / 0.05)'),
  signed('tradeFlow60s', 'temporal', 'taker YES − taker NO volume over ~60 s / (total volume + 1 contract)'),
  signed('position', 'position', 'signed position (+YES / −NO) / position limit'),
  signed('unrealizedPnl', 'position', 'tanh(unrealized PnL / (10% of the position limit × $1))'),
  unit('cashFraction', 'position', 'cash / portfolio value (0 when the portfolio is worth nothing)'),
  unit('restingBid', 'position', '1 when a YES-leg bid (buy YES / sell NO) of ours rests in the book'),
  unit('restingAsk', 'position', '1 when a YES-leg ask (sell YES / buy NO) of ours rests in the book'),
] satisfies readonly FeatureDef[];

/** The name of one feature of {@link FEATURE_SPEC}, in observation order. */
export type FeatureName = (typeof FEATURES)[number]['name'];

/**
 * The feature spec of this build of `buildObservation`.
 *
 * @example
 * const obs = new Float32Array(FEATURE_SPEC.size);
 * FEATURE_SPEC.features[F.mid].name; // 'mid'
 */
export const FEATURE_SPEC: FeatureSpec = { version: FEATURE_SET_VERSION, size: FEATURES.length, features: FEATURES };

/** Length of an observation vector. */
export const OBSERVATION_SIZE = FEATURES.length;

/** Index of each feature in the observation vector, by name: `obs[F.spread]`. */
export const F = Object.fromEntries(FEATURES.map((f, i) => [f.name, i])) as { readonly [K in FeatureName]: number };
