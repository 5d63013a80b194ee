import { describe, expect, it } from 'vitest';
import { isKflowError } from '@kflow/orderbook';
import { generateCapture } from './capture';
import { resolveSimConfig } from './config';
import { createLatentIndex } from './latentIndex';

describe('createLatentIndex', () => {
  it('returns the latent of the last record at or before a time, per market', () => {
    const index = createLatentIndex();
    index.add({ ticker: 'A', tsMs: 1000, latent: 0.4 });
    index.add({ ticker: 'B', tsMs: 1000, latent: 0.9 });
    index.add({ ticker: 'A', tsMs: 1250, latent: 0.45 });
    index.add({ ticker: 'A', tsMs: 1250, latent: 0.46 });
    expect(index.latentAt('A', 1000)).toBe(0.4);
    expect(index.latentAt('A', 1249)).toBe(0.4);
    expect(index.latentAt('A', 1250)).toBe(0.46);
    expect(index.latentAt('A', 99_999)).toBe(0.46);
    expect(index.latentAt('B', 5000)).toBe(0.9);
    expect(index.tickers).toEqual(['A', 'B']);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        return isKflowError(error) ? error.code : 'not a KflowError';
      }
      return 'no error';
    };
    expect(code(() => index.latentAt('C', 1000))).toBe('UNKNOWN_MARKET');
    expect(code(() => index.latentAt('A', 999))).toBe('UNKNOWN_MARKET');
    expect(code(() => index.add({ ticker: 'A', tsMs: 1100, latent: 0.5 }))).toBe('BROKEN_INVARIANT');
  });

  it('holds exactly the oracle stream a capture writes', () => {
    const index = createLatentIndex();
    const lines: string[] = [];
    generateCapture(resolveSimConfig('informed', { seed: 4, markets: 2, durationMs: 60_000 }), {
      onFrame: () => {},
      onOracle: (line) => lines.push(line),
      onOracleRecord: index.add,
    });
    expect(lines.length).toBeGreaterThan(400);
    for (const line of lines) {
      const r = JSON.parse(line) as { market_ticker: string; ts_ms: number; latent: number };
      // One record per market and latent step: the lookup at its time is the record (lines round to 6 decimals).
      expect(Math.abs(index.latentAt(r.market_ticker, r.ts_ms) - r.latent)).toBeLessThanOrEqual(5e-7);
    }
  });
});
