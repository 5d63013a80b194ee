import { FEATURE_SET_VERSION, FEATURE_SPEC } from '@kflow/features';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ActionKind, TRADING_ACTION_KINDS } from './actionSpace';
import { invalidArgument } from './errors.testing';
import {
  DEFAULT_SIZES_CENTI,
  type TradingSetup,
  type TradingSetupOptions,
  parseTradingSetup,
  resolveTradingSetup,
  tradingSetupDifference,
  tradingSetupToJson,
} from './tradingSetup';

const FEATURE_NAMES = FEATURE_SPEC.features.map((f) => f.name);

/** A setup with every optional field set to a non-default value. */
const CUSTOM: TradingSetupOptions = {
  cadence: { everyMs: 2_000 },
  sizesCenti: [100, 250, 1_000],
  tradingKinds: ['BUY_YES_NOW', 'SELL_YES_NOW', 'BUY_NO_NOW', 'SELL_NO_NOW'],
  positionLimitCenti: 500,
  initialCashMicros: 7_000_000,
  rewardScale: 0.5,
  fees: { feeType: 'quadratic_with_maker_fees', multiplier: '0.5' },
  precision: 'retail',
  queueModel: 'proportional',
  latency: { baseMs: 40, jitterMs: 10 },
};

describe('resolveTradingSetup', () => {
  it('fills in the documented defaults and the running feature set', () => {
    expect(resolveTradingSetup()).toEqual({
      cadence: 'event',
      sizesCenti: [100, 500],
      tradingKinds: [...TRADING_ACTION_KINDS],
      positionLimitCenti: 1_000,
      initialCashMicros: 20_000_000, // twice the 10-contract limit at $1
      rewardScale: 1e-4,
      fees: undefined,
      precision: 'direct',
      queueModel: 'conservative',
      latency: undefined,
      featureSetVersion: FEATURE_SET_VERSION,
      featureNames: FEATURE_NAMES,
    });
    expect(resolveTradingSetup().featureNames).toHaveLength(FEATURE_SPEC.features.length);
  });

  it('derives the default cash from the position limit, and keeps explicit values', () => {
    expect(resolveTradingSetup({ positionLimitCenti: 100 }).initialCashMicros).toBe(2_000_000);
    expect(resolveTradingSetup({ positionLimitCenti: 100, initialCashMicros: 0 }).initialCashMicros).toBe(0);
    const custom = resolveTradingSetup(CUSTOM);
    expect(custom).toMatchObject({ ...CUSTOM, featureSetVersion: FEATURE_SET_VERSION });
  });

  it('copies the caller’s arrays and cadence (later mutation of the options does not leak in)', () => {
    const sizes = [100, 200];
    const kinds: ActionKind[] = ['BUY_YES_NOW'];
    const cadence = { everyMs: 1_000 };
    const setup = resolveTradingSetup({ sizesCenti: sizes, tradingKinds: kinds, cadence });
    sizes.push(300);
    kinds.push('SELL_NO_WAIT');
    cadence.everyMs = 5;
    expect(setup.sizesCenti).toEqual([100, 200]);
    expect(setup.tradingKinds).toEqual(['BUY_YES_NOW']);
    expect(setup.cadence).toEqual({ everyMs: 1_000 });
    // The default sizes are not shared either.
    expect(resolveTradingSetup().sizesCenti).not.toBe(DEFAULT_SIZES_CENTI);
  });

  it('refuses invalid fields with INVALID_ARGUMENT naming the field', () => {
    const cases: [TradingSetupOptions, RegExp][] = [
      [{ cadence: { everyMs: 0 } }, /cadence/],
      [{ cadence: { everyMs: -1_000 } }, /cadence/],
      [{ cadence: { everyMs: 1.5 } }, /cadence/],
      [{ cadence: { everyMs: Number.NaN } }, /cadence/],
      [{ sizesCenti: [] }, /sizesCenti/],
      [{ sizesCenti: [100, 0] }, /sizesCenti/],
      [{ sizesCenti: [-100] }, /sizesCenti/],
      [{ sizesCenti: [1.5] }, /sizesCenti/],
      [{ tradingKinds: ['HOLD'] }, /tradingKinds/],
      [{ tradingKinds: ['CANCEL_ALL'] }, /tradingKinds/],
      [{ tradingKinds: ['BUY_YES_NOW', 'BUY_MAYBE' as ActionKind] }, /tradingKinds/],
      [{ positionLimitCenti: 0 }, /positionLimitCenti/],
      [{ positionLimitCenti: -5 }, /positionLimitCenti/],
      [{ positionLimitCenti: 10.5 }, /positionLimitCenti/],
      [{ initialCashMicros: -1 }, /initialCashMicros/],
      [{ initialCashMicros: 0.5 }, /initialCashMicros/],
      [{ initialCashMicros: Number.POSITIVE_INFINITY }, /initialCashMicros/],
      [{ rewardScale: 0 }, /rewardScale/],
      [{ rewardScale: -1 }, /rewardScale/],
      [{ rewardScale: Number.NaN }, /rewardScale/],
      [{ rewardScale: Number.POSITIVE_INFINITY }, /rewardScale/],
      [{ fees: { feeType: 'flat' as 'quadratic' } }, /fee type/],
      [{ latency: { baseMs: -1 } }, /latency/],
      [{ latency: { jitterMs: -1 } }, /latency/],
      [{ latency: { baseMs: Number.NaN } }, /latency/],
    ];
    for (const [options, field] of cases) {
      expect(invalidArgument(() => resolveTradingSetup(options)), JSON.stringify(options)).toMatch(field);
    }
  });
});

describe('tradingSetupToJson / parseTradingSetup', () => {
  it('round-trip the default and a fully customised setup deep-equal, through a JSON string too', () => {
    for (const setup of [resolveTradingSetup(), resolveTradingSetup(CUSTOM)]) {
      const json = tradingSetupToJson(setup);
      expect(parseTradingSetup(json)).toEqual(setup);
      expect(parseTradingSetup(JSON.parse(JSON.stringify(json)))).toEqual(setup);
      expect(tradingSetupDifference(parseTradingSetup(json), setup)).toBeUndefined();
    }
  });

  it('round-trips arbitrary valid setups (property)', () => {
    const options = fc.record(
      {
        cadence: fc.oneof(fc.constant('event' as const), fc.integer({ min: 1, max: 3_600_000 }).map((everyMs) => ({ everyMs }))),
        sizesCenti: fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 1, maxLength: 4 }),
        tradingKinds: fc.subarray([...TRADING_ACTION_KINDS]),
        positionLimitCenti: fc.integer({ min: 1, max: 1_000_000 }),
        initialCashMicros: fc.maxSafeNat(),
        rewardScale: fc.double({ min: 1e-9, max: 1e3, noNaN: true }),
        fees: fc.constantFrom(
          { feeType: 'quadratic' as const },
          { feeType: 'quadratic_with_maker_fees' as const },
          { feeType: 'quadratic_with_combo_maker_fees' as const, multiplier: '2' },
        ),
        precision: fc.constantFrom('direct' as const, 'retail' as const),
        queueModel: fc.constantFrom('conservative' as const, 'proportional' as const),
        latency: fc.record({ baseMs: fc.integer({ min: 0, max: 1_000 }), jitterMs: fc.integer({ min: 0, max: 1_000 }) }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(options, (o) => {
        const setup = resolveTradingSetup(o as TradingSetupOptions);
        const back = parseTradingSetup(JSON.parse(JSON.stringify(tradingSetupToJson(setup))));
        expect(back).toEqual(setup);
        expect(tradingSetupDifference(back, setup)).toBeUndefined();
      }),
    );
  });

  it('takes the feature set as stored, not the running one', () => {
    const json = { ...tradingSetupToJson(resolveTradingSetup()), featureSetVersion: 'kflow-features/0', featureNames: ['a', 'b'] };
    expect(parseTradingSetup(json)).toMatchObject({ featureSetVersion: 'kflow-features/0', featureNames: ['a', 'b'] });
  });

  it('refuses malformed setups with INVALID_ARGUMENT naming the bad field', () => {
    const good = tradingSetupToJson(resolveTradingSetup(CUSTOM));
    expect(invalidArgument(() => parseTradingSetup(null))).toMatch(/object/);
    expect(invalidArgument(() => parseTradingSetup('setup'))).toMatch(/object/);
    expect(invalidArgument(() => parseTradingSetup(42))).toMatch(/object/);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ featureSetVersion: 1 }, /featureSetVersion/],
      [{ featureSetVersion: undefined }, /featureSetVersion/],
      [{ featureNames: 'mid,spread' }, /featureNames/],
      [{ featureNames: ['mid', 3] }, /featureNames/],
      [{ precision: 'wholesale' }, /precision/],
      [{ precision: undefined }, /precision/],
      [{ queueModel: 'fifo' }, /queueModel/],
      [{ cadence: { everyMs: 0 } }, /cadence/],
      [{ cadence: 'tick' }, /cadence/],
      [{ cadence: 500 }, /cadence/],
      [{ sizesCenti: [] }, /sizesCenti/],
      [{ sizesCenti: ['100'] }, /sizesCenti/],
      [{ tradingKinds: ['HOLD'] }, /tradingKinds/],
      [{ tradingKinds: 'BUY_YES_NOW' }, /tradingKinds/], // a string spreads into letters, none a kind
      [{ positionLimitCenti: '1000' }, /positionLimitCenti/],
      [{ initialCashMicros: -1 }, /initialCashMicros/],
      [{ rewardScale: 0 }, /rewardScale/],
      [{ fees: { feeType: 'flat' } }, /fee type/],
      [{ fees: {} }, /fee type/],
      [{ latency: { baseMs: -5 } }, /latency/],
    ];
    for (const [patch, field] of cases) {
      expect(invalidArgument(() => parseTradingSetup({ ...good, ...patch })), JSON.stringify(patch)).toMatch(field);
    }
  });

  it('treats a stored null fee schedule or latency as absent', () => {
    const setup = parseTradingSetup({ ...tradingSetupToJson(resolveTradingSetup(CUSTOM)), fees: null, latency: null });
    expect(setup.fees).toBeUndefined();
    expect(setup.latency).toBeUndefined();
  });

  // BUG (reported, not fixed): a non-iterable `sizesCenti` / `tradingKinds` reaches the spread in
  // `resolveTradingSetup` and throws a TypeError instead of INVALID_ARGUMENT, so `loadPolicy` lets a raw
  // TypeError out instead of CHECKPOINT_INVALID. Flip to `it` once fixed.
  it('refuses what would break the engine: string or fractional latencies, a bad fee multiplier, missing fields', () => {
    const good = tradingSetupToJson(resolveTradingSetup());
    expect(invalidArgument(() => parseTradingSetup({ ...good, latency: 'x' }))).toMatch(/latency/);
    expect(invalidArgument(() => parseTradingSetup({ ...good, latency: { baseMs: '5' } }))).toMatch(/latency/);
    expect(invalidArgument(() => parseTradingSetup({ ...good, latency: { baseMs: 2.5 } }))).toMatch(/latency/);
    expect(invalidArgument(() => parseTradingSetup({ ...good, fees: { feeType: 'quadratic', multiplier: 'lots' } }))).toMatch(/multiplier/);
    expect(invalidArgument(() => parseTradingSetup({ ...good, fees: { feeType: 'quadratic', multiplier: -1 } }))).toMatch(/multiplier/);
    expect(parseTradingSetup({ ...good, fees: { feeType: 'quadratic', multiplier: '0.5' } }).fees).toEqual({ feeType: 'quadratic', multiplier: '0.5' });
    for (const key of ['cadence', 'sizesCenti', 'tradingKinds', 'positionLimitCenti', 'initialCashMicros', 'rewardScale']) {
      expect(invalidArgument(() => parseTradingSetup({ ...good, [key]: null }))).toMatch(new RegExp(`${key} is missing`));
    }
  });

  it('has one form for "no latency" and compares latencies regardless of key order', () => {
    expect(resolveTradingSetup({ latency: {} }).latency).toBeUndefined();
    expect(resolveTradingSetup({ latency: { baseMs: 0, jitterMs: 0 } }).latency).toBeUndefined();
    const a = resolveTradingSetup({ latency: { baseMs: 5, jitterMs: 1 } });
    const b = resolveTradingSetup({ latency: { jitterMs: 1, baseMs: 5 } });
    expect(tradingSetupDifference(a, b)).toBeUndefined();
    expect(tradingSetupDifference(a, { ...a, latency: { jitterMs: 1, baseMs: 5 } })).toBeUndefined();
    expect(tradingSetupDifference(a, resolveTradingSetup({ latency: { baseMs: 5 } }))).toMatch(/^latency: /);
  });

  it('refuses a non-array sizesCenti or tradingKinds with INVALID_ARGUMENT', () => {
    const good = tradingSetupToJson(resolveTradingSetup());
    expect(invalidArgument(() => parseTradingSetup({ ...good, sizesCenti: 5 }))).toMatch(/sizesCenti/);
    expect(invalidArgument(() => parseTradingSetup({ ...good, tradingKinds: 5 }))).toMatch(/tradingKinds/);
  });
});

describe('tradingSetupDifference', () => {
  const base = resolveTradingSetup(CUSTOM);

  it('is undefined for equal setups, including separately built ones', () => {
    expect(tradingSetupDifference(base, base)).toBeUndefined();
    expect(tradingSetupDifference(base, resolveTradingSetup(CUSTOM))).toBeUndefined();
    expect(tradingSetupDifference(resolveTradingSetup(), resolveTradingSetup({}))).toBeUndefined();
  });

  it('ignores the reward scale (it only shapes training)', () => {
    expect(tradingSetupDifference(base, { ...base, rewardScale: base.rewardScale * 1_000 })).toBeUndefined();
  });

  it('names each field that changes decisions, with both values', () => {
    const changes: [Partial<TradingSetup>, string][] = [
      [{ featureSetVersion: 'kflow-features/0' }, `featureSetVersion: "${FEATURE_SET_VERSION}" ≠ "kflow-features/0"`],
      [{ featureNames: [...base.featureNames].reverse() }, 'featureNames: '],
      [{ cadence: { everyMs: 1_000 } }, 'cadence: {"everyMs":2000} ≠ {"everyMs":1000}'],
      [{ cadence: 'event' }, 'cadence: {"everyMs":2000} ≠ "event"'],
      [{ sizesCenti: [100, 250] }, 'sizesCenti: [100,250,1000] ≠ [100,250]'],
      [{ tradingKinds: [...TRADING_ACTION_KINDS] }, 'tradingKinds: '],
      [{ positionLimitCenti: 600 }, 'positionLimitCenti: 500 ≠ 600'],
      [{ initialCashMicros: 1 }, 'initialCashMicros: 7000000 ≠ 1'],
      [{ fees: undefined }, 'fees: {"feeType":"quadratic_with_maker_fees","multiplier":"0.5"} ≠ null'],
      [{ precision: 'direct' }, 'precision: "retail" ≠ "direct"'],
      [{ queueModel: 'conservative' }, 'queueModel: "proportional" ≠ "conservative"'],
      [{ latency: undefined }, 'latency: {"baseMs":40,"jitterMs":10} ≠ null'],
    ];
    for (const [patch, expected] of changes) {
      const diff = tradingSetupDifference(base, { ...base, ...patch });
      expect(diff, JSON.stringify(patch)).toBeDefined();
      expect(diff!.startsWith(expected), `${diff} should start with ${expected}`).toBe(true);
    }
  });

  it('names the first differing field in its documented order when several differ', () => {
    const other: TradingSetup = { ...base, queueModel: 'conservative', cadence: 'event', positionLimitCenti: 1 };
    expect(tradingSetupDifference(base, other)).toMatch(/^cadence: /);
    expect(tradingSetupDifference({ ...base, featureSetVersion: 'x' }, other)).toMatch(/^featureSetVersion: /);
    expect(tradingSetupDifference(other, base)).toBe('cadence: "event" ≠ {"everyMs":2000}');
  });
});
