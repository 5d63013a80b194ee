import { FEATURE_SET_VERSION, FEATURE_SPEC, OBSERVATION_SIZE, type PositionFeaturesInput, TemporalState, buildObservation } from '@kflow/features';
import {
  type ApplyResult,
  type BookEvent,
  type BookEventListener,
  type Clock,
  type KalshiFrame,
  type Rng,
  type SettlementResult,
  type SharedOrderbookState,
  formatPrice,
  parseCountCenti,
  parseMicros,
  parsePriceUnits,
  settlementOf,
  systemClock,
} from '@kflow/orderbook';
import {
  type ActionContext,
  type ActionSpace,
  type DecisionFill,
  type DecisionModel,
  type DecisionOutcome,
  type DecisionOverride,
  type DecisionRecord,
  type OrderRequest,
  type PaperClient,
  type PositionFeaturesBuffer,
  type TradingSetup,
  actionMask,
  actionToOrder,
  createActionSpace,
  createOrderBody,
  createPaperClient,
  createPositionFeatures,
  encodeDecision,
  tradingSetupDifference,
} from '@kflow/paper';
import { actorError } from './errors';
import { LatencyWindow } from './latencyWindow';
import type { ActorModel, Deployment, ModelSource } from './modelSource';

/** Risk controls on top of the trained setup. Overridden choices are logged with the reason. */
export interface ActorRiskLimits {
  /** Largest |position| per market an order may lead to (default: the setup's limit; only tighter values matter). */
  readonly maxPositionCenti?: number;
  /** Largest number of open orders per market; an order that would rest beyond it is not sent (default 10). */
  readonly maxOpenOrders?: number;
  /**
   * Stop trading when the run's PnL over all markets (marked to mid, fees included) falls below minus
   * this many micro-dollars: each market cancels its open orders at its next decision and holds after.
   */
  readonly sessionLossLimitMicros?: number;
}

/** One row of the action log, in the shape of `@kflow/ingest`'s `TradingActionRecord` (its `ActionWriteQueue` fits). */
export interface ActionLogRow {
  readonly episodeId: number;
  /** Decision number within the run (all markets). */
  readonly step: number;
  readonly tsMs: number;
  readonly market: string;
  readonly action: number;
  readonly details: Readonly<Record<string, unknown>>;
  readonly observationHash: string;
  /** Δ value of the step × the setup's reward scale (what training would have been rewarded), or null. */
  readonly reward: number | null;
  readonly executed: boolean;
  readonly executionResult: unknown;
}

/** Where decisions go (synchronous and non-blocking: a write queue). */
export interface ActionLog {
  /** Queues one decision row; must not block or throw on I/O. */
  enqueue(row: ActionLogRow): void;
}

/** A hot reload that happened. */
export interface ReloadReport {
  readonly id: string;
  readonly version: number;
  /** Time to load and validate the model (off the decision path), ms. */
  readonly loadMs: number;
  /** Wall time from the deployment to the new model's first decision, ms (null until it decided). */
  readonly deployToFirstDecisionMs: number | null;
  /**
   * Decisions due between the deployment and the new model's first decision that no model made (a policy
   * that threw): counted, and each also shows as a missing row to the audit.
   */
  readonly missedTicks: number;
}

/** A model the actor refused (the running model kept trading). */
export interface RefusalReport {
  readonly id: string;
  readonly version: number;
  readonly reason: string;
}

/** What the actor reports as it runs. */
export type ActorEvent =
  | { readonly type: 'decision'; readonly record: DecisionRecord }
  | { readonly type: 'fill'; readonly market: string; readonly fill: DecisionFill; readonly feeMicros: number; readonly tsMs: number }
  | { readonly type: 'reload'; readonly reload: ReloadReport }
  | { readonly type: 'refused'; readonly refusal: RefusalReport }
  | { readonly type: 'halt'; readonly pnlMicros: number; readonly limitMicros: number }
  | { readonly type: 'settled'; readonly market: string; readonly result: SettlementResult; readonly pnlMicros: number }
  | { readonly type: 'error'; readonly message: string };

/** One market as the actor sees it (for status tables). */
export interface ActorMarketStatus {
  readonly ticker: string;
  readonly decisions: number;
  readonly positionCenti: number;
  /** Value change since the market's first decision (marked to mid, fees included), micro-dollars. */
  readonly pnlMicros: number;
  readonly lastAction: string | undefined;
  readonly modelVersion: number | undefined;
  readonly settled: boolean;
  readonly stale: boolean;
}

/** The run so far. */
export interface ActorSummary {
  readonly mode: 'paper';
  readonly decisions: number;
  readonly orders: number;
  readonly fills: number;
  readonly feesPaidMicros: number;
  /** Σ over markets of value − starting cash (marked to mid, fees included), micro-dollars. */
  readonly pnlMicros: number;
  readonly markets: number;
  readonly model: DecisionModel | undefined;
  /** Versions that made decisions, in order of first use. */
  readonly modelVersions: readonly number[];
  readonly reloads: readonly ReloadReport[];
  readonly refusals: readonly RefusalReport[];
  readonly overrides: Readonly<Record<DecisionOverride, number>>;
  readonly halted: boolean;
  /** Book event in → order accepted, µs, over the latest decisions. */
  readonly decisionLatencyMicros: { readonly p50: number; readonly p99: number; readonly max: number };
}

/** Options of {@link createActor}. */
export interface ActorOptions {
  /** Must be `'paper'`; anything else (notably `'live'`) throws `LIVE_MODE_FORBIDDEN`. */
  readonly mode: string;
  /** The live books (the collector's). Start the actor before the collector: it must see each market from its first snapshot. */
  readonly state: SharedOrderbookState;
  readonly models: ModelSource;
  /** Markets to trade (default `'all'`: every market that gets a book). */
  readonly markets?: readonly string[] | 'all';
  /** Order ids of the paper client. */
  readonly rng: Rng;
  readonly risk?: ActorRiskLimits;
  /** Decisions go here (with `episodeId`), each once its step is complete. */
  readonly log?: ActionLog;
  /** The episode the log rows belong to (default 0). */
  readonly episodeId?: number;
  /** Receives every decision and fill, and reloads, refusals, halts, settlements and errors, as they happen. */
  readonly onEvent?: (event: ActorEvent) => void;
  /** Wall clock for reload timings (default the system clock). */
  readonly clock?: Clock;
  /** High-resolution time in ms for decision latency (default `performance.now`). */
  readonly timer?: () => number;
}

interface OpenDecision {
  readonly runStep: number;
  readonly record: Omit<DecisionRecord, 'outcome'>;
  readonly valueMicros: number;
}

/** One traded market: the state the env keeps per episode. */
interface MarketRun {
  readonly ticker: string;
  readonly temporal: TemporalState;
  readonly account: PositionFeaturesBuffer;
  readonly ctx: { book: ActionContext['book']; positionCenti: number; maxPositionCenti: number; openOrderCount: number };
  /** Events applied since the first snapshot (the env's `eventIndex`). */
  eventIndex: number;
  step: number;
  nextTickMs: number;
  open: OpenDecision | undefined;
  fills: DecisionFill[];
  pnlMicros: number;
  lastAction: string | undefined;
  modelVersion: number | undefined;
  settled: boolean;
}

interface PendingModel {
  readonly model: ActorModel;
  readonly deployedMs: number;
  readonly loadMs: number;
}

const NO_OVERRIDES: Readonly<Record<DecisionOverride, number>> = { stale: 0, 'loss-limit': 0, halted: 0, 'max-open-orders': 0, 'position-limit': 0 };

/**
 * The inference-only live actor: one market-agnostic policy over many live markets, trading on paper.
 *
 * For each market it keeps what the training env keeps for an episode (a `TemporalState`, and a paper
 * account of the setup's starting cash inside one `PaperClient`), and decides exactly when the env would:
 * on a grid of exchange time from the market's first snapshot (`{ everyMs }` cadence), having seen
 * exactly the events stamped at or before each grid point (it decides in the `before` hook of the first
 * event past the point), or after every event (`'event'` cadence). Each decision builds the observation
 * with `@kflow/features`' builder from the shared book, applies `@kflow/paper`'s mask, asks the policy,
 * and sends the order through the paper client (whose clock is exchange time, so fills come from the same
 * matching engine at the same times as in a replay). The decision, and once the step is over its fills
 * and account, go to the action log: `auditDecisions` in `@kflow/env` replays the session and must find
 * the same, bit for bit.
 *
 * New deployments are loaded off the decision path, validated (feature set, shapes, trading setup, a
 * trial inference) and swapped in at the next decision; positions and open orders carry over. A model that
 * fails validation is refused, reported, and the running one keeps trading.
 *
 * @example
 * const actor = createActor({ mode: 'paper', state, models, rng: createRng(1), log: actionQueue, episodeId });
 * await actor.start();            // before the collector starts
 * collector.client.addSink((frame) => actor.handleFrame(frame)); // settlements
 * await collector.start(); ... const summary = await actor.stop();
 */
export class Actor {
  private readonly options: ActorOptions;
  private readonly state: SharedOrderbookState;
  private readonly clock: Clock;
  private readonly timer: () => number;
  private readonly tradeSet: ReadonlySet<string> | undefined;
  private readonly runs = new Map<string, MarketRun>();
  private readonly observation = new Float32Array(OBSERVATION_SIZE);
  private readonly latency = new LatencyWindow();
  private client: PaperClient | undefined;
  private setup: TradingSetup | undefined;
  private space: ActionSpace | undefined;
  private mask = new Uint8Array(0);
  private cadenceMs = 0;
  private model: ActorModel | undefined;
  private pending: PendingModel | undefined;
  private deploySeq = 0;
  private stopWatching: (() => Promise<void>) | undefined;
  private unsubscribe: (() => void) | undefined;
  private started = false;
  private stopped = false;
  /** Exchange time the paper client runs on: the event being applied, or the decision's grid point. */
  private exchangeNowMs = 0;
  /** When the event being applied entered the book (decision latency starts there). */
  private eventStartMs = 0;
  private decisions = 0;
  private orders = 0;
  private fills = 0;
  private sessionPnlMicros = 0;
  private halted = false;
  private readonly overrides: Record<DecisionOverride, number> = { ...NO_OVERRIDES };
  private readonly reloads: ReloadReport[] = [];
  private readonly refusals: RefusalReport[] = [];
  private readonly versions: number[] = [];
  /** The reload whose first decision is awaited. */
  private awaiting: { index: number; deployedMs: number; missedBefore: number } | undefined;
  /** Decisions lost to a policy that threw. */
  private missedTicks = 0;
  /** `missedTicks` when the latest deployment was announced. */
  private missedAtDeployment = 0;

  constructor(options: ActorOptions) {
    if (options.mode !== 'paper') {
      throw actorError('LIVE_MODE_FORBIDDEN', `The actor trades only in mode 'paper' (got ${JSON.stringify(options.mode)}); live trading is not supported`);
    }
    const risk = options.risk ?? {};
    for (const [key, value] of Object.entries(risk)) {
      if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) {
        throw actorError('INVALID_OPTIONS', `risk.${key} must be a positive integer, got ${String(value)}`);
      }
    }
    this.options = options;
    this.state = options.state;
    this.clock = options.clock ?? systemClock;
    this.timer = options.timer ?? (() => performance.now());
    this.tradeSet = options.markets === undefined || options.markets === 'all' ? undefined : new Set(options.markets);
  }

  /** The paper trading account (Kalshi's order, position, fill and balance API). Available after `start()`. */
  get paper(): PaperClient {
    if (this.client === undefined) throw actorError('ACTOR_STATE', 'the actor has not started');
    return this.client;
  }

  /** The trading setup of the running model (after `start()`). */
  get tradingSetup(): TradingSetup | undefined {
    return this.setup;
  }

  /**
   * Loads and validates the current deployment, opens the paper account and starts following the books.
   * Throws `NO_DEPLOYED_MODEL` or `MODEL_REFUSED` (nothing started).
   */
  async start(): Promise<void> {
    if (this.started) throw actorError('ACTOR_STATE', 'the actor was already started');
    this.started = true;
    const deployment = await this.options.models.current();
    const model = await deployment.load();
    const problem = validateModel(model, undefined);
    if (problem !== undefined) {
      throw actorError('MODEL_REFUSED', `${model.name} v${model.version} cannot trade: ${problem}`, { details: { id: model.id } });
    }
    const setup = model.setup;
    this.setup = setup;
    this.model = model;
    this.space = createActionSpace({ sizesCenti: setup.sizesCenti, tradingKinds: setup.tradingKinds });
    this.mask = new Uint8Array(this.space.count);
    this.cadenceMs = setup.cadence === 'event' ? 0 : setup.cadence.everyMs;
    this.client = createPaperClient({
      mode: 'paper',
      state: this.state,
      clock: { now: () => this.exchangeNowMs },
      rng: this.options.rng,
      cashMicros: 0,
      marketCashMicros: setup.initialCashMicros,
      precision: setup.precision,
      queueModel: setup.queueModel,
      ...(setup.fees === undefined ? {} : { defaultFees: setup.fees }),
      ...(setup.latency === undefined ? {} : { latency: setup.latency }),
      ...(this.tradeSet === undefined ? {} : { tickers: [...this.tradeSet] }),
    });
    this.client.subscribe((event) => {
      if (event.type !== 'fill') return;
      const m = event.msg;
      const run = this.runs.get(m.market_ticker);
      const fill: DecisionFill = {
        side: m.book_side,
        priceUnits: parsePriceUnits(m.yes_price_dollars),
        countCenti: parseCountCenti(m.count_fp),
        isTaker: m.is_taker,
      };
      this.fills++;
      run?.fills.push(fill);
      this.emit({ type: 'fill', market: m.market_ticker, fill, feeMicros: parseMicros(m.fee_cost), tsMs: m.ts_ms });
    });
    const listener: BookEventListener = { before: (e) => this.before(e), after: (e, r) => this.after(e, r) };
    this.unsubscribe = this.state.subscribeEvents(listener);
    this.stopWatching = this.options.models.watch(
      (d) => this.onDeployment(d),
      (error) => this.emit({ type: 'error', message: `model source: ${describe(error)}` }),
    );
  }

  /**
   * Feeds a frame the books do not carry: `market_lifecycle_v2` settlements (pass every frame; others are
   * ignored). Matches `FrameSink`, so `collector.client.addSink((frame) => actor.handleFrame(frame))`.
   */
  handleFrame(frame: KalshiFrame): void {
    if (frame.type !== 'market_lifecycle_v2') return;
    const settlement = settlementOf(frame, this.exchangeNowMs);
    if (settlement !== undefined) this.settle(frame.ticker, settlement.result, settlement.yesPayoutUnits);
  }

  /**
   * Settles a market: the paper account pays out (open orders are canceled), the market's last decision
   * gets its outcome, and the market makes no more decisions.
   */
  settle(ticker: string, result: SettlementResult, yesPayoutUnits: number): void {
    const run = this.runs.get(ticker);
    if (run === undefined || run.settled || this.client === undefined) return;
    const settled = this.client.settle(ticker, result, formatPrice(yesPayoutUnits));
    if (!settled.ok) {
      this.emit({ type: 'error', message: `settling ${ticker}: ${settled.error.message}` });
      return;
    }
    run.settled = true;
    this.closeStep(run, this.client.writePositionFeatures(ticker, run.account));
    this.emit({ type: 'settled', market: ticker, result, pnlMicros: run.pnlMicros });
  }

  /**
   * Stops: no more decisions, open orders canceled, the last decision of each market logged (its step
   * unfinished: outcome null), the paper account closed. Returns the run's summary.
   */
  async stop(): Promise<ActorSummary> {
    if (this.stopped) return this.summary();
    this.stopped = true;
    this.unsubscribe?.();
    await this.stopWatching?.();
    const client = this.client;
    if (client !== undefined) {
      for (const run of this.runs.values()) {
        for (const id of client.openOrderIds(run.ticker)) client.cancelOrder(id);
        if (run.open !== undefined) this.writeRow(run, run.open, null);
        run.open = undefined;
      }
      client.close();
    }
    return this.summary();
  }

  /** The run so far (counts, PnL, reloads, refusals, latency). */
  summary(): ActorSummary {
    let fees = 0;
    for (const run of this.runs.values()) fees += this.client?.marketPosition(run.ticker)?.feesPaidMicros ?? 0;
    return {
      mode: 'paper',
      decisions: this.decisions,
      orders: this.orders,
      fills: this.fills,
      feesPaidMicros: fees,
      pnlMicros: this.sessionPnlMicros,
      markets: this.runs.size,
      model: this.model && { id: this.model.id, name: this.model.name, version: this.model.version },
      modelVersions: [...this.versions],
      reloads: [...this.reloads],
      refusals: [...this.refusals],
      overrides: { ...this.overrides },
      halted: this.halted,
      decisionLatencyMicros: this.latency.summary(),
    };
  }

  /** Every traded market, in order of first snapshot. */
  marketStatus(): ActorMarketStatus[] {
    return [...this.runs.values()].map((run) => ({
      ticker: run.ticker,
      decisions: run.step,
      positionCenti: this.client?.marketPosition(run.ticker)?.positionCenti ?? 0,
      pnlMicros: run.pnlMicros,
      lastAction: run.lastAction,
      modelVersion: run.modelVersion,
      settled: run.settled,
      stale: this.state.book(run.ticker)?.stale ?? false,
    }));
  }

  // ---------------------------------------------------------------------------------------------------

  private before(event: BookEvent): void {
    this.eventStartMs = this.timer();
    this.exchangeNowMs = event.tsMs;
    const run = this.runs.get(event.ticker);
    if (run === undefined || this.cadenceMs === 0 || run.settled || this.stopped) return;
    // Every grid point strictly before this event is decided on the book as it is now (events ≤ it).
    while (run.nextTickMs < event.tsMs) {
      this.decide(run, run.nextTickMs);
      run.nextTickMs += this.cadenceMs;
    }
    this.exchangeNowMs = event.tsMs;
  }

  private after(event: BookEvent, result: ApplyResult): void {
    if (this.stopped || result.event === undefined) return; // a refused delta changed nothing (and is not recorded)
    const run = this.runs.get(event.ticker);
    if (run === undefined) {
      if (event.kind === 'snapshot' && (this.tradeSet === undefined || this.tradeSet.has(event.ticker))) this.join(event);
      return;
    }
    if (run.settled) return;
    run.temporal.observeEvent(event, this.state.book(event.ticker)!);
    run.eventIndex++;
    if (this.cadenceMs === 0) this.decide(run, event.tsMs);
  }

  /** A market's first snapshot: its episode starts, with a decision on that snapshot (the env's reset). */
  private join(event: BookEvent): void {
    const setup = this.setup!;
    const run: MarketRun = {
      ticker: event.ticker,
      temporal: new TemporalState(),
      account: createPositionFeatures(setup.positionLimitCenti),
      ctx: { book: this.state.book(event.ticker)!, positionCenti: 0, maxPositionCenti: setup.positionLimitCenti, openOrderCount: 0 },
      eventIndex: 0,
      step: 0,
      nextTickMs: event.tsMs + this.cadenceMs,
      open: undefined,
      fills: [],
      pnlMicros: 0,
      lastAction: undefined,
      modelVersion: undefined,
      settled: false,
    };
    this.runs.set(event.ticker, run);
    run.temporal.observeEvent(event, this.state.book(event.ticker)!);
    this.decide(run, event.tsMs);
  }

  /** One decision at exchange time `tsMs`: exactly the env's observe → act → execute. */
  private decide(run: MarketRun, tsMs: number): void {
    const client = this.client!;
    const space = this.space!;
    this.exchangeNowMs = tsMs;
    client.advance(); // order actions due by now (latency), as the env's advanceTo at the decision time
    if (this.pending !== undefined) this.swap();
    const model = this.model!;
    const book = this.state.book(run.ticker)!;
    const account = client.writePositionFeatures(run.ticker, run.account);
    this.closeStep(run, account);
    buildObservation(this.observation, book, run.temporal, account, tsMs);
    const ctx = run.ctx;
    ctx.book = book;
    ctx.positionCenti = account.positionCenti;
    ctx.openOrderCount = client.openOrderCount(run.ticker);
    const mask = actionMask(space, ctx, this.mask);

    let override: DecisionOverride | null = null;
    let policyAction: number | null = null;
    let action = 0;
    if (this.halted) {
      override = ctx.openOrderCount > 0 ? 'loss-limit' : 'halted';
      action = override === 'loss-limit' ? space.count - 1 : 0;
    } else if (book.stale) {
      override = 'stale';
    } else {
      let chosen: number;
      try {
        chosen = model.policy.act(this.observation, mask);
        if (!(Number.isInteger(chosen) && chosen >= 0 && chosen < space.count)) throw new Error(`returned ${String(chosen)}, not an action of [0, ${space.count})`);
      } catch (error) {
        // The tick is lost (no order, no row): counted, reported, and visible to the audit as a gap.
        this.missedTicks++;
        run.step++;
        this.emit({ type: 'error', message: `${model.name} v${model.version} failed to decide on ${run.ticker}: ${describe(error)}` });
        return;
      }
      policyAction = chosen;
      action = chosen;
      override = this.riskOverride(action, ctx);
      if (override !== null) action = 0;
    }
    const executed = this.execute(run, action, ctx);
    if (override !== null) this.overrides[override]++;

    const runStep = this.decisions++;
    const record: Omit<DecisionRecord, 'outcome'> = {
      market: run.ticker,
      step: run.step++,
      tsMs,
      eventIndex: run.eventIndex,
      observation: this.observation.slice(),
      mask: mask.slice(),
      policyAction,
      action,
      override,
      executed: executed.ok,
      order: executed.order,
      reject: executed.reject,
      model: { id: model.id, name: model.name, version: model.version },
      latencyMicros: (this.timer() - this.eventStartMs) * 1000,
    };
    this.latency.record(record.latencyMicros);
    run.open = { runStep, record, valueMicros: account.portfolioValueMicros };
    run.lastAction = space.actions[action]!.kind;
    run.modelVersion = model.version;
    if (this.versions[this.versions.length - 1] !== model.version) this.versions.push(model.version);
    if (this.awaiting !== undefined) {
      const reload = this.reloads[this.awaiting.index]!;
      this.reloads[this.awaiting.index] = {
        ...reload,
        deployToFirstDecisionMs: this.clock.now() - this.awaiting.deployedMs,
        missedTicks: this.missedTicks - this.awaiting.missedBefore,
      };
      this.emit({ type: 'reload', reload: this.reloads[this.awaiting.index]! });
      this.awaiting = undefined;
    }
    this.emit({ type: 'decision', record: { ...record, outcome: null } });
  }

  /** Why a risk control replaces the policy's choice with HOLD, or null. */
  private riskOverride(action: number, ctx: MarketRun['ctx']): DecisionOverride | null {
    const a = this.space!.actions[action];
    if (a === undefined || a.intent === undefined) return null;
    const risk = this.options.risk ?? {};
    // Only orders that can rest count against the open-order limit (`*_NOW` orders are IOC).
    if (!a.take && ctx.openOrderCount >= (risk.maxOpenOrders ?? 10)) return 'max-open-orders';
    const limit = risk.maxPositionCenti;
    if (limit !== undefined && a.intent === 'buy') {
      const next = a.outcome === 'yes' ? ctx.positionCenti + a.sizeCenti : ctx.positionCenti - a.sizeCenti;
      if (Math.abs(next) > limit && Math.abs(next) >= Math.abs(ctx.positionCenti)) return 'position-limit';
    }
    return null;
  }

  /** Executes an action the way the env's `step` does; `ok` false is the env's `infeasible`. */
  private execute(run: MarketRun, action: number, ctx: ActionContext): { ok: boolean; order: OrderRequest | null; reject: string | null } {
    const client = this.client!;
    const space = this.space!;
    const a = space.actions[action]!;
    if (a.kind === 'HOLD') return { ok: true, order: null, reject: null };
    if (a.kind === 'CANCEL_ALL') {
      const ids = client.openOrderIds(run.ticker);
      for (const id of ids) client.cancelOrder(id);
      return { ok: ids.length > 0, order: null, reject: null };
    }
    const order = actionToOrder(space, a, ctx);
    if (order === undefined) return { ok: false, order: null, reject: null };
    const response = client.createOrder(createOrderBody(run.ticker, order));
    if (!response.ok) return { ok: false, order, reject: response.error.code };
    this.orders++;
    return { ok: true, order, reject: null };
  }

  /** Completes the market's open decision with the account as of now (the env's `info` after the step). */
  private closeStep(run: MarketRun, account: PositionFeaturesInput): void {
    const value = account.portfolioValueMicros;
    const pnl = value - this.setup!.initialCashMicros;
    this.sessionPnlMicros += pnl - run.pnlMicros;
    run.pnlMicros = pnl;
    const open = run.open;
    if (open !== undefined) {
      const outcome: DecisionOutcome = {
        fills: run.fills,
        positionCenti: account.positionCenti,
        cashMicros: account.cashMicros,
        valueMicros: value,
        pnlMicros: pnl,
        feesMicros: this.client!.marketPosition(run.ticker)?.feesPaidMicros ?? 0,
      };
      this.writeRow(run, open, outcome);
      run.open = undefined;
    }
    run.fills = [];
    const limit = this.options.risk?.sessionLossLimitMicros;
    if (!this.halted && limit !== undefined && this.sessionPnlMicros < -limit) {
      this.halted = true;
      this.emit({ type: 'halt', pnlMicros: this.sessionPnlMicros, limitMicros: limit });
    }
  }

  private writeRow(run: MarketRun, open: OpenDecision, outcome: DecisionOutcome | null): void {
    const log = this.options.log;
    if (log === undefined) return;
    const encoded = encodeDecision({ ...open.record, outcome });
    log.enqueue({
      episodeId: this.options.episodeId ?? 0,
      step: open.runStep,
      tsMs: open.record.tsMs,
      market: run.ticker,
      action: open.record.action,
      details: encoded.details,
      observationHash: encoded.observationHash,
      reward: outcome === null ? null : (outcome.valueMicros - open.valueMicros) * this.setup!.rewardScale,
      executed: open.record.executed,
      executionResult: encoded.executionResult,
    });
  }

  private onDeployment(deployment: Deployment): void {
    if (this.stopped) return;
    const seq = ++this.deploySeq;
    const started = this.timer();
    this.missedAtDeployment = this.missedTicks;
    deployment.load().then(
      (model) => {
        if (seq !== this.deploySeq || this.stopped) return; // a newer deployment superseded this one
        const problem = validateModel(model, this.setup);
        if (problem !== undefined) return this.refuse(deployment, problem);
        this.pending = { model, deployedMs: deployment.deployedMs, loadMs: this.timer() - started };
      },
      (error: unknown) => {
        if (seq === this.deploySeq && !this.stopped) this.refuse(deployment, `cannot load: ${describe(error)}`);
      },
    );
  }

  private refuse(deployment: Deployment, reason: string): void {
    const refusal: RefusalReport = { id: deployment.id, version: deployment.version, reason };
    this.refusals.push(refusal);
    this.emit({ type: 'refused', refusal });
  }

  /** At a decision boundary: the validated model takes over (positions and orders stay). */
  private swap(): void {
    const pending = this.pending!;
    this.pending = undefined;
    this.model = pending.model;
    this.reloads.push({ id: pending.model.id, version: pending.model.version, loadMs: pending.loadMs, deployToFirstDecisionMs: null, missedTicks: 0 });
    this.awaiting = { index: this.reloads.length - 1, deployedMs: pending.deployedMs, missedBefore: this.missedAtDeployment };
  }

  private emit(event: ActorEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // A listener's failure must not stop trading.
    }
  }
}

/**
 * Why `model` cannot trade (with the running setup, if any), or undefined: the observation builder it was
 * trained with must be the running one, its shapes must match the action space of its setup, a reload
 * must keep the setup, and one trial inference must return a valid action.
 */
export function validateModel(model: ActorModel, running: TradingSetup | undefined): string | undefined {
  const { policy, setup } = model;
  if (setup.featureSetVersion !== FEATURE_SET_VERSION) {
    return `trained on feature set ${setup.featureSetVersion}, the running builder is ${FEATURE_SET_VERSION}`;
  }
  const names = FEATURE_SPEC.features.map((f) => f.name);
  if (setup.featureNames.join(',') !== names.join(',')) return 'its feature names differ from the running builder';
  if (policy.featureSetVersion !== setup.featureSetVersion) return `policy feature set ${policy.featureSetVersion} ≠ setup ${setup.featureSetVersion}`;
  if (policy.observationSize !== OBSERVATION_SIZE) return `observes ${policy.observationSize} floats, the builder gives ${OBSERVATION_SIZE}`;
  const space = createActionSpace({ sizesCenti: setup.sizesCenti, tradingKinds: setup.tradingKinds });
  if (policy.actionCount !== space.count) return `acts in ${policy.actionCount} actions, its setup has ${space.count}`;
  if (running !== undefined) {
    const difference = tradingSetupDifference(running, setup);
    if (difference !== undefined) return `its trading setup differs from the running one (${difference})`;
  }
  // A trial inference on a neutral observation with only HOLD and CANCEL_ALL allowed.
  const trial = new Float32Array(OBSERVATION_SIZE);
  FEATURE_SPEC.features.forEach((f, i) => (trial[i] = (f.min + f.max) / 2));
  const mask = new Uint8Array(space.count);
  mask[0] = 1;
  mask[space.count - 1] = 1;
  let action: number;
  try {
    action = policy.act(trial, mask);
  } catch (error) {
    return `trial inference failed: ${describe(error)}`;
  }
  if (!Number.isInteger(action) || mask[action] !== 1) return `trial inference returned ${String(action)}, not an allowed action`;
  return undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Creates the live actor (see {@link Actor}). Throws `LIVE_MODE_FORBIDDEN` unless `mode` is `'paper'`.
 *
 * @example
 * const actor = createActor({ mode: 'paper', state: collectorState, models, rng: createRng(7) });
 */
export function createActor(options: ActorOptions): Actor {
  return new Actor(options);
}
