import { type BookView, KflowError, type Side } from '@kflow/orderbook';
import type { PaperErrorCode } from './errors';
import type { OrderRequest } from './orders';
import { LINEAR_CENT_GRID, type PriceGrid, isValidOrderPrice, orderPriceBounds } from './priceGrid';

/**
 * The primitive actions shared by the training env and the live actor. `*_NOW` take liquidity (an IOC
 * order against the touch), `*_WAIT` join the best bid (buys) or best ask (sells) with a post-only GTC
 * order. `SELL_*` actions only reduce what is held (reduce-only): opening the other side is `BUY_*`.
 */
export const ACTION_KINDS = [
  'HOLD',
  'BUY_YES_NOW',
  'SELL_YES_NOW',
  'BUY_NO_NOW',
  'SELL_NO_NOW',
  'BUY_YES_WAIT',
  'SELL_YES_WAIT',
  'BUY_NO_WAIT',
  'SELL_NO_WAIT',
  'CANCEL_ALL',
] as const;

/** One of the ten primitive action kinds of {@link ACTION_KINDS}. */
export type ActionKind = (typeof ACTION_KINDS)[number];

/** The eight kinds that trade, in action-index order. */
export const TRADING_ACTION_KINDS: readonly ActionKind[] = ACTION_KINDS.slice(1, 9);

/** One action index, decoded (precomputed: decoding never allocates). */
export interface DecodedAction {
  readonly index: number;
  readonly kind: ActionKind;
  /** Order size; 0 for HOLD and CANCEL_ALL. */
  readonly sizeCenti: number;
  /** Index into the space's sizes, or -1. */
  readonly sizeIndex: number;
  /** The outcome bought or sold, or undefined for HOLD / CANCEL_ALL. */
  readonly outcome: Side | undefined;
  readonly intent: 'buy' | 'sell' | undefined;
  /** True for `*_NOW` (takes liquidity). */
  readonly take: boolean;
  /**
   * False for trading kinds the space's `tradingKinds` leave out: such actions stay in the space (same
   * count, so checkpoints keep their shape) but are always masked and never become an order.
   */
  readonly enabled: boolean;
}

/**
 * Layout: index 0 is HOLD; then, for each trading kind in {@link TRADING_ACTION_KINDS} order, one action
 * per size; the last index is CANCEL_ALL. Count = 2 + 8 × sizes.
 */
export interface ActionSpace {
  readonly sizesCenti: readonly number[];
  readonly count: number;
  readonly actions: readonly DecodedAction[];
  /** How far past the touch a `*_NOW` order may walk, in price units (Infinity: the whole book). */
  readonly maxSlippageUnits: number;
  /** The trading kinds the agent may use (the others are masked out). */
  readonly tradingKinds: readonly ActionKind[];
}

/** Options of {@link createActionSpace}. */
export interface ActionSpaceOptions {
  /** Order sizes in centi-contracts (e.g. `[100, 500]` for 1 and 5 contracts). */
  readonly sizesCenti: readonly number[];
  /** Default Infinity: take orders may walk the whole visible book. */
  readonly maxSlippageUnits?: number;
  /**
   * Trading kinds the agent may use (default all eight), e.g. the four `*_NOW` kinds for a taker-only
   * agent. The others stay in the space but are masked out by `actionMask` and refused by `actionToOrder`.
   */
  readonly tradingKinds?: readonly ActionKind[];
}

/**
 * Number of actions for a list of sizes: HOLD + 8 trading kinds × sizes + CANCEL_ALL.
 *
 * @example
 * actionCount([100, 500]); // 18
 */
export function actionCount(sizesCenti: readonly number[]): number {
  return 2 + TRADING_ACTION_KINDS.length * sizesCenti.length;
}

function fail(message: string): KflowError<PaperErrorCode> {
  return new KflowError<PaperErrorCode>('INVALID_ARGUMENT', message);
}

/**
 * Builds an action space.
 *
 * @example
 * const space = createActionSpace({ sizesCenti: [100, 1000] });
 * space.count; // 18
 * decodeAction(space, 1); // { kind: 'BUY_YES_NOW', sizeCenti: 100, ... }
 */
export function createActionSpace(options: ActionSpaceOptions): ActionSpace {
  const sizes = [...options.sizesCenti];
  if (sizes.length === 0) throw fail('An action space needs at least one size');
  for (const s of sizes) if (!Number.isSafeInteger(s) || s <= 0) throw fail(`Invalid size ${s}`);
  const maxSlippageUnits = options.maxSlippageUnits ?? Number.POSITIVE_INFINITY;
  if (!(maxSlippageUnits >= 0)) throw fail('maxSlippageUnits must be ≥ 0');
  const tradingKinds = [...(options.tradingKinds ?? TRADING_ACTION_KINDS)];
  for (const k of tradingKinds) if (!TRADING_ACTION_KINDS.includes(k)) throw fail(`tradingKinds: "${k}" is not a trading kind`);
  const actions: DecodedAction[] = [
    { index: 0, kind: 'HOLD', sizeCenti: 0, sizeIndex: -1, outcome: undefined, intent: undefined, take: false, enabled: true },
  ];
  for (const kind of TRADING_ACTION_KINDS) {
    const [intent, outcome, when] = kind.toLowerCase().split('_') as ['buy' | 'sell', Side, 'now' | 'wait'];
    const enabled = tradingKinds.includes(kind);
    sizes.forEach((sizeCenti, sizeIndex) =>
      actions.push({ index: actions.length, kind, sizeCenti, sizeIndex, outcome, intent, take: when === 'now', enabled }),
    );
  }
  actions.push({
    index: actions.length,
    kind: 'CANCEL_ALL',
    sizeCenti: 0,
    sizeIndex: -1,
    outcome: undefined,
    intent: undefined,
    take: false,
    enabled: true,
  });
  return { sizesCenti: sizes, count: actions.length, actions: actions.map((a) => Object.freeze(a)), maxSlippageUnits, tradingKinds };
}

/**
 * Decodes an action index (throws `UNKNOWN_ACTION` outside `[0, count)`). One decoder for env and actor.
 *
 * @example
 * decodeAction(space, space.count - 1).kind; // 'CANCEL_ALL'
 */
export function decodeAction(space: ActionSpace, action: number): DecodedAction {
  const decoded = space.actions[action];
  if (decoded === undefined || !Number.isInteger(action)) {
    throw new KflowError<PaperErrorCode>('UNKNOWN_ACTION', `Action ${action} is outside [0, ${space.count})`);
  }
  return decoded;
}

/**
 * The index of `kind` at `sizeIndex` (the inverse of `decodeAction`).
 *
 * @example
 * encodeAction(space, 'BUY_NO_WAIT', 1);
 */
export function encodeAction(space: ActionSpace, kind: ActionKind, sizeIndex = 0): number {
  if (kind === 'HOLD') return 0;
  if (kind === 'CANCEL_ALL') return space.count - 1;
  if (!(sizeIndex >= 0 && sizeIndex < space.sizesCenti.length)) throw fail(`Invalid size index ${sizeIndex}`);
  return 1 + TRADING_ACTION_KINDS.indexOf(kind) * space.sizesCenti.length + sizeIndex;
}

/** What masks and order building look at. */
export interface ActionContext {
  readonly book: BookView;
  /** Current signed position (+ YES / − NO). */
  readonly positionCenti: number;
  /** Largest absolute position a buy may lead to (default: no limit). */
  readonly maxPositionCenti?: number;
  /** Valid order prices (default whole cents). */
  readonly grid?: PriceGrid;
  /** Open orders in this market; CANCEL_ALL is masked when 0 (default: always allowed). */
  readonly openOrderCount?: number;
}

/**
 * The YES price and V2 side of the order an action sends, or -1 when there is nothing to trade against
 * or join. Shared by the mask and by order building so both always agree.
 */
function orderPrice(space: ActionSpace, a: DecodedAction, book: BookView, grid: PriceGrid): number {
  const yesBid = book.bestBid('yes');
  const yesAsk = book.bestAsk('yes');
  const buysYesLeg = (a.intent === 'buy') === (a.outcome === 'yes'); // V2 bid
  if (a.take) {
    // A bid lifts YES asks, an ask hits YES bids; limit = touch ± slippage, clamped to the grid.
    const touch = buysYesLeg ? yesAsk : yesBid;
    if (touch < 0) return -1;
    const { minUnits, maxUnits } = orderPriceBounds(grid);
    const slip = space.maxSlippageUnits;
    if (slip === Number.POSITIVE_INFINITY) return buysYesLeg ? maxUnits : minUnits;
    return buysYesLeg ? Math.min(touch + slip, maxUnits) : Math.max(touch - slip, minUnits);
  }
  // Join: buys of YES / sells of NO rest at the best YES bid; the others at the best YES ask.
  return buysYesLeg ? yesBid : yesAsk;
}

/** The position after an action fills completely (sells are capped at what is held). */
function sizeFor(a: DecodedAction, positionCenti: number): number {
  if (a.intent === 'buy') return a.sizeCenti;
  const held = a.outcome === 'yes' ? Math.max(positionCenti, 0) : Math.max(-positionCenti, 0);
  return Math.min(a.sizeCenti, held);
}

/** Whether a trading action can be sent now (the one rule behind masks and order building). */
function feasible(a: DecodedAction, ctx: ActionContext, grid: PriceGrid, price: number): boolean {
  if (!a.enabled || ctx.book.stale || price < 0 || !isValidOrderPrice(grid, price) || sizeFor(a, ctx.positionCenti) <= 0) return false;
  if (a.intent === 'sell') return true;
  const pos = ctx.positionCenti;
  const next = a.outcome === 'yes' ? pos + a.sizeCenti : pos - a.sizeCenti;
  // Buys that shrink the absolute position (netting) are always allowed.
  return Math.abs(next) <= (ctx.maxPositionCenti ?? Number.POSITIVE_INFINITY) || Math.abs(next) < Math.abs(pos);
}

/**
 * Writes 1 for feasible and 0 for infeasible actions into `out` (allocates only when `out` is omitted):
 * the one mask of the training env and the live actor. Infeasible: a kind the space does not enable, a
 * stale book, nothing to take or join on the needed side, a price off the market's grid,
 * a buy that would push |position| past the limit, a sell of an outcome not held, CANCEL_ALL with no
 * open orders. HOLD is always feasible.
 *
 * @example
 * actionMask(space, { book, positionCenti: 0, maxPositionCenti: 5_000 }, maskBuffer);
 */
export function actionMask(space: ActionSpace, ctx: ActionContext, out: Uint8Array = new Uint8Array(space.count)): Uint8Array {
  const grid = ctx.grid ?? LINEAR_CENT_GRID;
  out[0] = 1;
  out[space.count - 1] = ctx.openOrderCount === 0 ? 0 : 1;
  for (let i = 1; i < space.count - 1; i++) {
    const a = space.actions[i]!;
    out[i] = feasible(a, ctx, grid, orderPrice(space, a, ctx.book, grid)) ? 1 : 0;
  }
  return out;
}

/**
 * The order an action sends, or undefined for HOLD, CANCEL_ALL and actions the mask rules out.
 * Env and actor both turn actions into orders through this function.
 *
 * @example
 * const order = actionToOrder(space, decodeAction(space, a), { book, positionCenti });
 * if (order) engine.submit(order, nowMs);
 */
export function actionToOrder(space: ActionSpace, action: DecodedAction, ctx: ActionContext): OrderRequest | undefined {
  if (action.intent === undefined) return undefined;
  const grid = ctx.grid ?? LINEAR_CENT_GRID;
  const price = orderPrice(space, action, ctx.book, grid);
  if (!feasible(action, ctx, grid, price)) return undefined;
  return {
    side: (action.intent === 'buy') === (action.outcome === 'yes') ? 'bid' : 'ask',
    priceUnits: price,
    countCenti: sizeFor(action, ctx.positionCenti),
    timeInForce: action.take ? 'immediate_or_cancel' : 'good_till_canceled',
    postOnly: !action.take,
    reduceOnly: action.intent === 'sell',
  };
}
