import { OrderBook } from '@kflow/orderbook';
import { describe, expect, it } from 'vitest';
import { buildObservation, type PositionFeaturesInput } from './buildObservation';
import { F, OBSERVATION_SIZE } from './featureSpec';
import { TEMPORAL_STATE_SIZE, TemporalState } from './temporalState';

const flat: PositionFeaturesInput = {
  positionCenti: 0,
  positionLimitCenti: 100,
  unrealizedPnlMicros: 0,
  cashMicros: 1,
  portfolioValueMicros: 1,
  restingBidCenti: 0,
  restingAskCenti: 0,
};
const T0 = 1_700_000_000_000;

function book(bid: number, ask: number): OrderBook {
  const b = new OrderBook('T');
  b.applySnapshot([[bid, 100]], [[10_000 - ask, 100]]);
  return b;
}

function obsAt(temporal: TemporalState, b: OrderBook, nowMs: number): Float32Array {
  return buildObservation(new Float32Array(OBSERVATION_SIZE), b, temporal, flat, nowMs);
}

describe('TemporalState', () => {
  it('measures a steady event rate over 10 s and 60 s and flags bursts', () => {
    const t = new TemporalState();
    const b = book(4000, 4100);
    for (let i = 0; i <= 6000; i++) t.update(T0 + i * 100, b); // 10 events/s for 600 s
    const obs = obsAt(t, b, T0 + 600_000);
    // A decayed count of a steady stream converges to tau/dt + 1/2 (plus the current event).
    expect(obs[F.rate10s]).toBeCloseTo(Math.log1p(10.05) / Math.log1p(1000), 2);
    expect(obs[F.rate60s]).toBeCloseTo(Math.log1p(10.008) / Math.log1p(1000), 2);
    expect(obs[F.burst]).toBe(1);
    expect(obs[F.active]).toBe(1);
    expect(obs[F.quiet]).toBe(0);
    expect(obs[F.activityAccel]).toBeCloseTo(0, 2);
    expect(obs[F.logGap]).toBeCloseTo(Math.log1p(100) / Math.log1p(3_600_000), 6);
  });

  it('decays to the decision time: silence turns a burst into a quiet, decelerating market', () => {
    const t = new TemporalState();
    const b = book(4000, 4100);
    for (let i = 0; i <= 100; i++) t.update(T0 + i * 50, b);
    const later = obsAt(t, b, T0 + 5000 + 45_000);
    expect(later[F.burst]).toBe(0);
    expect(later[F.quiet]).toBe(1);
    expect(later[F.activityAccel]).toBeLessThan(-0.5);
    // The gap before an event is kept when deciding at that event.
    t.update(T0 + 5000 + 45_000, b);
    const atEvent = obsAt(t, b, T0 + 5000 + 45_000);
    expect(atEvent[F.quiet]).toBe(1);
    expect(atEvent[F.logGap]).toBeCloseTo(Math.log1p(45_000) / Math.log1p(3_600_000), 6);
  });

  it('tracks mid returns, realized volatility and trade flow', () => {
    const t = new TemporalState();
    const low = book(4000, 4100);
    const high = book(4400, 4500);
    for (let i = 0; i < 100; i++) t.update(T0 + i * 1000, low);
    const calm = obsAt(t, low, T0 + 99_000);
    expect(calm[F.midReturn10s]).toBe(0);
    expect(calm[F.volatility60s]).toBe(0);
    expect(calm[F.tradeFlow60s]).toBe(0);
    t.update(T0 + 100_000, high, 5000); // mid +4 cents, takers bought 50 YES
    const jump = obsAt(t, high, T0 + 100_000);
    expect(jump[F.midReturn10s]).toBeCloseTo(Math.tanh(0.04 / 0.02), 5);
    expect(jump[F.volatility10s]).toBeCloseTo(Math.tanh(0.04 / 0.05), 5);
    expect(jump[F.tradeFlow60s]).toBeCloseTo(50 / 51, 5);
    // After 10 s at the new mid the short return has mostly decayed, the long one less so.
    const after = obsAt(t, high, T0 + 110_000);
    expect(after[F.midReturn10s]).toBeLessThan(jump[F.midReturn10s]!);
    expect(after[F.midReturn60s]).toBeGreaterThan(after[F.midReturn10s]!);
    t.update(T0 + 110_000, low, -20_000);
    expect(obsAt(t, low, T0 + 110_000)[F.tradeFlow60s]).toBeLessThan(0);
  });

  it('saves and restores its state bit for bit', () => {
    const a = new TemporalState();
    const b = book(4000, 4100);
    const c = book(3900, 4300);
    for (let i = 0; i < 50; i++) a.update(T0 + i * 333, i % 3 ? b : c, i % 7 === 0 ? 150 : 0);
    const saved = new Float64Array(TEMPORAL_STATE_SIZE + 1);
    a.save(saved, 1);
    const restored = new TemporalState();
    restored.load(saved, 1);
    for (let i = 50; i < 80; i++) {
      a.update(T0 + i * 333, i % 3 ? b : c);
      restored.update(T0 + i * 333, i % 3 ? b : c);
    }
    expect(obsAt(restored, b, T0 + 30_000)).toEqual(obsAt(a, b, T0 + 30_000));
    // Every field is saved: a field added without extending the list would not survive a checkpoint.
    expect(Object.keys(new TemporalState())).toHaveLength(TEMPORAL_STATE_SIZE);
    restored.reset();
    expect(obsAt(restored, b, T0)).toEqual(obsAt(new TemporalState(), b, T0));
  });

  it('observeEvent signs trades by taker side and ignores book events as trades', () => {
    const b = book(4000, 4100);
    const viaEvents = new TemporalState();
    const viaUpdate = new TemporalState();
    viaEvents.observeEvent({ kind: 'delta', ticker: 'T', tsMs: T0, side: 'yes', priceUnits: 4000, deltaCenti: 5 }, b);
    viaEvents.observeEvent({ kind: 'trade', ticker: 'T', tsMs: T0 + 10, yesPriceUnits: 4000, countCenti: 300, takerSide: 'no' }, b);
    viaEvents.observeEvent({ kind: 'trade', ticker: 'T', tsMs: T0 + 20, yesPriceUnits: 4100, countCenti: 100, takerSide: 'yes' }, b);
    viaUpdate.update(T0, b);
    viaUpdate.update(T0 + 10, b, -300);
    viaUpdate.update(T0 + 20, b, 100);
    expect(obsAt(viaEvents, b, T0 + 20)).toEqual(obsAt(viaUpdate, b, T0 + 20));
    expect(obsAt(viaEvents, b, T0 + 20)[F.tradeFlow60s]).toBeLessThan(0);
  });

  it('treats timestamps that go backwards as simultaneous', () => {
    const t = new TemporalState();
    const b = book(4000, 4100);
    t.update(T0 + 1000, b);
    t.update(T0 + 500, b);
    expect(t.gapMs).toBe(0);
    expect(t.lastTsMs).toBe(T0 + 1000);
  });
});
