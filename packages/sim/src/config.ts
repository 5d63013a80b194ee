import { KflowError } from '@kflow/orderbook';
import type { SimErrorCode } from './errors';
import { type TickStructure, isTickStructure } from './tickGrid';

/** Activity regime parameters: multipliers on event rates and latent volatility, and how long it lasts. */
export interface RegimeConfig {
  /** Multiplies taker, cancel and replenish rates. */
  readonly activity: number;
  /** Multiplies the latent volatility. */
  readonly vol: number;
  /** Mean time spent in the regime (exponential), seconds. */
  readonly meanDurationSec: number;
}

/** The latent probability: a martingale logit random walk with jumps. */
export interface LatentConfig {
  /** Initial latent probability is uniform in [initialMin, initialMax]. */
  readonly initialMin: number;
  readonly initialMax: number;
  /** Diffusion volatility in logit units per √second (before regime multipliers). */
  readonly volPerSqrtSec: number;
  /** The latent (and the makers' estimate) moves in steps of this many virtual ms. */
  readonly stepMs: number;
  /** Mean number of jumps per minute. */
  readonly jumpsPerMin: number;
  /** Mean absolute jump size in logit units (exponentially distributed). */
  readonly jumpSizeLogit: number;
  /**
   * Volatility ramp toward the close: vol × (1 + closeVolBoost · (t/T)³). The martingale-consistent form of
   * "drift toward the outcome": the latent resolves toward 0 or 1 without becoming predictable.
   */
  readonly closeVolBoost: number;
}

/** Market makers: quote a ladder around a lagged estimate of the latent. */
export interface MakerConfig {
  /** The makers' estimate lags the latent with time constant `edge × lagMaxMs` (see `SimConfig.edge`). */
  readonly lagMaxMs: number;
  /** Half-spread in cents at zero volatility (≥ half a tick is enforced by the grid). */
  readonly halfSpreadCents: number;
  /** Ladder levels per side. */
  readonly levels: number;
  /** Grid steps between ladder levels at zero volatility. */
  readonly levelSpacingTicks: number;
  /** Target size of the best level, contracts. */
  readonly levelSizeContracts: number;
  /** Target size grows by this fraction per level away from the touch. */
  readonly levelSizeGrowth: number;
  /** After a taker empties the touch, makers repost this fraction of its target size at once. */
  readonly touchRefillFraction: number;
  /**
   * Volatility response: widen = 1 + volWidening × (estimated 10 s move in cents). Half-spread and level
   * spacing are multiplied by `widen`, level sizes divided by it.
   */
  readonly volWidening: number;
}

/** Taker order flow: noise traders and informed traders, with self-exciting arrivals. */
export interface TakerConfig {
  /** Noise taker orders per second (direction 50/50). */
  readonly noiseRatePerSec: number;
  /** Median noise order size, contracts (lognormal). */
  readonly noiseSizeContracts: number;
  /** Noise orders walk at most this many levels. */
  readonly noiseMaxLevels: number;
  /** Informed orders per second per cent by which the latent lies beyond the touch. */
  readonly informedRatePerCent: number;
  /** Cap on the informed arrival rate, per second. */
  readonly informedMaxRatePerSec: number;
  /** Median informed order size, contracts; grows with the mispricing. */
  readonly informedSizeContracts: number;
  /** Fraction of each informed order's size that also rests as a bid at the informed side's touch. */
  readonly informedRestFraction: number;
  /** Informed traders buy only up to latent − this many cents (sell down to latent + it). */
  readonly informedMinEdgeCents: number;
  /** Hawkes branching ratio: expected extra taker orders triggered by one (must be < 1). */
  readonly hawkesBranching: number;
  /** Decay rate of the excitation, per second. */
  readonly hawkesDecayPerSec: number;
}

/** Passive flow that is not the makers' requoting. */
export interface BookFlowConfig {
  /** Partial cancellations per second. */
  readonly cancelRatePerSec: number;
  /** Replenishments (new resting size toward the makers' targets) per second. */
  readonly replenishRatePerSec: number;
}

/**
 * Everything that defines a simulated session. The same config (including `seed`) always produces
 * byte-identical output.
 */
export interface SimConfig {
  /** Preset name, used in tickers (`SIM-<preset>-<seed>-M<i>`). */
  readonly preset: string;
  readonly seed: number;
  readonly markets: number;
  readonly durationMs: number;
  /** Exchange time of the session start, epoch ms (virtual clock). */
  readonly startMs: number;
  /**
   * THE exploitable-structure knob, in [0, 1]. It scales the makers' information lag (time constant
   * `edge × makers.lagMaxMs`). At 0 the makers quote around the latent itself: the mid is a function of the
   * latent only, informed traders never find a price worth taking, and nothing observable predicts the next
   * mid move. Above 0 the mid trails the latent; informed traders take the stale side, which shows up first
   * in taker flow and depleted depth (book imbalance), then in the mid.
   */
  readonly edge: number;
  readonly tickStructure: TickStructure;
  /** Sizes with two decimals (fractional contracts) instead of whole contracts. */
  readonly fractionalSizes: boolean;
  readonly latent: LatentConfig;
  readonly makers: MakerConfig;
  readonly takers: TakerConfig;
  readonly book: BookFlowConfig;
  readonly regimes: { readonly quiet: RegimeConfig; readonly normal: RegimeConfig; readonly burst: RegimeConfig };
}

/** Names of the built-in simulator presets (see `docs/simulator.md`). */
export type PresetName = 'calm' | 'volatile' | 'informed';

/** A deep partial of `SimConfig` for overrides. */
export type SimConfigOverrides = {
  readonly [K in keyof SimConfig]?: SimConfig[K] extends object
    ? { readonly [J in keyof SimConfig[K]]?: SimConfig[K][J] extends object ? Partial<SimConfig[K][J]> : SimConfig[K][J] }
    : SimConfig[K];
};

const DEFAULT_START_MS = Date.UTC(2026, 0, 5, 14, 30);

const calm: SimConfig = {
  preset: 'calm',
  seed: 1,
  markets: 4,
  durationMs: 10 * 60_000,
  startMs: DEFAULT_START_MS,
  edge: 0.3,
  tickStructure: 'linear_cent',
  fractionalSizes: false,
  latent: {
    initialMin: 0.2,
    initialMax: 0.8,
    volPerSqrtSec: 0.003,
    stepMs: 250,
    jumpsPerMin: 0.2,
    jumpSizeLogit: 0.15,
    closeVolBoost: 0,
  },
  makers: {
    lagMaxMs: 20_000,
    halfSpreadCents: 0.75,
    levels: 8,
    levelSpacingTicks: 1,
    levelSizeContracts: 200,
    levelSizeGrowth: 0.15,
    touchRefillFraction: 0.25,
    volWidening: 0.3,
  },
  takers: {
    noiseRatePerSec: 0.4,
    noiseSizeContracts: 15,
    noiseMaxLevels: 2,
    informedRatePerCent: 0.8,
    informedMaxRatePerSec: 4,
    informedSizeContracts: 20,
    informedRestFraction: 1,
    informedMinEdgeCents: 0.5,
    hawkesBranching: 0.3,
    hawkesDecayPerSec: 1,
  },
  book: { cancelRatePerSec: 1.5, replenishRatePerSec: 1.5 },
  regimes: {
    quiet: { activity: 0.3, vol: 0.6, meanDurationSec: 60 },
    normal: { activity: 1, vol: 1, meanDurationSec: 120 },
    burst: { activity: 3, vol: 2, meanDurationSec: 15 },
  },
};

/** `base` with `overrides` merged field by field (nested groups too). */
function mergeConfig(base: SimConfig, o: SimConfigOverrides): SimConfig {
  return {
    ...base,
    ...(o as Partial<SimConfig>),
    latent: { ...base.latent, ...o.latent },
    makers: { ...base.makers, ...o.makers },
    takers: { ...base.takers, ...o.takers },
    book: { ...base.book, ...o.book },
    regimes: {
      quiet: { ...base.regimes.quiet, ...o.regimes?.quiet },
      normal: { ...base.regimes.normal, ...o.regimes?.normal },
      burst: { ...base.regimes.burst, ...o.regimes?.burst },
    },
  };
}

const volatile = mergeConfig(calm, {
  preset: 'volatile',
  latent: { volPerSqrtSec: 0.015, jumpsPerMin: 1, jumpSizeLogit: 0.35, closeVolBoost: 2 },
  makers: { halfSpreadCents: 1.5, levels: 10, levelSizeContracts: 100, volWidening: 0.5 },
  takers: { noiseRatePerSec: 1.5, noiseSizeContracts: 25, noiseMaxLevels: 3, hawkesBranching: 0.6, hawkesDecayPerSec: 0.5 },
  book: { cancelRatePerSec: 5, replenishRatePerSec: 5 },
  regimes: {
    quiet: { activity: 0.4, vol: 0.5, meanDurationSec: 40 },
    normal: { meanDurationSec: 60 },
    burst: { activity: 5, vol: 3, meanDurationSec: 20 },
  },
});

// Tuned with the learning check (docs/simulator.md §2): more, smaller jumps, a 0.1 ¢ grid with a ~1.3 ¢
// spread, a 30 s lag and twice the informed intensity.
const informed = mergeConfig(calm, {
  preset: 'informed',
  edge: 1,
  tickStructure: 'deci_cent',
  latent: { initialMin: 0.3, initialMax: 0.7, volPerSqrtSec: 0.006, jumpsPerMin: 3, jumpSizeLogit: 0.4 },
  makers: { lagMaxMs: 30_000, halfSpreadCents: 0.6, levelSizeContracts: 150, levelSizeGrowth: 0.1, volWidening: 0.1 },
  takers: {
    noiseRatePerSec: 1,
    noiseSizeContracts: 20,
    informedRatePerCent: 2,
    informedMaxRatePerSec: 10,
    informedSizeContracts: 25,
    informedMinEdgeCents: 1,
    hawkesBranching: 0.4,
  },
  book: { cancelRatePerSec: 2, replenishRatePerSec: 3 },
});

/** The named presets. `informed` is the one RL agents should be able to learn on (edge 1 by default). */
export const SIM_PRESETS: Readonly<Record<PresetName, SimConfig>> = { calm, volatile, informed };

/** True when `name` is a preset name. */
function isPresetName(name: string): name is PresetName {
  return Object.hasOwn(SIM_PRESETS, name);
}

function invalid(message: string): KflowError<SimErrorCode> {
  return new KflowError<SimErrorCode>('INVALID_CONFIG', message);
}

/**
 * A preset with overrides, validated. Nested groups merge field by field.
 *
 * @example
 * const config = resolveSimConfig('informed', { seed: 7, markets: 8, edge: 0 });
 */
export function resolveSimConfig(preset: PresetName | string = 'calm', overrides: SimConfigOverrides = {}): SimConfig {
  if (!isPresetName(preset)) {
    throw new KflowError<SimErrorCode>('UNKNOWN_PRESET', `Unknown simulator preset "${preset}" (calm, volatile, informed)`);
  }
  const config = mergeConfig(SIM_PRESETS[preset], overrides);
  validateSimConfig(config);
  return config;
}

/** Throws `INVALID_CONFIG` naming the first bad field. */
export function validateSimConfig(c: SimConfig): void {
  const check = (ok: boolean, field: string, why: string) => {
    if (!ok) throw invalid(`Invalid simulator config: ${field} ${why}`);
  };
  check(Number.isInteger(c.seed), 'seed', 'must be an integer');
  check(Number.isInteger(c.markets) && c.markets >= 1 && c.markets <= 1000, 'markets', 'must be an integer in [1, 1000]');
  check(Number.isFinite(c.durationMs) && c.durationMs > 0, 'durationMs', 'must be > 0');
  check(Number.isSafeInteger(c.startMs) && c.startMs >= 0, 'startMs', 'must be epoch ms');
  check(c.edge >= 0 && c.edge <= 1, 'edge', 'must be in [0, 1]');
  check(/^[A-Za-z0-9_]+$/.test(c.preset), 'preset', 'must be alphanumeric (it becomes part of tickers)');
  check(isTickStructure(c.tickStructure), 'tickStructure', 'must be linear_cent, deci_cent or tapered_deci_cent');
  check(typeof c.fractionalSizes === 'boolean', 'fractionalSizes', 'must be a boolean');
  const l = c.latent;
  check(l.initialMin > 0 && l.initialMax < 1 && l.initialMin <= l.initialMax, 'latent.initialMin/Max', 'must satisfy 0 < min ≤ max < 1');
  check(l.volPerSqrtSec >= 0 && l.jumpsPerMin >= 0 && l.jumpSizeLogit >= 0 && l.closeVolBoost >= 0, 'latent', 'rates and sizes must be ≥ 0');
  check(l.stepMs >= 1, 'latent.stepMs', 'must be ≥ 1');
  const m = c.makers;
  check(m.levels >= 1 && Number.isInteger(m.levels), 'makers.levels', 'must be a positive integer');
  check(m.levelSpacingTicks >= 1, 'makers.levelSpacingTicks', 'must be ≥ 1');
  check(m.levelSizeContracts >= 1, 'makers.levelSizeContracts', 'must be ≥ 1');
  check(m.touchRefillFraction > 0 && m.touchRefillFraction <= 1, 'makers.touchRefillFraction', 'must be in (0, 1]');
  check(m.halfSpreadCents >= 0 && m.volWidening >= 0 && m.lagMaxMs >= 0 && m.levelSizeGrowth >= 0, 'makers', 'must be ≥ 0');
  const t = c.takers;
  check(t.hawkesBranching >= 0 && t.hawkesBranching < 1, 'takers.hawkesBranching', 'must be in [0, 1)');
  check(t.hawkesDecayPerSec > 0, 'takers.hawkesDecayPerSec', 'must be > 0');
  check(t.noiseMaxLevels >= 1, 'takers.noiseMaxLevels', 'must be ≥ 1');
  check(
    t.noiseRatePerSec >= 0 && t.informedRatePerCent >= 0 && t.informedMaxRatePerSec >= 0 && t.noiseSizeContracts > 0 && t.informedSizeContracts > 0,
    'takers',
    'rates must be ≥ 0 and sizes > 0',
  );
  check(t.informedRestFraction >= 0 && t.informedRestFraction <= 1, 'takers.informedRestFraction', 'must be in [0, 1]');
  check(c.book.cancelRatePerSec >= 0 && c.book.replenishRatePerSec >= 0, 'book', 'rates must be ≥ 0');
  for (const [name, r] of Object.entries(c.regimes)) {
    check(r.activity >= 0 && r.vol >= 0 && r.meanDurationSec > 0, `regimes.${name}`, 'must have activity, vol ≥ 0 and meanDurationSec > 0');
  }
}
