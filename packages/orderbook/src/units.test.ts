import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { invalidNumber } from './errors.testing';
import {
  centsToPriceUnits,
  contractsToCountCenti,
  formatCount,
  formatMicros,
  formatPrice,
  parseCountCenti,
  parseFixed,
  parseMicros,
  parsePriceUnits,
  parseScaledInteger,
} from './units';


describe('parsePriceUnits', () => {
  it('parses fixed-point dollar strings exactly', () => {
    expect(parsePriceUnits('0.1700')).toBe(1700);
    expect(parsePriceUnits('0.0001')).toBe(1);
    expect(parsePriceUnits('0.001')).toBe(10);
    expect(parsePriceUnits('0.856')).toBe(8560);
    expect(parsePriceUnits('1.0000')).toBe(10_000);
    expect(parsePriceUnits('0')).toBe(0);
    expect(parsePriceUnits('.5')).toBe(5000);
  });

  it('accepts extra decimals only when they are zeros', () => {
    expect(parsePriceUnits('0.560000')).toBe(5600);
    const e = invalidNumber(() => parsePriceUnits('0.56001', 'price_dollars'));
    expect(e.field).toBe('price_dollars');
    expect(e.message).toContain('more than 4 decimals');
  });

  it('accepts JSON numbers', () => {
    expect(parsePriceUnits(0.17)).toBe(1700);
    expect(parsePriceUnits(0.07)).toBe(700);
    expect(parsePriceUnits(1)).toBe(10_000);
  });

  it('rejects prices outside [0, 1]', () => {
    expect(invalidNumber(() => parsePriceUnits('1.0001', 'p')).message).toContain('outside [0, 1]');
    expect(invalidNumber(() => parsePriceUnits('-0.01', 'p')).message).toContain('outside [0, 1]');
  });

  it('rejects malformed strings and non-numbers, naming the field', () => {
    for (const bad of ['', '-', '.', 'abc', '0.1x', '0..1', '1e-2', ' 0.1', '0.1 ', '0,1', 'NaN']) {
      expect(invalidNumber(() => parsePriceUnits(bad, 'yes_price_dollars')).field).toBe('yes_price_dollars');
    }
    for (const bad of [null, undefined, true, {}, [], Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(invalidNumber(() => parsePriceUnits(bad as never, 'f')).field).toBe('f');
    }
  });

  it('rejects numbers that cannot be represented exactly (binary float artefacts, exponents)', () => {
    expect(invalidNumber(() => parsePriceUnits(0.1 + 0.2)).message).toContain('more than 4 decimals');
    expect(invalidNumber(() => parsePriceUnits(1e-7)).message).toContain('exponent');
  });
});

describe('parseCountCenti / parseMicros / parseFixed', () => {
  it('parses signed and fractional counts', () => {
    expect(parseCountCenti('5.52')).toBe(552);
    expect(parseCountCenti('-1.84')).toBe(-184);
    expect(parseCountCenti('+3')).toBe(300);
    expect(parseCountCenti('1406474.86')).toBe(140_647_486);
    expect(parseCountCenti(300)).toBe(30_000);
    expect(parseCountCenti(-54)).toBe(-5400);
  });

  it('never returns negative zero', () => {
    expect(Object.is(parseCountCenti('-0.00'), 0)).toBe(true);
  });

  it('rejects too many decimals and out-of-range values', () => {
    expect(invalidNumber(() => parseCountCenti('1.005', 'delta_fp')).message).toContain('more than 2 decimals');
    expect(invalidNumber(() => parseCountCenti('99999999999999999', 'count_fp')).message).toContain('out of range');
    expect(invalidNumber(() => parseCountCenti(1e21, 'count_fp')).message).toContain('out of range');
  });

  it('parses micro-dollar money', () => {
    expect(parseMicros('0.054600')).toBe(54_600);
    expect(parseMicros('50.0000')).toBe(50_000_000);
    expect(parseMicros('-0.000001')).toBe(-1);
    expect(invalidNumber(() => parseMicros('0.0000001', 'fee_cost')).field).toBe('fee_cost');
  });

  it('rejects unsupported decimal counts as a programmer error', () => {
    expect(() => parseFixed('1', 16, 'x')).toThrow(RangeError);
    expect(() => parseFixed('1', -1, 'x')).toThrow(RangeError);
    expect(parseFixed('1.5', 15, 'x')).toBe(1.5e15);
  });

  it('round-trips every count through formatCount (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), (centi) => {
        expect(parseCountCenti(formatCount(centi))).toBe(centi);
      }),
    );
  });

  it('round-trips every price through formatPrice (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), (units) => {
        expect(parsePriceUnits(formatPrice(units))).toBe(units);
      }),
    );
  });
});

describe('legacy integer cents', () => {
  it('converts cents and whole contracts', () => {
    expect(centsToPriceUnits(17)).toBe(1700);
    expect(centsToPriceUnits('96')).toBe(9600);
    expect(centsToPriceUnits(0)).toBe(0);
    expect(centsToPriceUnits(100)).toBe(10_000);
    expect(contractsToCountCenti(-54)).toBe(-5400);
    expect(contractsToCountCenti('300')).toBe(30_000);
  });

  it('rejects fractional or out-of-range legacy values', () => {
    expect(invalidNumber(() => centsToPriceUnits(17.5, 'price')).message).toContain('more than 0 decimals');
    expect(invalidNumber(() => centsToPriceUnits(101, 'price')).message).toContain('legacy cent price');
    expect(invalidNumber(() => centsToPriceUnits(-1, 'price')).message).toContain('legacy cent price');
    expect(invalidNumber(() => contractsToCountCenti('1.5', 'delta')).field).toBe('delta');
  });

  it('scales legacy integers exactly and refuses products beyond 2^53', () => {
    expect(parseScaledInteger(3, 10_000, 'taker_fees')).toBe(30_000);
    expect(parseScaledInteger('-12', 100, 'realized_pnl')).toBe(-1200);
    expect(contractsToCountCenti(90_071_992_547_409)).toBe(9_007_199_254_740_900);
    expect(invalidNumber(() => contractsToCountCenti(90_071_992_547_410, 'delta')).message).toContain('out of range');
    expect(invalidNumber(() => parseScaledInteger('1000000000000000', 10_000, 'fees_paid')).field).toBe('fees_paid');
  });
});

describe('formatting', () => {
  it('formats prices, counts and money', () => {
    expect(formatPrice(1700)).toBe('0.1700');
    expect(formatPrice(10_000)).toBe('1.0000');
    expect(formatPrice(1)).toBe('0.0001');
    expect(formatCount(552)).toBe('5.52');
    expect(formatCount(-184)).toBe('-1.84');
    expect(formatCount(0)).toBe('0.00');
    expect(formatMicros(54_600)).toBe('0.054600');
    expect(formatMicros(-1_230_000, 2)).toBe('-1.23');
    expect(formatMicros(2_000_000, 0)).toBe('2');
  });

  it('refuses to round money or format unsafe integers', () => {
    expect(() => formatMicros(1_234_567, 2)).toThrow(RangeError);
    expect(() => formatMicros(1, 7)).toThrow(RangeError);
    expect(() => formatPrice(0.5)).toThrow(RangeError);
  });
});
