import { KflowError } from '@kflow/orderbook';
import type { SimErrorCode } from './errors';
import type { OracleRecord } from './simulator';

/**
 * The latent probability paths of simulated markets, looked up by exchange time: what an oracle baseline
 * reads. Agents never see it; it exists to measure how much of the simulator's edge a policy captures.
 */
export interface LatentIndex {
  /** Appends one oracle record; records of a market must arrive in time order (as the simulator emits them). */
  add(record: OracleRecord): void;
  /** The latent of `ticker` at `tsMs`: the last record at or before it. Throws for an unknown ticker or a time before its first record. */
  latentAt(ticker: string, tsMs: number): number;
  /** Tickers with at least one record. */
  readonly tickers: readonly string[];
}

interface Path {
  ts: Float64Array;
  latent: Float64Array;
  length: number;
}

function grow(p: Path): void {
  const ts = new Float64Array(p.ts.length * 2);
  const latent = new Float64Array(p.latent.length * 2);
  ts.set(p.ts);
  latent.set(p.latent);
  p.ts = ts;
  p.latent = latent;
}

/**
 * An empty {@link LatentIndex}; pass its `add` as `SimulatorOptions.onOracle`.
 *
 * @example
 * const latents = createLatentIndex();
 * const sim = createSimulator(config, { onOracle: latents.add });
 * while (sim.next()) {}
 * latents.latentAt(sim.markets[0]!.ticker, config.startMs + 60_000);
 */
export function createLatentIndex(): LatentIndex {
  const paths = new Map<string, Path>();
  const tickers: string[] = [];
  return {
    add(record) {
      let p = paths.get(record.ticker);
      if (p === undefined) {
        p = { ts: new Float64Array(1024), latent: new Float64Array(1024), length: 0 };
        paths.set(record.ticker, p);
        tickers.push(record.ticker);
      }
      if (p.length > 0 && record.tsMs < p.ts[p.length - 1]!) {
        throw new KflowError<SimErrorCode>('BROKEN_INVARIANT', `oracle records of ${record.ticker} out of time order at ${record.tsMs}`);
      }
      if (p.length === p.ts.length) grow(p);
      p.ts[p.length] = record.tsMs;
      p.latent[p.length] = record.latent;
      p.length++;
    },
    latentAt(ticker, tsMs) {
      const p = paths.get(ticker);
      if (p === undefined || p.length === 0 || tsMs < p.ts[0]!) {
        throw new KflowError<SimErrorCode>('UNKNOWN_MARKET', `no latent for ${ticker} at ${tsMs}`);
      }
      // Last index with ts ≤ tsMs (records at one time: the last one wins, as it was the latest state).
      let lo = 0;
      let hi = p.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (p.ts[mid]! <= tsMs) lo = mid;
        else hi = mid - 1;
      }
      return p.latent[lo]!;
    },
    tickers,
  };
}
