import type { SimConfig } from './config';
import { deltaFrame, lifecycleFrame, snapshotFrame, subscribedFrame, tradeFrame } from './frames';
import { type OracleRecord, createSimulator } from './simulator';

/** Sids a capture uses, as if one client had subscribed to the three channels in this order. */
export const CAPTURE_SIDS = { orderbook_delta: 1, trade: 2, market_lifecycle_v2: 3 } as const;

/** Where {@link generateCapture} sends the frames (and the oracle stream) it generates. */
export interface CaptureOptions {
  /** Receives each raw frame (one JSONL line, without the newline). */
  readonly onFrame: (line: string) => void;
  /** Receives each oracle line (JSON, without the newline): `{"market_ticker","ts_ms","latent"}`. */
  readonly onOracle?: (line: string) => void;
  /** Receives each oracle record as data (e.g. a `LatentIndex`'s `add`), for in-process evaluation. */
  readonly onOracleRecord?: (record: OracleRecord) => void;
}

/** One simulated market of a capture: ids, outcome and event counts. */
export interface CaptureMarketSummary {
  readonly ticker: string;
  readonly marketId: string;
  readonly result: 'yes' | 'no';
  readonly deltas: number;
  readonly trades: number;
}

/** What a simulated capture contains: preset, seed, edge, frame count, exchange-time span and markets. */
export interface CaptureSummary {
  readonly preset: string;
  readonly seed: number;
  readonly edge: number;
  readonly frames: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly markets: readonly CaptureMarketSummary[];
}

/** Oracle records as one JSON line (6 decimals are plenty for evaluation and keep output stable). */
function oracleLine(r: OracleRecord): string {
  return `{"market_ticker":"${r.ticker}","ts_ms":${r.tsMs},"latent":${r.latent.toFixed(6)}}`;
}

/**
 * Runs a whole simulated session and hands out the raw Kalshi frames a collector subscribed to
 * orderbook_delta (all markets), trade and market_lifecycle_v2 would have received: the `subscribed`
 * acks, one snapshot per market, then deltas, trades and the settlement events, with sid/seq per channel.
 *
 * @example
 * const lines: string[] = [];
 * const summary = generateCapture(resolveSimConfig('calm', { seed: 1 }), { onFrame: (l) => lines.push(l) });
 */
export function generateCapture(config: SimConfig, options: CaptureOptions): CaptureSummary {
  const { onFrame, onOracle, onOracleRecord } = options;
  const oracle =
    onOracle === undefined && onOracleRecord === undefined
      ? undefined
      : (r: OracleRecord) => {
          onOracleRecord?.(r);
          onOracle?.(oracleLine(r));
        };
  const sim = createSimulator(config, oracle === undefined ? {} : { onOracle: oracle });
  const seq = { orderbook_delta: 0, trade: 0, market_lifecycle_v2: 0 };
  let frames = 0;
  const out = (line: string) => {
    frames++;
    onFrame(line);
  };
  let id = 0;
  for (const channel of ['orderbook_delta', 'trade', 'market_lifecycle_v2'] as const) {
    out(subscribedFrame(++id, channel, CAPTURE_SIDS[channel]));
  }
  const ids = new Map<string, string>();
  const counts = new Map<string, { deltas: number; trades: number }>();
  for (const m of sim.markets) {
    ids.set(m.ticker, m.marketId);
    counts.set(m.ticker, { deltas: 0, trades: 0 });
    out(snapshotFrame(CAPTURE_SIDS.orderbook_delta, ++seq.orderbook_delta, sim.book(m.ticker)!, m.marketId));
  }
  for (let e = sim.next(); e !== undefined; e = sim.next()) {
    switch (e.kind) {
      case 'delta':
        counts.get(e.ticker)!.deltas++;
        out(deltaFrame(CAPTURE_SIDS.orderbook_delta, ++seq.orderbook_delta, e, ids.get(e.ticker)!));
        break;
      case 'trade':
        counts.get(e.ticker)!.trades++;
        out(tradeFrame(CAPTURE_SIDS.trade, ++seq.trade, e));
        break;
      case 'lifecycle':
        out(lifecycleFrame(CAPTURE_SIDS.market_lifecycle_v2, ++seq.market_lifecycle_v2, e));
        break;
    }
  }
  return {
    preset: config.preset,
    seed: config.seed,
    edge: config.edge,
    frames,
    startMs: config.startMs,
    endMs: config.startMs + Math.floor(config.durationMs),
    markets: sim.markets.map((m) => ({
      ticker: m.ticker,
      marketId: m.marketId,
      result: sim.results.get(m.ticker)!,
      ...counts.get(m.ticker)!,
    })),
  };
}
