import { createMarketPool, createSyntheticSession } from '@kflow/env';
import { FEATURE_SET_VERSION } from '@kflow/features';
import { sessionDataFromCaptureSync } from '@kflow/orderbook';
import { describe, expect, it } from 'vitest';
import { runEnvCheck } from './envCheck';

/** A tiny hand-written capture: one market, a snapshot and a few deltas and trades. */
function captureLines(): string[] {
  const lines = [
    '{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":{"market_ticker":"TEST-A","yes_dollars_fp":[["0.4000","100.00"],["0.4100","20.00"]],"no_dollars_fp":[["0.5500","80.00"],["0.5700","15.00"]]}}',
  ];
  for (let i = 0; i < 60; i++) {
    const ts = 1_767_225_600_000 + i * 700;
    const side = i % 2 ? 'yes' : 'no';
    const price = side === 'yes' ? '0.4000' : '0.5500';
    lines.push(`{"type":"orderbook_delta","sid":1,"seq":${i + 2},"msg":{"market_ticker":"TEST-A","price_dollars":"${price}","delta_fp":"${i % 4 < 2 ? '5.00' : '-3.00'}","side":"${side}","ts_ms":${ts}}}`);
  }
  return lines;
}

describe('runEnvCheck', () => {
  it('checks an env built from a capture and reports the documented fields', () => {
    const session = sessionDataFromCaptureSync(captureLines(), { id: 'cap' });
    const summary = runEnvCheck(createMarketPool([session]), { seed: 1, steps: 500 });
    expect(Object.keys(summary)).toEqual([
      'ok', 'markets', 'events', 'episodes', 'steps', 'meanReward', 'observationSize', 'actionCount', 'featureSetVersion',
    ]);
    expect(summary).toMatchObject({ ok: true, markets: 1, events: 60, steps: 500, observationSize: 27, actionCount: 18, featureSetVersion: FEATURE_SET_VERSION });
    expect(summary.episodes).toBeGreaterThan(0);
    expect(Number.isFinite(summary.meanReward)).toBe(true);
  });

  it('is reproducible from its seed', () => {
    const sessions = [createSyntheticSession({ seed: 3, markets: 2, eventsPerMarket: 2000 })];
    expect(runEnvCheck(createMarketPool(sessions), { seed: 4, steps: 800 })).toEqual(runEnvCheck(createMarketPool(sessions), { seed: 4, steps: 800 }));
  });
});
