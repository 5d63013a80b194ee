import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type KalshiFrame, parseFrame, replay, sessionDataFromCaptureSync } from '@kflow/orderbook';
import { generateCapture } from './capture';
import { resolveSimConfig } from './config';
import { createSimulator } from './simulator';
import { createTickGrid } from './tickGrid';

function capture(preset: string, overrides: Parameters<typeof resolveSimConfig>[1]) {
  const lines: string[] = [];
  const oracle: string[] = [];
  const summary = generateCapture(resolveSimConfig(preset, overrides), {
    onFrame: (l) => lines.push(l),
    onOracle: (l) => oracle.push(l),
  });
  return { lines, oracle, summary };
}

const digest = (lines: readonly string[]) => createHash('sha256').update(lines.join('\n')).digest('hex');

describe('determinism', () => {
  it('same seed and config give byte-identical frames and oracle; another seed differs', () => {
    const a = capture('volatile', { seed: 11, markets: 3, durationMs: 60_000 });
    const b = capture('volatile', { seed: 11, markets: 3, durationMs: 60_000 });
    const c = capture('volatile', { seed: 12, markets: 3, durationMs: 60_000 });
    expect(a.lines.length).toBeGreaterThan(1000);
    expect(digest(a.lines)).toBe(digest(b.lines));
    expect(digest(a.oracle)).toBe(digest(b.oracle));
    expect(digest(a.lines)).not.toBe(digest(c.lines));
    expect(a.summary).toEqual(b.summary);
  });

  it('uses synthetic tickers SIM-<preset>-<seed>-M<i>', () => {
    const sim = createSimulator(resolveSimConfig('calm', { seed: 5, markets: 2 }));
    expect(sim.markets.map((m) => m.ticker)).toEqual(['SIM-CALM-5-M0', 'SIM-CALM-5-M1']);
  });
});

describe('frames', () => {
  for (const [preset, tickStructure, fractionalSizes] of [
    ['informed', 'linear_cent', false],
    ['volatile', 'deci_cent', true],
    ['calm', 'tapered_deci_cent', true],
  ] as const) {
    it(`${preset} / ${tickStructure}${fractionalSizes ? ' / fractional' : ''}: every frame parses and replays with 0 gaps, negative or crossed books`, () => {
      const { lines, summary } = capture(preset, { seed: 3, markets: 3, durationMs: 90_000, tickStructure, fractionalSizes });
      const grid = createTickGrid(tickStructure);
      const types = new Map<string, number>();
      let fractional = 0;
      for (const line of lines) {
        const frame = parseFrame(JSON.parse(line));
        types.set(frame.type, (types.get(frame.type) ?? 0) + 1);
        if (frame.type === 'orderbook_delta') {
          expect(grid.floor(frame.priceUnits)).toBe(frame.priceUnits);
          if (frame.deltaCenti % 100 !== 0) fractional++;
        }
      }
      expect(fractional > 0).toBe(fractionalSizes);
      expect(types.get('orderbook_snapshot')).toBe(3);
      expect(types.get('orderbook_delta')).toBeGreaterThan(300);
      expect(types.get('trade')).toBeGreaterThan(10);
      expect(types.get('market_lifecycle_v2')).toBe(6);
      const { counters, state } = replay(lines);
      expect(counters).toMatchObject({ errors: 0, gaps: 0, negative: 0, crossed: 0, frames: lines.length });
      // The replayed books equal the simulator's final books.
      const sim = createSimulator(resolveSimConfig(preset, { seed: 3, markets: 3, durationMs: 90_000, tickStructure, fractionalSizes }));
      while (sim.next() !== undefined);
      for (const m of summary.markets) {
        for (const side of ['yes', 'no'] as const) expect(state.book(m.ticker)!.levels(side)).toEqual(sim.book(m.ticker)!.levels(side));
      }
    });
  }

  it('sid/seq: one sid per channel, seq consecutive from 1 on each', () => {
    const { lines } = capture('informed', { seed: 4, markets: 2, durationMs: 30_000 });
    const last = new Map<number, number>();
    for (const line of lines) {
      const raw = JSON.parse(line) as { type: string; sid?: number; seq?: number; msg: { sid?: number } };
      if (raw.type === 'subscribed') continue;
      expect(raw.seq).toBe((last.get(raw.sid!) ?? 0) + 1);
      last.set(raw.sid!, raw.seq!);
    }
    expect([...last.keys()].sort()).toEqual([1, 2, 3]);
  });

  it('trades match the liquidity they remove and timestamps never go backwards', () => {
    const sim = createSimulator(resolveSimConfig('volatile', { seed: 8, markets: 2, durationMs: 60_000 }));
    let lastTs = 0;
    let pendingRemoval = new Map<string, number>();
    let trades = 0;
    for (let e = sim.next(); e !== undefined; e = sim.next()) {
      expect(e.tsMs).toBeGreaterThanOrEqual(lastTs);
      lastTs = e.tsMs;
      if (e.kind === 'delta' && e.deltaCenti < 0) pendingRemoval.set(`${e.ticker}/${e.side}/${e.priceUnits}`, -e.deltaCenti);
      if (e.kind === 'trade') {
        trades++;
        const makerSide = e.takerSide === 'yes' ? 'no' : 'yes';
        const makerPrice = e.takerSide === 'yes' ? 10_000 - e.yesPriceUnits : e.yesPriceUnits;
        expect(pendingRemoval.get(`${e.ticker}/${makerSide}/${makerPrice}`)).toBe(e.countCenti);
        pendingRemoval = new Map();
      }
    }
    expect(trades).toBeGreaterThan(50);
  });
});

describe('settlement', () => {
  it('ends each market with determined then settled lifecycle frames that carry the result', () => {
    const { lines, summary } = capture('calm', { seed: 9, markets: 4, durationMs: 20_000 });
    const lifecycle = lines
      .map((l) => parseFrame(JSON.parse(l)))
      .filter((f): f is Extract<KalshiFrame, { type: 'market_lifecycle_v2' }> => f.type === 'market_lifecycle_v2');
    expect(lifecycle).toHaveLength(8);
    for (const m of summary.markets) {
      const [determined, settled] = lifecycle.filter((f) => f.ticker === m.ticker);
      expect(determined!.eventType).toBe('determined');
      expect(determined!.result).toBe(m.result);
      expect(determined!.settlementValueUnits).toBe(m.result === 'yes' ? 10_000 : 0);
      expect(settled!.eventType).toBe('settled');
      expect(settled!.settledTsMs).toBe(summary.endMs);
    }
    const session = sessionDataFromCaptureSync(lines, { id: 'sim' });
    for (const s of session.markets) expect(s.settlement?.result).toBe(summary.markets.find((m) => m.ticker === s.ticker)!.result);
  });

  it('settles YES with the final latent probability', () => {
    const finals = new Map<string, number>();
    const sim = createSimulator(resolveSimConfig('volatile', { seed: 21, markets: 400, durationMs: 5_000 }), {
      onOracle: (r) => finals.set(r.ticker, r.latent),
    });
    while (sim.next() !== undefined);
    let yes = 0;
    let expected = 0;
    let variance = 0;
    for (const [ticker, p] of finals) {
      expected += p;
      variance += p * (1 - p);
      if (sim.results.get(ticker) === 'yes') yes++;
    }
    expect(Math.abs(yes - expected)).toBeLessThan(4 * Math.sqrt(variance));
  });
});
