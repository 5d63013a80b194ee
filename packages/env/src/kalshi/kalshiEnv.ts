import {
  FEATURE_SET_VERSION,
  FEATURE_SPEC,
  OBSERVATION_SIZE,
  TEMPORAL_STATE_SIZE,
  type PositionFeaturesInput,
  TemporalState,
  buildObservation,
} from '@kflow/features';
import { type MarketSeries, OrderBook, type Rng, type SessionData, createRng, isKflowError } from '@kflow/orderbook';
import {
  type ActionContext,
  type ActionKind,
  type ActionSpace,
  type BookSide,
  MatchingEngine,
  type PositionFeaturesBuffer,
  PositionTracker,
  type TradingSetup,
  type TradingSetupOptions,
  actionMask,
  actionToOrder,
  createActionSpace,
  createPositionFeatures,
  decodeAction,
  resolveTradingSetup,
  writePositionFeatures,
} from '@kflow/paper';
import type { Env, EnvInfo, ResetOptions, ResetResult, StepResult } from '../core/env';
import { envError } from '../core/errors';
import { Box, Discrete } from '../core/spaces';
import { type MarketPool, type PoolMarket, createMarketPool, replaySeriesEvent } from './marketPool';
import { type MarketSampler, uniformSampler } from './marketSampler';

/**
 * Options of `createKalshiEnv`. Money in micro-dollars, counts in centi-contracts. The trading fields
 * (cadence, sizes, kinds, limit, cash, reward scale, fees, precision, queue model, latency) make up the
 * env's `setup`, which checkpoints record and the live actor trades with.
 */
export interface KalshiEnvOptions extends TradingSetupOptions {
  /** Recorded sessions (or a prepared pool) to sample episodes from. */
  readonly sessions: readonly SessionData[] | MarketPool;
  /** Default `uniformSampler()`. */
  readonly sampler?: MarketSampler;
  /** Episode length limit in decisions: a fixed number or a seeded random range (default 256–2048). */
  readonly episodeSteps?: number | { readonly min: number; readonly max: number };
  /** Events between book checkpoints (default 64): a reset replays fewer than this many events. */
  readonly checkpointInterval?: number;
}

/** One fill during a step (exact units). */
export interface KalshiFill {
  readonly side: BookSide;
  readonly priceUnits: number;
  readonly countCenti: number;
  readonly isTaker: boolean;
  readonly feeMicros: number;
}

/** `info` of `reset` and `step`. Money in micro-dollars since the episode started. */
export interface KalshiEnvInfo extends EnvInfo {
  /** Feasible actions in the returned state (env-owned buffer, overwritten by the next call: copy it to keep it). */
  readonly actionMask: Uint8Array;
  /** Portfolio value change since the episode started, marked to mid, fees included. */
  readonly pnlMicros: number;
  readonly feesMicros: number;
  /** Fills since the episode started. */
  readonly trades: number;
  readonly positionCenti: number;
  /** Fills of this step (a shared empty array when there were none). */
  readonly fills: readonly KalshiFill[];
  /** The action could not be executed (masked) and was treated as HOLD. */
  readonly infeasible: boolean;
  readonly sessionId: string;
  readonly ticker: string;
  /** Index of the next event to replay in the market's series. */
  readonly eventIndex: number;
  /** Exchange time of this observation, epoch ms: the decision time (on a grid) or the last replayed event's time. */
  readonly tsMs: number;
}

/** What a policy needs to know about this env (and what a checkpoint records). */
export interface KalshiEnvMetadata {
  readonly observationSize: number;
  readonly actionCount: number;
  readonly featureSetVersion: string;
  readonly featureNames: readonly string[];
  readonly actionKinds: readonly ActionKind[];
  readonly sizesCenti: readonly number[];
  /** The trading setup (store it in checkpoints: the live actor trades with exactly this). */
  readonly setup: TradingSetup;
  readonly [key: string]: unknown;
}

const NO_FILLS: readonly KalshiFill[] = Object.freeze([]);

/**
 * The observation/action metadata of a Kalshi env with these trading options, without building one.
 *
 * @example
 * kalshiEnvMetadata().actionCount; // 18
 */
export function kalshiEnvMetadata(options: TradingSetupOptions = {}): KalshiEnvMetadata {
  return metadataOf(resolveSetup(options));
}

function metadataOf(setup: TradingSetup): KalshiEnvMetadata {
  const actions = createActionSpace({ sizesCenti: setup.sizesCenti, tradingKinds: setup.tradingKinds });
  return {
    observationSize: OBSERVATION_SIZE,
    actionCount: actions.count,
    featureSetVersion: FEATURE_SET_VERSION,
    featureNames: FEATURE_SPEC.features.map((f) => f.name),
    actionKinds: actions.actions.map((a) => a.kind),
    sizesCenti: actions.sizesCenti,
    setup,
  };
}

/** `resolveTradingSetup` with the env's error vocabulary. */
function resolveSetup(options: TradingSetupOptions): TradingSetup {
  try {
    return resolveTradingSetup({
      ...(options.cadence === undefined ? {} : { cadence: options.cadence }),
      ...(options.sizesCenti === undefined ? {} : { sizesCenti: options.sizesCenti }),
      ...(options.tradingKinds === undefined ? {} : { tradingKinds: options.tradingKinds }),
      ...(options.positionLimitCenti === undefined ? {} : { positionLimitCenti: options.positionLimitCenti }),
      ...(options.initialCashMicros === undefined ? {} : { initialCashMicros: options.initialCashMicros }),
      ...(options.rewardScale === undefined ? {} : { rewardScale: options.rewardScale }),
      ...(options.fees === undefined ? {} : { fees: options.fees }),
      ...(options.precision === undefined ? {} : { precision: options.precision }),
      ...(options.queueModel === undefined ? {} : { queueModel: options.queueModel }),
      ...(options.latency === undefined ? {} : { latency: options.latency }),
    });
  } catch (error) {
    if (isKflowError(error, 'INVALID_ARGUMENT')) throw envError('INVALID_ARGUMENT', error.message);
    throw error;
  }
}

/**
 * The market-agnostic Kalshi env: each episode is a window of one market's recorded events from an
 * in-memory session pool (no database or socket handle can reach it). Actions are `@kflow/paper`'s
 * primitive actions, executed by its matching engine and position tracker; observations come from
 * `@kflow/features`' `buildObservation`, the same function the live actor calls.
 *
 * `reset` samples a market (through the sampler) and a start event (seeded), restores the nearest book
 * and temporal checkpoint and replays at most `checkpointInterval − 1` events. `step` executes the
 * action at the current book, replays the next event (or every event of the next `everyMs`), and
 * returns reward = Δ(portfolio value marked to mid) × `rewardScale`, fees included and nothing else.
 * `terminated` at the recorded settlement (paid out through the tracker) or when the market's data ends:
 * on a grid, at the step that reaches the settlement time or the last event; with event cadence, at the
 * step after the decision on the last event before the settlement (or the data's end), as a live actor
 * decides after every event it sees. `truncated` at the episode length limit.
 *
 * Reset options (`reset({ options })`): `marketIndex`, `startEvent`, `steps` pin the episode (tests,
 * evaluation). The observation buffer and `info.actionMask` are reused between calls.
 *
 * @example
 * const env = createKalshiEnv({ sessions: [session] });
 * let { observation, info } = env.reset({ seed: 1 });
 * const step = env.step(0); // HOLD
 */
export class MarketAgnosticKalshiEnv implements Env<Box, Discrete, KalshiEnvInfo> {
  readonly observationSpace: Box;
  readonly actionSpace: Discrete;
  readonly metadata: KalshiEnvMetadata;
  /** The trading setup this env runs (also `metadata.setup`). */
  readonly setup: TradingSetup;
  readonly pool: MarketPool;
  readonly actions: ActionSpace;
  readonly sampler: MarketSampler;
  private readonly acct: PositionFeaturesBuffer;

  private readonly cadenceMs: number; // 0: every event
  private readonly stepsMin: number;
  private readonly stepsMax: number;
  private rng: Rng = createRng(0);
  private readonly book = new OrderBook('env');
  private readonly temporal = new TemporalState();
  private readonly observation = new Float32Array(OBSERVATION_SIZE);
  private readonly mask: Uint8Array;
  private readonly ctx: { book: OrderBook; positionCenti: number; maxPositionCenti: number; openOrderCount: number };
  private market: PoolMarket | undefined;
  private series: MarketSeries | undefined;
  private tracker: PositionTracker | undefined;
  private engine: MatchingEngine | undefined;
  private next = 0;
  private nowMs = 0;
  private steps = 0;
  private limit = 0;
  private value = 0;
  private startValue = 0;
  private trades = 0;
  private stepFills: KalshiFill[] | undefined;
  private needsReset = true;
  private closed = false;

  constructor(options: KalshiEnvOptions) {
    const sessions = options.sessions;
    this.pool = 'markets' in sessions && 'checkpointInterval' in sessions
      ? sessions
      : createMarketPool(sessions as readonly SessionData[], options.checkpointInterval === undefined ? {} : { checkpointInterval: options.checkpointInterval });
    this.sampler = options.sampler ?? uniformSampler();
    const setup = resolveSetup(options);
    this.setup = setup;
    this.cadenceMs = setup.cadence === 'event' ? 0 : setup.cadence.everyMs;
    const steps = options.episodeSteps ?? { min: 256, max: 2048 };
    this.stepsMin = typeof steps === 'number' ? steps : steps.min;
    this.stepsMax = typeof steps === 'number' ? steps : steps.max;
    if (!Number.isInteger(this.stepsMin) || this.stepsMin < 1 || !Number.isInteger(this.stepsMax) || this.stepsMax < this.stepsMin) {
      throw envError('INVALID_ARGUMENT', `episodeSteps must be integers with 1 ≤ min ≤ max, got ${JSON.stringify(steps)}`);
    }
    this.actions = createActionSpace({ sizesCenti: setup.sizesCenti, tradingKinds: setup.tradingKinds });
    this.acct = createPositionFeatures(setup.positionLimitCenti);
    this.mask = new Uint8Array(this.actions.count);
    this.ctx = { book: this.book, positionCenti: 0, maxPositionCenti: setup.positionLimitCenti, openOrderCount: 0 };
    this.observationSpace = new Box(
      FEATURE_SPEC.features.map((f) => f.min),
      FEATURE_SPEC.features.map((f) => f.max),
      [OBSERVATION_SIZE],
    );
    this.actionSpace = new Discrete(this.actions.count);
    this.metadata = metadataOf(setup);
  }

  /** The account numbers behind the position features of the latest observation (what the live actor passes). */
  get account(): PositionFeaturesInput {
    return this.acct;
  }

  /** Starts an episode: samples a market and a start event (seeded), rebuilds the book from the nearest checkpoint and opens a fresh account. `options.options` may pin `marketIndex`, `startEvent` and `steps`. */
  reset(options: ResetOptions = {}): ResetResult<Float32Array, KalshiEnvInfo> {
    if (this.closed) throw envError('INVALID_ARGUMENT', 'the env is closed');
    if (options.seed !== undefined) {
      this.rng = createRng(options.seed);
      this.actionSpace.seed(options.seed);
    }
    const pinned = options.options ?? {};
    const markets = this.pool.markets;
    const marketIndex = typeof pinned['marketIndex'] === 'number' ? pinned['marketIndex'] : this.sampler.sample(markets, this.rng);
    const market = markets[marketIndex];
    if (market === undefined) throw envError('INVALID_ARGUMENT', `marketIndex ${marketIndex} is outside the pool of ${markets.length}`);
    const series = market.series;
    this.limit = typeof pinned['steps'] === 'number' ? pinned['steps'] : this.stepsMin + this.rng.int(this.stepsMax - this.stepsMin + 1);
    if (!(Number.isInteger(this.limit) && this.limit >= 1)) throw envError('INVALID_ARGUMENT', `steps must be a positive integer, got ${this.limit}`);
    // Leave room for a full episode when the market has it (event cadence); never start at the very end.
    const room = this.cadenceMs === 0 ? Math.min(this.limit, series.length - 1) : 1;
    const start = typeof pinned['startEvent'] === 'number' ? pinned['startEvent'] : this.rng.int(Math.max(1, series.length - room));
    if (!(Number.isInteger(start) && start >= 0 && start < series.length)) {
      throw envError('INVALID_ARGUMENT', `startEvent ${start} is outside [0, ${series.length})`);
    }

    // Restore the nearest checkpoint at or before `start`, then replay up to it (no orders yet).
    const interval = this.pool.checkpointInterval;
    const c = Math.floor(start / interval);
    this.book.copyFrom(market.books[c]!);
    this.temporal.load(market.temporal, c * TEMPORAL_STATE_SIZE);
    for (let i = c * interval; i < start; i++) replaySeriesEvent(series, i, this.book, this.temporal);

    this.market = market;
    this.series = series;
    this.next = start;
    this.nowMs = start > 0 ? series.tsMs[start - 1]! : series.initialTsMs;
    this.steps = 0;
    this.trades = 0;
    const setup = this.setup;
    const tracker = new PositionTracker({ cashMicros: setup.initialCashMicros, precision: setup.precision });
    this.tracker = tracker;
    this.engine = new MatchingEngine({
      ticker: series.ticker,
      book: this.book,
      tracker,
      marketCashMicros: setup.initialCashMicros,
      queueModel: setup.queueModel,
      ...(setup.fees === undefined ? {} : { fees: setup.fees }),
      ...(setup.latency === undefined ? {} : { latency: setup.latency, rng: this.rng.fork() }),
      onFill: (order, priceUnits, countCenti, isTaker, outcome) => {
        this.trades++;
        (this.stepFills ??= []).push({ side: order.side, priceUnits, countCenti, isTaker, feeMicros: outcome.fee.chargedMicros });
      },
    });
    this.needsReset = false;
    this.observe();
    this.value = this.startValue = this.acct.portfolioValueMicros;
    return { observation: this.observation, info: this.info(false) };
  }

  /** Executes `action` at the current book, replays the market to the next decision and returns reward = Δ portfolio value (marked to mid, fees included) × `rewardScale`. */
  step(action: number): StepResult<Float32Array, KalshiEnvInfo> {
    if (this.needsReset) throw envError('ENV_NEEDS_RESET', 'call reset() before step() (and after an episode ends)');
    if (!this.actionSpace.contains(action)) throw envError('INVALID_ACTION', `action ${String(action)} is not in ${this.actionSpace}`);
    const series = this.series!;
    const engine = this.engine!;
    this.stepFills = undefined;

    // 1. Execute the action at the current book, exactly as the live actor would.
    const decoded = decodeAction(this.actions, action);
    let infeasible = false;
    if (decoded.kind === 'CANCEL_ALL') {
      if (engine.cancelAll(this.nowMs) === 0) infeasible = true;
    } else if (decoded.intent !== undefined) {
      const order = actionToOrder(this.actions, decoded, this.context());
      infeasible = order === undefined || !engine.submit(order, this.nowMs).ok;
    }

    // 2. Advance the market to the next decision.
    const n = series.length;
    const settlement = series.settlement;
    // Event cadence: the settlement is the next "event" once every book event up to its time is replayed,
    // as its lifecycle frame follows them on the wire (the live actor decides after each of them).
    let ended = false;
    if (this.cadenceMs === 0) {
      if (this.next < n && (settlement === undefined || series.tsMs[this.next]! <= settlement.tsMs)) {
        replaySeriesEvent(series, this.next, this.book, this.temporal, engine);
        this.nowMs = series.tsMs[this.next]!;
        this.next++;
      } else ended = true;
    } else {
      const until = this.nowMs + this.cadenceMs;
      while (this.next < n && series.tsMs[this.next]! <= until) {
        replaySeriesEvent(series, this.next, this.book, this.temporal, engine);
        this.next++;
      }
      this.nowMs = until;
      engine.advanceTo(until);
    }
    this.steps++;

    // 3. Settlement (on a grid: once exchange time reaches it, or at the end of the data) or end of data.
    const settles = settlement !== undefined && (this.cadenceMs === 0 ? ended : this.next >= n || this.nowMs >= settlement.tsMs);
    const terminated = settles || (this.cadenceMs === 0 ? ended : this.next >= n);
    if (settles) engine.settle(settlement.result, settlement.yesPayoutUnits, Math.max(this.nowMs, settlement.tsMs));
    const truncated = !terminated && this.steps >= this.limit;
    this.needsReset = terminated || truncated;

    // 4. Reward: change in portfolio value marked to mid, fees included, nothing else.
    const before = this.value;
    this.observe();
    this.value = this.acct.portfolioValueMicros;
    return {
      observation: this.observation,
      reward: (this.value - before) * this.setup.rewardScale,
      terminated,
      truncated,
      info: this.info(infeasible),
    };
  }

  close(): void {
    this.closed = true;
    this.needsReset = true;
  }

  private context(): ActionContext {
    const ctx = this.ctx;
    ctx.positionCenti = this.tracker!.positionCenti(this.engine!.marketIndex);
    ctx.openOrderCount = this.engine!.openOrderCount; // pending orders (latency) can be canceled too
    return ctx;
  }

  /** Updates the account numbers (portfolio value marked to mid included), the observation and the action mask. */
  private observe(): void {
    buildObservation(this.observation, this.book, this.temporal, writePositionFeatures(this.engine!, this.acct), this.nowMs);
    actionMask(this.actions, this.context(), this.mask);
  }

  private info(infeasible: boolean): KalshiEnvInfo {
    const tracker = this.tracker!;
    const m = this.engine!.marketIndex;
    return {
      actionMask: this.mask,
      pnlMicros: this.value - this.startValue,
      feesMicros: tracker.market(m).feesPaidMicros,
      trades: this.trades,
      positionCenti: tracker.positionCenti(m),
      fills: this.stepFills ?? NO_FILLS,
      infeasible,
      sessionId: this.market!.sessionId,
      ticker: this.series!.ticker,
      eventIndex: this.next,
      tsMs: this.nowMs,
    };
  }
}

/**
 * Creates a `MarketAgnosticKalshiEnv` from in-memory sessions (e.g. `sessionDataFromCapture`,
 * `createSyntheticSession`, or @kflow/ingest's session loader).
 *
 * @example
 * const env = createKalshiEnv({ sessions: [session], cadence: { everyMs: 1000 }, sizesCenti: [100] });
 * env.metadata.observationSize; // 27
 * env.metadata.featureSetVersion; // 'kflow-features/1'
 */
export function createKalshiEnv(options: KalshiEnvOptions): MarketAgnosticKalshiEnv {
  return new MarketAgnosticKalshiEnv(options);
}
