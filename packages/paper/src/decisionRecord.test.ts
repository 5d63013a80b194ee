import { fnv1a32 } from '@kflow/orderbook';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DecisionOutcome, type DecisionRecord, decodeDecision, encodeDecision, observationHash } from './decisionRecord';
import { buyYes } from './orders';
import { invalidArgument } from './errors.testing';

/** What the action log does to a row: the JSON columns go through JSON text and back. */
function throughDatabase(record: DecisionRecord): DecisionRecord {
  const { details, executionResult } = JSON.parse(JSON.stringify(encodeDecision(record))) as {
    details: unknown;
    executionResult: unknown;
  };
  return decodeDecision(details, executionResult);
}

const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const f32 = (...xs: number[]): Float32Array => Float32Array.from(xs);
const fromBits = (...words: number[]): Float32Array => new Float32Array(Uint32Array.from(words).buffer);

const OUTCOME: DecisionOutcome = {
  fills: [
    { side: 'bid', priceUnits: 4500, countCenti: 200, isTaker: true },
    { side: 'ask', priceUnits: 4700, countCenti: 50, isTaker: false },
  ],
  positionCenti: 150,
  cashMicros: 18_964_300,
  valueMicros: 19_601_800.5,
  pnlMicros: -398_199.5,
  feesMicros: 35_700,
};

function record(overrides: Partial<DecisionRecord> = {}): DecisionRecord {
  return {
    market: 'KXTEST-26JAN01-B50',
    step: 7,
    tsMs: 1_750_000_000_123,
    eventIndex: 42,
    observation: f32(0.5, -0.25, 1, 0),
    mask: Uint8Array.from([1, 0, 1, 1, 0]),
    policyAction: 3,
    action: 3,
    override: null,
    executed: true,
    order: buyYes(4500, 200, { timeInForce: 'immediate_or_cancel', postOnly: false, reduceOnly: false }),
    reject: null,
    model: { id: 'm-1', name: 'ppo-small', version: 4 },
    latencyMicros: 1_250,
    outcome: OUTCOME,
    ...overrides,
  };
}


/** Finite float32 values with the edge cases weighted in: subnormals, the extremes, the smallest normals. */
const EDGE_FLOATS = [
  0,
  1.401298464324817e-45, // smallest subnormal
  -1.401298464324817e-45,
  1.1754942106924411e-38, // largest subnormal
  1.1754943508222875e-38, // smallest normal
  -1.1754943508222875e-38,
  3.4028234663852886e38, // largest finite
  -3.4028234663852886e38,
  Math.fround(0.1),
  Math.fround(1 / 3),
  Math.fround(-Math.PI),
  16_777_217, // rounds to 16_777_216 in float32
];

describe('encodeDecision / decodeDecision', () => {
  it('round-trip every field through the database’s JSON', () => {
    for (const r of [record(), record({ outcome: null }), record({ policyAction: null, override: 'stale', action: 0, executed: false, order: null })]) {
      const back = throughDatabase(r);
      expect(back).toEqual(r);
      expect(back.observation).toBeInstanceOf(Float32Array);
      expect(back.mask).toBeInstanceOf(Uint8Array);
    }
  });

  it('stores the mask as a 0/1 string and the fills as compact tuples', () => {
    const encoded = encodeDecision(record());
    expect(encoded.details).toMatchObject({ format: 1, mask: '10110' });
    // The observation's float32 bytes (little-endian), base64: 0.5, -0.25, 1, 0.
    expect(encoded.details['observation']).toBe('AAAAPwAAgL4AAIA/AAAAAA==');
    expect(encoded.executionResult).toMatchObject({
      fills: [
        ['bid', 4500, 200, true],
        ['ask', 4700, 50, false],
      ],
      positionCenti: 150,
      valueMicros: 19_601_800.5,
    });
    expect(encodeDecision(record({ outcome: null })).executionResult).toBeNull();
  });

  it('keeps the override, reject and order of a refused or overridden decision', () => {
    const refusedOrder = record({ executed: false, reject: 'insufficient_balance' });
    expect(throughDatabase(refusedOrder)).toMatchObject({ executed: false, reject: 'insufficient_balance', order: refusedOrder.order });
    const overridden = record({ policyAction: 5, action: 17, override: 'loss-limit', order: null, outcome: { ...OUTCOME, fills: [] } });
    expect(throughDatabase(overridden)).toMatchObject({ policyAction: 5, action: 17, override: 'loss-limit', order: null, outcome: { fills: [] } });
  });

  it('restores edge-case observations bit for bit (subnormals, extremes, float32 rounding)', () => {
    const observation = f32(...EDGE_FLOATS);
    const back = throughDatabase(record({ observation }));
    expect(bits(back.observation)).toEqual(bits(observation));
    expect(observationHash(back.observation)).toBe(observationHash(observation));
  });

  it('restores arbitrary finite float32 observations bit for bit through JSON (property)', () => {
    const value = fc.oneof(fc.float({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(...EDGE_FLOATS, -0));
    fc.assert(
      fc.property(
        fc.array(value, { maxLength: 64 }).map((xs) => Float32Array.from(xs)),
        fc.array(fc.constantFrom(0, 1), { maxLength: 30 }).map((m) => Uint8Array.from(m)),
        fc.boolean(),
        (observation, mask, withOutcome) => {
          const r = record({ observation, mask, outcome: withOutcome ? OUTCOME : null });
          const back = throughDatabase(r);
          expect(bits(back.observation)).toEqual(bits(observation));
          expect(observationHash(back.observation)).toBe(encodeDecision(r).observationHash);
          expect(Array.from(back.mask)).toEqual(Array.from(mask));
          expect(back.outcome).toEqual(r.outcome);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('restores arbitrary float32 bit patterns of finite values (property over raw bits)', () => {
    // Every finite float32 is a bit pattern whose exponent is not all ones (-0 included).
    const finiteWord = fc.integer({ min: 0, max: 0xffffffff }).filter((w) => (w & 0x7f800000) !== 0x7f800000);
    fc.assert(
      fc.property(fc.array(finiteWord, { minLength: 1, maxLength: 32 }), (words) => {
        const observation = fromBits(...words);
        expect(bits(throughDatabase(record({ observation })).observation)).toEqual(words.map((w) => w >>> 0));
      }),
      { numRuns: 300 },
    );
  });

  // JSON numbers would turn -0 into 0 (JSON.stringify(-0) is "0"): the bytes are stored instead.
  it('restores -0 bit for bit through JSON', () => {
    const observation = fromBits(0x80000000, 0x3f800000);
    const back = throughDatabase(record({ observation }));
    expect(bits(back.observation)).toEqual([0x80000000, 0x3f800000]);
  });

  it('refuses malformed details with INVALID_ARGUMENT naming the bad field', () => {
    const { details, executionResult } = JSON.parse(JSON.stringify(encodeDecision(record()))) as {
      details: Record<string, unknown>;
      executionResult: Record<string, unknown>;
    };
    expect(invalidArgument(() => decodeDecision(null, executionResult))).toMatch(/details must be an object/);
    expect(invalidArgument(() => decodeDecision('details', executionResult))).toMatch(/details must be an object/);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ format: 2 }, /unsupported format 2/],
      [{ format: undefined }, /unsupported format/],
      [{ observation: 'AAA' }, /observation/],
      [{ observation: 'AAAAAAA=' }, /whole float32/], // 5 bytes
      [{ observation: [1, 2] }, /observation/],
      [{ policyAction: '3' }, /policyAction/],
      [{ override: 'vibes' }, /override/],
      [{ executed: 'yes' }, /executed/],
      [{ order: 'bid' }, /order/],
      [{ mask: '1021' }, /mask/],
      [{ mask: [1, 0] }, /mask/],
      [{ market: 7 }, /market/],
      [{ model: null }, /model/],
      [{ model: { id: 'm', version: 1 } }, /model/],
      [{ model: { id: 'm', name: 'n', version: '1' } }, /version/],
      [{ step: '7' }, /step/],
      [{ tsMs: null }, /tsMs/],
      [{ eventIndex: undefined }, /eventIndex/],
      [{ action: 'HOLD' }, /action/],
      [{ latencyMicros: null }, /latencyMicros/],
    ];
    for (const [patch, field] of cases) {
      expect(invalidArgument(() => decodeDecision({ ...details, ...patch }, executionResult)), JSON.stringify(patch)).toMatch(field);
    }
  });

  it('refuses a malformed outcome with INVALID_ARGUMENT naming the bad field', () => {
    const { details, executionResult } = JSON.parse(JSON.stringify(encodeDecision(record()))) as {
      details: Record<string, unknown>;
      executionResult: Record<string, unknown>;
    };
    const cases: [unknown, RegExp][] = [
      [{ ...executionResult, fills: undefined }, /fills/],
      [{ ...executionResult, fills: {} }, /fills/],
      [{ ...executionResult, positionCenti: '150' }, /positionCenti/],
      [{ ...executionResult, cashMicros: null }, /cashMicros/],
      [{ ...executionResult, valueMicros: undefined }, /valueMicros/],
      [{ ...executionResult, pnlMicros: 'x' }, /pnlMicros/],
      [{ ...executionResult, feesMicros: false }, /feesMicros/],
      [42, /outcome/],
      [{ ...executionResult, fills: [5] }, /fill/],
      [{ ...executionResult, fills: [['bid', '4500', 200, true]] }, /invalid fill/],
    ];
    for (const [outcome, field] of cases) {
      expect(invalidArgument(() => decodeDecision(details, outcome)), JSON.stringify(outcome)).toMatch(field);
    }
    // A missing execution result is "no outcome yet", not an error.
    expect(decodeDecision(details, undefined).outcome).toBeNull();
    expect(decodeDecision(details, null).outcome).toBeNull();
  });
});

describe('observationHash', () => {
  it('is the FNV-1a of the float32 bytes', () => {
    const observation = f32(0.5, -2, 1e-3);
    expect(observationHash(observation)).toBe(fnv1a32(new Uint8Array(observation.buffer)));
    expect(observationHash(new Float32Array(0))).toBe('811c9dc5');
    expect(observationHash(f32(1))).toMatch(/^[0-9a-f]{8}$/);
  });

  it('hashes only the view’s own bytes (subarrays of a larger buffer)', () => {
    const big = f32(9, 9, 0.5, -2, 1e-3, 9);
    const view = big.subarray(2, 5);
    expect(observationHash(view)).toBe(observationHash(f32(0.5, -2, 1e-3)));
    expect(observationHash(view)).not.toBe(observationHash(big));
  });

  it('is equal for equal bits and differs for any one-bit change (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 32 }),
        fc.nat(),
        fc.integer({ min: 0, max: 31 }),
        (words, at, bit) => {
          const a = fromBits(...words);
          const b = fromBits(...words); // same bits, separate buffer
          expect(observationHash(b)).toBe(observationHash(a));
          const flipped = Uint32Array.from(words);
          const i = at % words.length;
          flipped[i] = flipped[i]! ^ (1 << bit);
          expect(observationHash(new Float32Array(flipped.buffer))).not.toBe(observationHash(a));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('tells -0 from +0 (bit-exact identity, not numeric equality)', () => {
    expect(observationHash(f32(-0))).not.toBe(observationHash(f32(0)));
  });
});
