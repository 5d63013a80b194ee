import { OBSERVATION_SIZE, TemporalState, buildObservation } from '@kflow/features';
import {
  EventKind,
  type Level,
  type MarketSeries,
  createRng,
  createSharedOrderbookState,
  formatCount,
  formatPrice,
  parseFrame,
} from '@kflow/orderbook';
import { describe, expect, it } from 'vitest';
import { createKalshiEnv } from './kalshiEnv';
import { createSyntheticSession } from './syntheticSession';

const levels = (ls: readonly Level[]) => ls.map(([p, c]) => [formatPrice(p), formatCount(c)]);

/** The market's recording as Kalshi WebSocket lines (what the live collector receives), with receive times. */
function toWire(series: MarketSeries): { line: string; recvMs: number }[] {
  const out: { line: string; recvMs: number }[] = [];
  let seq = 1;
  const msg = (type: string, body: Record<string, unknown>) => JSON.stringify({ type, sid: 1, seq: seq++, msg: { market_ticker: series.ticker, ...body } });
  const snapshot = (yes: readonly Level[], no: readonly Level[]) => msg('orderbook_snapshot', { yes_dollars_fp: levels(yes), no_dollars_fp: levels(no) });
  out.push({ line: snapshot(series.initial.yes, series.initial.no), recvMs: series.initialTsMs });
  for (let i = 0; i < series.length; i++) {
    const ts = series.tsMs[i]!;
    const kind = series.kind[i]!;
    const price = series.price[i]!;
    const qty = series.qty[i]!;
    let line: string;
    if (kind === EventKind.DeltaYes || kind === EventKind.DeltaNo) {
      line = msg('orderbook_delta', { price_dollars: formatPrice(price), delta_fp: formatCount(qty), side: kind === EventKind.DeltaYes ? 'yes' : 'no', ts_ms: ts });
    } else if (kind === EventKind.TradeTakerYes || kind === EventKind.TradeTakerNo) {
      line = msg('trade', { yes_price_dollars: formatPrice(price), count_fp: formatCount(qty), taker_side: kind === EventKind.TradeTakerYes ? 'yes' : 'no', ts_ms: ts });
    } else {
      const snap = series.snapshots[qty]!;
      line = snapshot(snap.yes, snap.no);
    }
    out.push({ line, recvMs: ts });
  }
  return out;
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('env ↔ live observation parity', () => {
  it('one stream through an env episode and through SharedOrderbookState gives bit-identical observations', () => {
    const session = createSyntheticSession({ seed: 77, markets: 1, eventsPerMarket: 3000 });
    const series = session.markets[0]!;
    const wire = toWire(series);
    const env = createKalshiEnv({ sessions: [session], episodeSteps: 10_000 });
    const rng = createRng(5);

    // The live actor: frames → SharedOrderbookState → book view → TemporalState → buildObservation.
    const state = createSharedOrderbookState();
    const temporal = new TemporalState();
    const live = new Float32Array(OBSERVATION_SIZE);
    let applied = 0; // wire lines applied (line 0 is the snapshot)
    const liveUpTo = (eventIndex: number): void => {
      while (applied <= eventIndex) {
        const { line, recvMs } = wire[applied++]!;
        const { event } = state.applyFrame(parseFrame(line), recvMs);
        if (event) temporal.observeEvent(event, state.book(series.ticker)!);
      }
    };

    // Start mid-session (the env restores a checkpoint), then trade randomly so position features move.
    const start = 1500;
    let { observation, info } = env.reset({ seed: 1, options: { marketIndex: 0, startEvent: start } });
    liveUpTo(start); // snapshot + events [0, start)
    let nowMs = series.tsMs[start - 1]!;
    let compared = 0;
    for (;;) {
      buildObservation(live, state.book(series.ticker)!, temporal, env.account, nowMs);
      expect(bits(observation)).toEqual(bits(live));
      compared++;
      const allowed = [...info.actionMask].flatMap((m, i) => (m ? [i] : []));
      const step = env.step(allowed[rng.int(allowed.length)]!);
      if (step.terminated || step.truncated) break;
      liveUpTo(step.info.eventIndex);
      nowMs = series.tsMs[step.info.eventIndex - 1]!;
      ({ observation, info } = step);
    }
    expect(compared).toBe(series.length - start);
    expect(env.account.positionCenti !== 0 || info.trades > 0).toBe(true);
  });
});
