/** Shared benchmark fixtures: synthetic Kalshi frames (valid, sequenced, never negative or crossed) and a database that discards. */
import type { IngestDatabase } from '@kflow/ingest';
import { type Rng, formatCount, formatPrice } from '@kflow/orderbook';

/** A database that accepts every batch instantly: the collector's row building and enqueue, no I/O. */
export const discardDatabase: IngestDatabase = {
  kind: 'custom',
  query: async () => ({ rows: [] }),
  exec: async () => {},
  insertRows: async () => {},
  close: async () => {},
};

/** A live Kalshi feed over `markets` markets, produced one frame at a time. */
export interface SyntheticFeed {
  /** The subscription acks and one snapshot per market. */
  start(): string[];
  /** One delta or (a `tradeShare` of the time) trade on a random market, stamped `tsMs`. */
  next(tsMs: number): string;
}

/**
 * Valid synthetic frames for markets `BENCH-M<i>`: the order-book subscription (sid 1) and the trade
 * subscription (sid 2), each with contiguous seq; a snapshot per market first (YES bids 20–44¢, NO bids
 * 40–54¢: best YES + best NO ≤ 98¢, so no book is ever crossed), then deltas near the touch (YES 35–44¢,
 * NO 45–54¢) that never take a level below zero, and trades around the touch (43–47¢) so resting paper
 * orders may fill.
 */
export function createSyntheticFeed(markets: number, rng: Rng, tradeShare = 0.1): SyntheticFeed {
  let bookSeq = 0;
  let tradeSeq = 0;
  const sizes: [Map<number, number>, Map<number, number>][] = [];
  const levels = (s: Map<number, number>) => JSON.stringify([...s].map(([p, q]) => [formatPrice(p), formatCount(q)]));
  return {
    start() {
      const out = ['{"id":1,"type":"subscribed","msg":{"channel":"orderbook_delta","sid":1}}', '{"id":2,"type":"subscribed","msg":{"channel":"trade","sid":2}}'];
      for (let m = 0; m < markets; m++) {
        const yes = new Map<number, number>();
        const no = new Map<number, number>();
        for (let c = 20; c <= 44; c++) yes.set(c * 100, 100_000 + rng.int(1_000_000));
        for (let c = 40; c <= 54; c++) no.set(c * 100, 100_000 + rng.int(1_000_000));
        sizes.push([yes, no]);
        out.push(
          `{"type":"orderbook_snapshot","sid":1,"seq":${++bookSeq},"msg":{"market_ticker":"BENCH-M${m}","market_id":"m${m}","yes_dollars_fp":${levels(yes)},"no_dollars_fp":${levels(no)}}}`,
        );
      }
      return out;
    },
    next(tsMs) {
      const m = rng.int(markets);
      if (tradeShare > 0 && rng.next() < tradeShare) {
        const price = (43 + rng.int(5)) * 100;
        const count = (1 + rng.int(5)) * 100;
        const taker = rng.int(2) === 0 ? 'yes' : 'no';
        return `{"type":"trade","sid":2,"seq":${++tradeSeq},"msg":{"trade_id":"t${tradeSeq}","market_ticker":"BENCH-M${m}","yes_price_dollars":"${formatPrice(price)}","count_fp":"${formatCount(count)}","taker_side":"${taker}","ts_ms":${tsMs}}}`;
      }
      const side = rng.int(2);
      const price = (side === 0 ? 35 + rng.int(10) : 45 + rng.int(10)) * 100;
      const ladder = sizes[m]![side]!;
      const size = ladder.get(price) ?? 0;
      const delta = size > 1000 && rng.next() < 0.5 ? -(1 + rng.int(1000)) : 1 + rng.int(5000);
      ladder.set(price, size + delta);
      return `{"type":"orderbook_delta","sid":1,"seq":${++bookSeq},"msg":{"market_ticker":"BENCH-M${m}","market_id":"m${m}","price_dollars":"${formatPrice(price)}","delta_fp":"${formatCount(delta)}","side":"${side === 0 ? 'yes' : 'no'}","ts_ms":${tsMs}}}`;
    },
  };
}
