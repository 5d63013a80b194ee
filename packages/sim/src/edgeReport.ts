import type { SimConfig } from './config';
import { createSimulator } from './simulator';

/** One market sampled once per exchange second (see `sampleSession`). Prices in price units. */
export interface MarketSamples {
  readonly ticker: string;
  readonly bid: number[];
  readonly ask: number[];
  readonly mid: number[];
  /** Depth imbalance over the top 5 levels, (YES − NO) / (YES + NO). */
  readonly imbalance: number[];
  /** Signed taker volume (YES − NO) over the last 10 s, centi-contracts. */
  readonly flow: number[];
  /** The latent probability (oracle; not observable). */
  readonly latent: number[];
}

/**
 * Runs a session and samples every market once per exchange second: the observable top of book, depth
 * imbalance and recent taker flow, next to the (oracle) latent. Used to measure the edge knob.
 *
 * @example
 * const [m0] = sampleSession(resolveSimConfig('informed', { markets: 1 }));
 * m0.mid.length; // one per second of the session
 */
export function sampleSession(config: SimConfig): MarketSamples[] {
  const latent = new Map<string, number>();
  const sim = createSimulator(config, { onOracle: (r) => latent.set(r.ticker, r.latent) });
  const out = sim.markets.map(
    (m): MarketSamples => ({ ticker: m.ticker, bid: [], ask: [], mid: [], imbalance: [], flow: [], latent: [] }),
  );
  const trades = sim.markets.map(() => [] as { tsMs: number; signed: number }[]);
  const index = new Map(sim.markets.map((m) => [m.ticker, m.index]));
  let nextSample = config.startMs + 1000;
  const sample = () => {
    for (const m of sim.markets) {
      const book = sim.book(m.ticker)!;
      const window = trades[m.index]!;
      while (window.length > 0 && window[0]!.tsMs < nextSample - 10_000) window.shift();
      const s = out[m.index]!;
      s.bid.push(book.bestBid('yes'));
      s.ask.push(book.bestAsk('yes'));
      s.mid.push(book.mid());
      s.imbalance.push(book.imbalance(5));
      s.flow.push(window.reduce((a, t) => a + t.signed, 0));
      s.latent.push(latent.get(m.ticker)!);
    }
    nextSample += 1000;
  };
  for (let e = sim.next(); e !== undefined; e = sim.next()) {
    while (e.tsMs >= nextSample && e.kind !== 'lifecycle') sample();
    if (e.kind === 'trade') trades[index.get(e.ticker)!]!.push({ tsMs: e.tsMs, signed: e.takerSide === 'yes' ? e.countCenti : -e.countCenti });
  }
  return out;
}

/** How well observable signals predict the next mid moves in a simulated session (see `measureEdge`). */
export interface EdgeReport {
  /** Non-overlapping (signal, future move) pairs pooled over markets. */
  readonly samples: number;
  readonly horizonSec: number;
  /** Pearson correlation of each signal with the mid change over the next `horizonSec`. */
  readonly correlations: {
    /** Depth imbalance over the top 5 levels. */
    readonly imbalance: number;
    /** Signed taker volume over the last 10 s. */
    readonly flow: number;
    /** Mid change over the last 10 s. */
    readonly momentum: number;
  };
  /** Mean |latent − mid| in cents: the mispricing an informed trader sees (oracle, not observable). */
  readonly meanLatentGapCents: number;
  readonly meanSpreadCents: number;
}

function pearson(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i]! / n;
    my += ys[i]! / n;
  }
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? 0 : sxy / Math.sqrt(sxx * syy);
}

/**
 * Measures the exploitable structure of a config: signals at a sample are paired with the mid change over
 * the next `horizonSec` on non-overlapping windows. At `edge` 0 all three correlations are statistically
 * zero; they grow with `edge`.
 *
 * @example
 * measureEdge(resolveSimConfig('informed', { edge: 0 })).correlations; // { imbalance: ~0, flow: ~0, momentum: ~0 }
 */
export function measureEdge(config: SimConfig, options: { readonly horizonSec?: number } = {}): EdgeReport {
  const horizon = options.horizonSec ?? 20;
  const x = { imbalance: [] as number[], flow: [] as number[], momentum: [] as number[] };
  const future: number[] = [];
  let gapSum = 0;
  let spreadSum = 0;
  let n = 0;
  for (const s of sampleSession(config)) {
    for (let i = 0; i < s.mid.length; i++) {
      gapSum += Math.abs(s.latent[i]! * 10_000 - s.mid[i]!) / 100;
      spreadSum += (s.ask[i]! - s.bid[i]!) / 100;
      n++;
    }
    for (let i = 10; i + horizon < s.mid.length; i += horizon) {
      x.imbalance.push(s.imbalance[i]!);
      x.flow.push(s.flow[i]!);
      x.momentum.push(s.mid[i]! - s.mid[i - 10]!);
      future.push(s.mid[i + horizon]! - s.mid[i]!);
    }
  }
  return {
    samples: future.length,
    horizonSec: horizon,
    correlations: { imbalance: pearson(x.imbalance, future), flow: pearson(x.flow, future), momentum: pearson(x.momentum, future) },
    meanLatentGapCents: gapSum / Math.max(1, n),
    meanSpreadCents: spreadSum / Math.max(1, n),
  };
}
