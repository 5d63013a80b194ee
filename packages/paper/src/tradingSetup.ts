import { FEATURE_SET_VERSION, FEATURE_SPEC } from '@kflow/features';
import { KflowError, PRICE_ONE } from '@kflow/orderbook';
import { type ActionKind, TRADING_ACTION_KINDS } from './actionSpace';
import type { PaperErrorCode } from './errors';
import { type FeeSchedule, type MemberPrecision, isFeeType } from './feeModel';
import type { LatencyModel, QueueModel } from './matchingEngine';

/**
 * When a policy decides: after every book event of its market (`'event'`), or on a grid of exchange time
 * starting at the market's first snapshot (`{ everyMs }`), having seen exactly the events stamped at or
 * before each grid point.
 */
export type DecisionCadence = 'event' | { readonly everyMs: number };

/**
 * Everything that makes live trading "the same setup" as training: how often the policy decides, which
 * actions it has, the position limit and starting cash of each market's account, the execution model's
 * settings and the observation it was trained on. Training stores it in the checkpoint; the live actor
 * reads it back and refuses a model whose setup differs from the one it trades with.
 */
export interface TradingSetup {
  readonly cadence: DecisionCadence;
  /** Order sizes of the trading actions, centi-contracts. */
  readonly sizesCenti: readonly number[];
  /** Trading kinds the policy may use (the others are masked). */
  readonly tradingKinds: readonly ActionKind[];
  /** Largest |position| a buy may lead to, centi-contracts. */
  readonly positionLimitCenti: number;
  /** Cash each market's account starts with (the env's episode cash, the actor's per-market budget), micro-dollars. */
  readonly initialCashMicros: number;
  /** Reward = Δ portfolio value (micro-dollars) × rewardScale (training only; recorded for reports). */
  readonly rewardScale: number;
  /** Fee schedule; undefined = the execution model's default (`quadratic`, M = 1). */
  readonly fees: FeeSchedule | undefined;
  readonly precision: MemberPrecision;
  readonly queueModel: QueueModel;
  /** Order latency; undefined = none. */
  readonly latency: LatencyModel | undefined;
  /** Observation builder version and feature names, in observation order. */
  readonly featureSetVersion: string;
  readonly featureNames: readonly string[];
}

/** The fields of a `TradingSetup` a caller may set; the rest take the defaults of `resolveTradingSetup`. */
export interface TradingSetupOptions {
  /** Default `'event'`. */
  readonly cadence?: DecisionCadence;
  /** Order sizes of the trading actions (default `[100, 500]`: 1 and 5 contracts). */
  readonly sizesCenti?: readonly number[];
  /**
   * Trading kinds the agent may use (default all eight). The others stay in the action space (same
   * count, so checkpoints keep their shape) but are masked out and, if chosen anyway, act as an
   * infeasible HOLD. E.g. the four `*_NOW` kinds for a taker-only agent.
   */
  readonly tradingKinds?: readonly ActionKind[];
  /** Largest |position| a buy may lead to (default 1,000 = 10 contracts). */
  readonly positionLimitCenti?: number;
  /** Starting cash of a market's account (default: twice the position limit at $1, i.e. $20 for 10 contracts). */
  readonly initialCashMicros?: number;
  /** Reward = change in portfolio value (micro-dollars) × `rewardScale` (default 1e-4: cents). */
  readonly rewardScale?: number;
  /** Default: `quadratic`, M = 1. */
  readonly fees?: FeeSchedule;
  /** Default `direct`. */
  readonly precision?: MemberPrecision;
  /** Default `conservative`. */
  readonly queueModel?: QueueModel;
  /** Default: none. */
  readonly latency?: LatencyModel;
}

/** Default order sizes of the trading actions: 1 and 5 contracts. */
export const DEFAULT_SIZES_CENTI: readonly number[] = [100, 500];

function invalid(message: string): KflowError<PaperErrorCode> {
  return new KflowError<PaperErrorCode>('INVALID_ARGUMENT', message);
}

/**
 * Fills in the defaults (event cadence, sizes 1 and 5 contracts, all trading kinds, a 10-contract limit,
 * twice the limit at $1 as cash, reward in cents, direct precision, conservative queue, no latency, the
 * running feature set) and validates every field. Throws `INVALID_ARGUMENT`.
 *
 * @example
 * const setup = resolveTradingSetup({ cadence: { everyMs: 2000 }, sizesCenti: [100], positionLimitCenti: 100 });
 * setup.initialCashMicros; // 2_000_000 ($2)
 */
export function resolveTradingSetup(options: TradingSetupOptions = {}): TradingSetup {
  const cadence = options.cadence ?? 'event';
  if (cadence !== 'event' && !(typeof cadence === 'object' && cadence !== null && Number.isSafeInteger(cadence.everyMs) && cadence.everyMs > 0)) {
    throw invalid(`cadence must be 'event' or { everyMs } with a positive integer (ms), got ${JSON.stringify(cadence)}`);
  }
  if (options.sizesCenti !== undefined && !Array.isArray(options.sizesCenti)) throw invalid(`sizesCenti must be a list, got ${JSON.stringify(options.sizesCenti)}`);
  const sizesCenti = [...(options.sizesCenti ?? DEFAULT_SIZES_CENTI)];
  if (sizesCenti.length === 0 || sizesCenti.some((s) => !Number.isSafeInteger(s) || s <= 0)) {
    throw invalid(`sizesCenti must be positive integers, got ${JSON.stringify(sizesCenti)}`);
  }
  if (options.tradingKinds !== undefined && !Array.isArray(options.tradingKinds)) throw invalid(`tradingKinds must be a list, got ${JSON.stringify(options.tradingKinds)}`);
  const tradingKinds = [...(options.tradingKinds ?? TRADING_ACTION_KINDS)];
  for (const k of tradingKinds) if (!TRADING_ACTION_KINDS.includes(k)) throw invalid(`tradingKinds: "${k}" is not a trading kind`);
  const positionLimitCenti = options.positionLimitCenti ?? 1000;
  if (!Number.isSafeInteger(positionLimitCenti) || positionLimitCenti <= 0) {
    throw invalid(`positionLimitCenti must be a positive integer, got ${positionLimitCenti}`);
  }
  const initialCashMicros = options.initialCashMicros ?? 2 * positionLimitCenti * PRICE_ONE;
  if (!Number.isSafeInteger(initialCashMicros) || initialCashMicros < 0) {
    throw invalid(`initialCashMicros must be a non-negative integer, got ${initialCashMicros}`);
  }
  const rewardScale = options.rewardScale ?? 1e-4;
  if (!(Number.isFinite(rewardScale) && rewardScale > 0)) throw invalid(`rewardScale must be > 0, got ${rewardScale}`);
  const fees = options.fees;
  if (fees !== undefined) {
    if (typeof fees !== 'object' || fees === null || !isFeeType(fees.feeType)) throw invalid(`unknown fee type in ${JSON.stringify(fees)}`);
    const m = fees.multiplier;
    if (m !== undefined && !((typeof m === 'number' || (typeof m === 'string' && m.trim() !== '')) && Number(m) >= 0)) {
      throw invalid(`fees.multiplier must be a non-negative number, got ${JSON.stringify(m)}`);
    }
  }
  const latency = options.latency;
  const ms = (x: unknown) => x === undefined || (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0);
  if (latency !== undefined && !(typeof latency === 'object' && latency !== null && ms(latency.baseMs) && ms(latency.jitterMs))) {
    throw invalid(`latency must be { baseMs?, jitterMs? } in whole non-negative ms, got ${JSON.stringify(latency)}`);
  }
  return {
    cadence: cadence === 'event' ? 'event' : { everyMs: cadence.everyMs },
    sizesCenti,
    tradingKinds,
    positionLimitCenti,
    initialCashMicros,
    rewardScale,
    fees,
    precision: options.precision ?? 'direct',
    queueModel: options.queueModel ?? 'conservative',
    // One form per meaning: no latency is `undefined`, never `{}` or zeros (setups compare by value).
    latency: latency === undefined || ((latency.baseMs ?? 0) === 0 && (latency.jitterMs ?? 0) === 0) ? undefined : { baseMs: latency.baseMs ?? 0, jitterMs: latency.jitterMs ?? 0 },
    featureSetVersion: FEATURE_SET_VERSION,
    featureNames: FEATURE_SPEC.features.map((f) => f.name),
  };
}

/** A setup as plain JSON (what a checkpoint stores); `parseTradingSetup` reads it back. */
export function tradingSetupToJson(setup: TradingSetup): Record<string, unknown> {
  return JSON.parse(JSON.stringify(setup)) as Record<string, unknown>;
}

/**
 * Reads a setup stored by `tradingSetupToJson` (e.g. from a checkpoint manifest), validating every field.
 * The feature set is taken as stored, not defaulted: it is what the model was trained on. Throws
 * `INVALID_ARGUMENT` naming the bad field.
 */
export function parseTradingSetup(value: unknown): TradingSetup {
  if (typeof value !== 'object' || value === null) throw invalid('trading setup must be an object');
  const v = value as Record<string, unknown>;
  // Stored setups are complete: a missing field is an error, not a default.
  for (const key of ['cadence', 'sizesCenti', 'tradingKinds', 'positionLimitCenti', 'initialCashMicros', 'rewardScale'] as const) {
    if (v[key] === undefined || v[key] === null) throw invalid(`trading setup: ${key} is missing`);
  }
  const featureSetVersion = v['featureSetVersion'];
  const featureNames = v['featureNames'];
  if (typeof featureSetVersion !== 'string') throw invalid('trading setup: featureSetVersion must be a string');
  if (!Array.isArray(featureNames) || featureNames.some((n) => typeof n !== 'string')) throw invalid('trading setup: featureNames must be strings');
  const precision = v['precision'];
  if (precision !== 'direct' && precision !== 'retail') throw invalid(`trading setup: unknown precision ${JSON.stringify(precision)}`);
  const queueModel = v['queueModel'];
  if (queueModel !== 'conservative' && queueModel !== 'proportional') throw invalid(`trading setup: unknown queueModel ${JSON.stringify(queueModel)}`);
  const resolved = resolveTradingSetup({
    cadence: v['cadence'] as DecisionCadence,
    sizesCenti: v['sizesCenti'] as number[],
    tradingKinds: v['tradingKinds'] as ActionKind[],
    positionLimitCenti: v['positionLimitCenti'] as number,
    initialCashMicros: v['initialCashMicros'] as number,
    rewardScale: v['rewardScale'] as number,
    ...(v['fees'] === undefined || v['fees'] === null ? {} : { fees: v['fees'] as FeeSchedule }),
    precision,
    queueModel,
    ...(v['latency'] === undefined || v['latency'] === null ? {} : { latency: v['latency'] as LatencyModel }),
  });
  return { ...resolved, featureSetVersion, featureNames: [...(featureNames as string[])] };
}

/**
 * The first difference between two setups that would make decisions differ (reward scale aside: it only
 * shapes training), as `"field: a ≠ b"`, or undefined when they trade alike.
 *
 * @example
 * tradingSetupDifference(running, candidate); // e.g. 'cadence: {"everyMs":2000} ≠ {"everyMs":1000}'
 */
export function tradingSetupDifference(a: TradingSetup, b: TradingSetup): string | undefined {
  const keys: readonly (keyof TradingSetup)[] = [
    'featureSetVersion',
    'featureNames',
    'cadence',
    'sizesCenti',
    'tradingKinds',
    'positionLimitCenti',
    'initialCashMicros',
    'fees',
    'precision',
    'queueModel',
    'latency',
  ];
  for (const key of keys) {
    const x = canonical(a[key]);
    const y = canonical(b[key]);
    if (x !== y) return `${key}: ${x} ≠ ${y}`;
  }
  return undefined;
}

/** JSON with object keys sorted (field order carries no meaning). */
function canonical(value: unknown): string {
  return JSON.stringify(value ?? null, (_, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([p], [q]) => (p < q ? -1 : 1))) : v,
  );
}
