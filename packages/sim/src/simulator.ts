import {
  type BookView,
  type DeltaEvent,
  KflowError,
  OrderBook,
  PRICE_ONE,
  type Rng,
  type Side,
  type TradeEvent,
  createRng,
  uuidFromRng,
} from '@kflow/orderbook';
import type { SimConfig } from './config';
import { validateSimConfig } from './config';
import type { SimErrorCode } from './errors';
import { type TickGrid, createTickGrid } from './tickGrid';

/** A public trade from the simulator (a `TradeEvent` with Kalshi's `trade_id`). */
export interface SimTradeEvent extends TradeEvent {
  readonly tradeId: string;
}

/** A `market_lifecycle_v2` event: the market is determined, then settled, at the end of the session. */
export interface SimLifecycleEvent {
  readonly kind: 'lifecycle';
  readonly ticker: string;
  readonly tsMs: number;
  readonly eventType: 'determined' | 'settled';
  readonly result: 'yes' | 'no';
  /** Payout of one YES contract in price units (10,000 or 0). */
  readonly settlementValueUnits: number;
}

/** Everything the simulator publishes, in exchange-time order. Latent values are never in here. */
export type SimEvent = DeltaEvent | SimTradeEvent | SimLifecycleEvent;

/** One point of the oracle stream: a market's latent probability (for evaluation only). */
export interface OracleRecord {
  readonly ticker: string;
  readonly tsMs: number;
  readonly latent: number;
}

/** A simulated market's identity. */
export interface SimMarket {
  readonly index: number;
  readonly ticker: string;
  readonly marketId: string;
  readonly grid: TickGrid;
}

/** Options of {@link createSimulator}. */
export interface SimulatorOptions {
  /** Receives the latent probability of each market at every latent step (the oracle stream). */
  readonly onOracle?: (record: OracleRecord) => void;
}

/**
 * A seeded, event-driven market simulator on a virtual clock. Pull events with `next()` until it returns
 * undefined; `book(ticker)` is the simulator's current book (after every event pulled so far).
 */
export interface Simulator {
  readonly config: SimConfig;
  readonly markets: readonly SimMarket[];
  /** The simulator's current book of a market (after every event pulled so far), or undefined for an unknown ticker. */
  book(ticker: string): BookView | undefined;
  /** The next event, or undefined once every market has settled. */
  next(): SimEvent | undefined;
  /** Exchange time of the next event without consuming it (Infinity when done). */
  peekTsMs(): number;
  readonly done: boolean;
  /** Outcome per ticker once settled. */
  readonly results: ReadonlyMap<string, 'yes' | 'no'>;
}

const LOGIT_CLAMP = 4.6; // latent stays within about [0.01, 0.99]
const REGIME_QUIET = 0;
const REGIME_NORMAL = 1;
const REGIME_BURST = 2;
const SIDES: readonly Side[] = ['yes', 'no'];

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The desired maker ladder of one side: prices (that side's bid prices) and target sizes. */
class Ladder {
  readonly prices: Int32Array;
  readonly targets: Float64Array;
  length = 0;
  constructor(capacity: number) {
    this.prices = new Int32Array(capacity);
    this.targets = new Float64Array(capacity);
  }
  indexOf(price: number): number {
    for (let i = 0; i < this.length; i++) if (this.prices[i] === price) return i;
    return -1;
  }
}

class MarketModel {
  readonly book: OrderBook;
  private readonly ladders: Record<Side, Ladder>;
  private x: number;
  latent: number;
  private center: number;
  private volEst = 0; // EWMA of squared maker-center moves, cents² per second
  private regime = REGIME_NORMAL;
  private excitation = 0;
  private excitationAt = 0;
  private nextStepAt: number;
  /** Virtual ms (since session start) of this market's next event. */
  nextAt = 0;
  private pending: 'step' | 'taker' | 'cancel' | 'replenish' | 'regime' = 'step';
  private rates = { taker: 0, cancel: 0, replenish: 0, regime: 0, takerBase: 0 };

  constructor(
    readonly market: SimMarket,
    private readonly config: SimConfig,
    private readonly rng: Rng,
    private readonly emit: (event: SimEvent) => void,
    private readonly onOracle: ((record: OracleRecord) => void) | undefined,
  ) {
    this.book = new OrderBook(market.ticker);
    const l = config.latent;
    this.latent = l.initialMin + (l.initialMax - l.initialMin) * rng.next();
    this.x = Math.log(this.latent / (1 - this.latent));
    this.center = this.latent;
    this.ladders = { yes: new Ladder(config.makers.levels), no: new Ladder(config.makers.levels) };
    this.computeLadder();
    const level = (side: Side) => {
      const d = this.ladders[side];
      const out: [number, number][] = [];
      for (let i = d.length - 1; i >= 0; i--) out.push([d.prices[i]!, d.targets[i]!]);
      return out;
    };
    this.book.applySnapshot(level('yes'), level('no'));
    this.nextStepAt = l.stepMs;
    this.oracle(0);
    this.schedule(0);
  }

  private tsMs(t: number): number {
    return this.config.startMs + Math.floor(t);
  }

  private oracle(t: number): void {
    this.onOracle?.({ ticker: this.market.ticker, tsMs: this.tsMs(t), latent: this.latent });
  }

  private regimeConfig() {
    const r = this.config.regimes;
    return this.regime === REGIME_QUIET ? r.quiet : this.regime === REGIME_BURST ? r.burst : r.normal;
  }

  private excitationAtTime(t: number): number {
    return this.excitation * Math.exp((-this.config.takers.hawkesDecayPerSec * (t - this.excitationAt)) / 1000);
  }

  /** Informed arrival rate per second: rises with how far the latent lies beyond the touch. */
  private informedRate(): number {
    const t = this.config.takers;
    const excess = Math.max(0, this.informedExcessCents(1), this.informedExcessCents(-1));
    return Math.min(t.informedMaxRatePerSec, t.informedRatePerCent * excess);
  }

  /** Cents by which buying YES (dir 1) or NO (dir -1) at the touch is worth it to someone who knows the latent. */
  private informedExcessCents(dir: 1 | -1): number {
    const l = this.latent * PRICE_ONE;
    const edge = this.config.takers.informedMinEdgeCents;
    if (dir === 1) {
      const ask = this.book.bestAsk('yes');
      return ask < 0 ? 0 : (l - ask) / 100 - edge;
    }
    const bid = this.book.bestBid('yes');
    return bid < 0 ? 0 : (bid - l) / 100 - edge;
  }

  /** Draws the time and kind of this market's next event (Gillespie with thinning for the Hawkes part). */
  private schedule(t: number): void {
    const reg = this.regimeConfig();
    const c = this.config;
    const r = this.rates;
    r.takerBase = reg.activity * c.takers.noiseRatePerSec + this.informedRate();
    r.taker = r.takerBase + this.excitationAtTime(t);
    r.cancel = reg.activity * c.book.cancelRatePerSec;
    r.replenish = reg.activity * c.book.replenishRatePerSec;
    r.regime = 1 / reg.meanDurationSec;
    const total = r.taker + r.cancel + r.replenish + r.regime;
    const candidate = total > 0 ? t - (Math.log(1 - this.rng.next()) * 1000) / total : Number.POSITIVE_INFINITY;
    if (candidate >= this.nextStepAt) {
      this.nextAt = this.nextStepAt;
      this.pending = 'step';
      return;
    }
    this.nextAt = candidate;
    let u = this.rng.next() * total;
    if ((u -= r.taker) < 0) this.pending = 'taker';
    else if ((u -= r.cancel) < 0) this.pending = 'cancel';
    else if ((u -= r.replenish) < 0) this.pending = 'replenish';
    else this.pending = 'regime';
  }

  fire(): void {
    const t = this.nextAt;
    switch (this.pending) {
      case 'step':
        this.latentStep(t);
        break;
      case 'taker': {
        // Thinning: the excitation decayed since the rate was drawn.
        const now = this.rates.takerBase + this.excitationAtTime(t);
        if (this.rng.next() * this.rates.taker < now) this.takerArrival(t);
        break;
      }
      case 'cancel':
        this.cancel(t);
        break;
      case 'replenish':
        this.replenish(t);
        break;
      case 'regime':
        this.switchRegime();
        break;
    }
    this.schedule(t);
  }

  private latentStep(t: number): void {
    const c = this.config;
    const l = c.latent;
    const dt = l.stepMs / 1000;
    const progress = Math.min(1, t / c.durationMs);
    const vol = l.volPerSqrtSec * this.regimeConfig().vol * (1 + l.closeVolBoost * progress ** 3);
    // Itô-corrected logit step: the latent probability is a martingale.
    this.x += vol * Math.sqrt(dt) * this.rng.normal() + (this.latent - 0.5) * vol * vol * dt;
    if (l.jumpsPerMin > 0 && this.rng.next() < 1 - Math.exp((-l.jumpsPerMin / 60) * dt)) {
      const size = -l.jumpSizeLogit * Math.log(1 - this.rng.next());
      const p = sigmoid(this.x);
      const up = sigmoid(this.x + size);
      const down = sigmoid(this.x - size);
      // Up with the probability that keeps E[p] unchanged: jumps carry no drift either.
      this.x += this.rng.next() < (p - down) / (up - down) ? size : -size;
    }
    this.x = Math.max(-LOGIT_CLAMP, Math.min(LOGIT_CLAMP, this.x));
    this.latent = sigmoid(this.x);
    // Makers' estimate: exponential lag with time constant edge × lagMaxMs (no lag at edge 0).
    const tau = c.edge * c.makers.lagMaxMs;
    const previous = this.center;
    this.center = tau > 0 ? this.latent + (this.center - this.latent) * Math.exp(-l.stepMs / tau) : this.latent;
    const moveCents = (this.center - previous) * 100;
    const a = Math.exp(-dt / 10);
    this.volEst = a * this.volEst + ((1 - a) * moveCents * moveCents) / dt;
    this.nextStepAt = t + l.stepMs;
    this.oracle(t);
    this.requote(t);
  }

  /** The makers' desired ladder for the current center and volatility. */
  private computeLadder(): void {
    const m = this.config.makers;
    const grid = this.market.grid;
    const widen = 1 + m.volWidening * Math.sqrt(this.volEst * 10);
    const centerUnits = this.center * PRICE_ONE;
    const half = Math.max(m.halfSpreadCents * 100 * widen, grid.stepAt(centerUnits) / 2);
    let bid = grid.floor(centerUnits - half);
    let ask = grid.ceil(centerUnits + half);
    if (ask <= bid) {
      if (bid >= grid.max) bid = grid.down(grid.max);
      ask = grid.up(bid);
    }
    const spacing = Math.max(1, Math.round(m.levelSpacingTicks * widen));
    const fractional = this.config.fractionalSizes;
    const fill = (ladder: Ladder, first: number, step: (p: number, k: number) => number, toBid: (p: number) => number) => {
      ladder.length = 0;
      for (let k = 0; k < m.levels; k++) {
        const p = k === 0 ? first : step(first, k * spacing);
        if (p < 0) break;
        const contracts = (m.levelSizeContracts * (1 + m.levelSizeGrowth * k)) / widen;
        ladder.prices[ladder.length] = toBid(p);
        ladder.targets[ladder.length] = fractional ? Math.max(1, Math.round(contracts * 100)) : Math.max(1, Math.round(contracts)) * 100;
        ladder.length++;
      }
    };
    fill(this.ladders.yes, bid, grid.down, (p) => p);
    // NO bids mirror the YES asks: a YES ask at p is a NO bid at $1 − p.
    fill(this.ladders.no, ask, grid.up, (p) => PRICE_ONE - p);
  }

  private delta(t: number, side: Side, priceUnits: number, deltaCenti: number): void {
    const result = this.book.applyDelta(side, priceUnits, deltaCenti);
    if (result !== 'ok') {
      throw new KflowError<SimErrorCode>('BROKEN_INVARIANT', `Simulator produced a ${result} book on ${this.market.ticker}`);
    }
    this.emit({ kind: 'delta', ticker: this.market.ticker, tsMs: this.tsMs(t), side, priceUnits, deltaCenti });
  }

  /** Moves the book to the desired ladder: removals first (so it never crosses), then new levels. */
  private requote(t: number): void {
    this.computeLadder();
    const book = this.book;
    for (const side of SIDES) {
      const ladder = this.ladders[side];
      for (let i = book.levelCount(side) - 1; i >= 0; i--) {
        const price = book.priceAt(side, i);
        if (ladder.indexOf(price) < 0) this.delta(t, side, price, -book.sizeAt(side, i));
      }
    }
    for (const side of SIDES) {
      const ladder = this.ladders[side];
      for (let i = 0; i < ladder.length; i++) {
        const price = ladder.prices[i]!;
        if (book.sizeAtPrice(side, price) === 0) this.delta(t, side, price, ladder.targets[i]!);
      }
    }
  }

  private sizeCenti(medianContracts: number, sigma: number): number {
    const contracts = medianContracts * Math.exp(sigma * this.rng.normal());
    return this.config.fractionalSizes ? Math.max(1, Math.round(contracts * 100)) : Math.max(1, Math.round(contracts)) * 100;
  }

  private takerArrival(t: number): void {
    const c = this.config.takers;
    this.excitation = this.excitationAtTime(t) + c.hawkesBranching * c.hawkesDecayPerSec;
    this.excitationAt = t;
    // The arrival is informed with the informed share of the current intensity.
    const informed = this.informedRate();
    const total = this.rates.takerBase + this.excitationAtTime(t);
    if (informed > 0 && this.rng.next() * total < informed) {
      const buyYes = this.informedExcessCents(1) > 0;
      const excess = this.informedExcessCents(buyYes ? 1 : -1);
      const size = this.sizeCenti(c.informedSizeContracts * (1 + excess / 3), 0.5);
      // Aggressive up to (latent − min edge): they walk the book while it still pays.
      const limitYes = Math.round(this.latent * PRICE_ONE - (buyYes ? 1 : -1) * c.informedMinEdgeCents * 100);
      const side: Side = buyYes ? 'yes' : 'no';
      this.take(t, side, size, buyYes ? limitYes : PRICE_ONE - limitYes, Number.POSITIVE_INFINITY);
      // Part of the interest rests as a bid at their side's touch: the footprint that book imbalance shows.
      const rest = this.floorSize(size * c.informedRestFraction);
      const touch = this.book.bestBid(side);
      if (rest > 0 && touch > 0) this.delta(t, side, touch, rest);
    } else {
      const side: Side = this.rng.next() < 0.5 ? 'yes' : 'no';
      this.take(t, side, this.sizeCenti(c.noiseSizeContracts, 0.8), PRICE_ONE, c.noiseMaxLevels);
    }
  }

  /** A taker buys `takerSide` up to `limit` (price of that side) by consuming the other side's bids. */
  private take(t: number, takerSide: Side, sizeCenti: number, limit: number, maxLevels: number): void {
    const book = this.book;
    const opposite: Side = takerSide === 'yes' ? 'no' : 'yes';
    let remaining = sizeCenti;
    for (let levels = 0; remaining > 0 && levels < maxLevels && book.levelCount(opposite) > 0; levels++) {
      const makerPrice = book.bestBid(opposite);
      if (PRICE_ONE - makerPrice > limit) break;
      const fill = Math.min(remaining, book.bestBidSize(opposite));
      this.delta(t, opposite, makerPrice, -fill);
      const yesPriceUnits = takerSide === 'yes' ? PRICE_ONE - makerPrice : makerPrice;
      this.emit({
        kind: 'trade',
        ticker: this.market.ticker,
        tsMs: this.tsMs(t),
        yesPriceUnits,
        countCenti: fill,
        takerSide,
        tradeId: uuidFromRng(this.rng),
      });
      remaining -= fill;
    }
    // Makers keep a quote at their touch: an emptied touch is reposted at once with a fraction of its size.
    const ladder = this.ladders[opposite];
    const touch = ladder.prices[0]!;
    if (ladder.length > 0 && book.sizeAtPrice(opposite, touch) === 0 && touch > book.bestBid(opposite)) {
      const refill = ladder.targets[0]! * this.config.makers.touchRefillFraction;
      this.delta(t, opposite, touch, this.roundSize(refill));
    }
  }

  private floorSize(centi: number): number {
    return this.config.fractionalSizes ? Math.floor(centi) : Math.floor(centi / 100) * 100;
  }

  private roundSize(centi: number): number {
    return this.config.fractionalSizes ? Math.max(1, Math.round(centi)) : Math.max(1, Math.round(centi / 100)) * 100;
  }

  private cancel(t: number): void {
    const side: Side = this.rng.next() < 0.5 ? 'yes' : 'no';
    const n = this.book.levelCount(side);
    if (n === 0) return;
    const index = this.rng.int(n);
    const size = this.book.sizeAt(side, index);
    // Never empty the touch by a cancel: mid moves come from the makers' requotes.
    const max = index === 0 ? this.floorSize(size / 2) : size;
    const amount = Math.min(max, this.roundSize(size * (0.2 + 0.8 * this.rng.next())));
    if (amount > 0) this.delta(t, side, this.book.priceAt(side, index), -amount);
  }

  private replenish(t: number): void {
    const side: Side = this.rng.next() < 0.5 ? 'yes' : 'no';
    const ladder = this.ladders[side];
    if (ladder.length === 0) return;
    const i = this.rng.int(ladder.length);
    const price = ladder.prices[i]!;
    const target = ladder.targets[i]!;
    const size = this.book.sizeAtPrice(side, price);
    // Below target: makers refill part of the gap; at target: a small outside limit order joins the level.
    const add = size < target ? (target - size) * (0.4 + 0.6 * this.rng.next()) : target * (0.05 + 0.15 * this.rng.next());
    this.delta(t, side, price, this.roundSize(add));
  }

  private switchRegime(): void {
    if (this.regime === REGIME_NORMAL) this.regime = this.rng.next() < 0.5 ? REGIME_QUIET : REGIME_BURST;
    else this.regime = REGIME_NORMAL;
  }

  /** Draws the outcome (YES with the final latent probability). */
  settle(): 'yes' | 'no' {
    return this.rng.next() < this.latent ? 'yes' : 'no';
  }
}

/**
 * Creates a simulator for `config` (see `resolveSimConfig`). The same config always yields the same
 * event stream.
 *
 * @example
 * const sim = createSimulator(resolveSimConfig('informed', { seed: 3, markets: 2 }));
 * for (let e = sim.next(); e; e = sim.next()) if (e.kind === 'trade') console.log(e.yesPriceUnits);
 */
export function createSimulator(config: SimConfig, options: SimulatorOptions = {}): Simulator {
  validateSimConfig(config);
  const root = createRng(config.seed);
  const queue: SimEvent[] = [];
  let head = 0;
  const emit = (event: SimEvent) => {
    queue.push(event);
  };
  const models: MarketModel[] = [];
  const byTicker = new Map<string, MarketModel>();
  const grid = createTickGrid(config.tickStructure);
  for (let i = 0; i < config.markets; i++) {
    const rng = root.fork();
    const market: SimMarket = { index: i, ticker: `SIM-${config.preset.toUpperCase()}-${config.seed}-M${i}`, marketId: uuidFromRng(rng), grid };
    const model = new MarketModel(market, config, rng, emit, options.onOracle);
    models.push(model);
    byTicker.set(market.ticker, model);
  }
  const results = new Map<string, 'yes' | 'no'>();
  let settled = false;

  const advance = (): boolean => {
    if (settled) return false;
    let best: MarketModel | undefined;
    for (const m of models) if (best === undefined || m.nextAt < best.nextAt) best = m;
    if (best !== undefined && best.nextAt < config.durationMs) {
      best.fire();
      return true;
    }
    settled = true;
    const tsMs = config.startMs + Math.floor(config.durationMs);
    for (const m of models) {
      const result = m.settle();
      results.set(m.market.ticker, result);
      const value = result === 'yes' ? PRICE_ONE : 0;
      for (const eventType of ['determined', 'settled'] as const) {
        emit({ kind: 'lifecycle', ticker: m.market.ticker, tsMs, eventType, result, settlementValueUnits: value });
      }
    }
    return true;
  };

  const fillQueue = (): boolean => {
    while (head === queue.length) {
      head = 0;
      queue.length = 0;
      if (!advance()) return false;
    }
    return true;
  };

  return {
    config,
    markets: models.map((m) => m.market),
    book: (ticker) => byTicker.get(ticker)?.book,
    next: () => (fillQueue() ? queue[head++] : undefined),
    peekTsMs: () => (fillQueue() ? queue[head]!.tsMs : Number.POSITIVE_INFINITY),
    get done() {
      return settled && head === queue.length;
    },
    results,
  };
}
