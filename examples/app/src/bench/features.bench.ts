import { createSyntheticSession, replaySeriesEvent, startMarket } from '@kflow/env';
import { OBSERVATION_SIZE, type PositionFeaturesInput, TemporalState, buildObservation } from '@kflow/features';
import { OrderBook } from '@kflow/orderbook';
import { type Benchmark, nsPerOp } from './harness';

/** A book and temporal state after 5,000 events of a synthetic market (8+ levels a side). */
function observationWorkload() {
  const series = createSyntheticSession({ seed: 11, markets: 1, eventsPerMarket: 5000 }).markets[0]!;
  const book = new OrderBook(series.ticker);
  const temporal = new TemporalState();
  startMarket(series, book, temporal);
  for (let i = 0; i < series.length; i++) replaySeriesEvent(series, i, book, temporal);
  const account: PositionFeaturesInput = {
    positionCenti: 300,
    positionLimitCenti: 1000,
    unrealizedPnlMicros: 12_000,
    cashMicros: 15_000_000,
    portfolioValueMicros: 16_500_000,
    restingBidCenti: 100,
    restingAskCenti: 0,
  };
  return { book, temporal, account, out: new Float32Array(OBSERVATION_SIZE), t0: series.tsMs[series.length - 1]! };
}

export const featuresBenchmarks: readonly Benchmark[] = [
  {
    name: 'features.buildObservation.nsPerOp',
    description: `buildObservation (${OBSERVATION_SIZE} features) on a replayed synthetic book, decision times 1 ms apart`,
    better: 'lower',
    setup: observationWorkload,
    run: (state) => {
      const { book, temporal, account, out, t0 } = state as ReturnType<typeof observationWorkload>;
      return nsPerOp(1 << 20, (i) => {
        buildObservation(out, book, temporal, account, t0 + (i & 0xffff));
      });
    },
  },
];
