import type { Level, Side } from '@kflow/orderbook';
import { tableSpec, type SqlValue } from './queryable';
import { WriteQueue, type WriteQueueMetrics, type WriteQueueOptions } from './writeQueue';

const FRAME_COLUMNS = {
  session_id: 'text',
  frame_no: 'bigint',
  market: 'text',
  recv_ms: 'bigint',
  ts_ms: 'bigint',
  conn: 'integer',
  sid: 'integer',
  seq: 'bigint',
} as const;

/** The `orderbook_snapshots` table: one row per applied snapshot, levels as JSON. */
export const SNAPSHOT_TABLE = tableSpec('orderbook_snapshots', { ...FRAME_COLUMNS, yes_levels: 'jsonb', no_levels: 'jsonb' });
/** The `orderbook_deltas` table: one row per applied delta, exact units. */
export const DELTA_TABLE = tableSpec('orderbook_deltas', { ...FRAME_COLUMNS, side: 'text', price_units: 'integer', delta_centi: 'bigint' });
/** The `trades` table: one row per public trade, exact units. */
export const TRADE_TABLE = tableSpec('trades', {
  ...FRAME_COLUMNS,
  trade_id: 'text',
  yes_price_units: 'integer',
  count_centi: 'bigint',
  taker_side: 'text',
});
/** The `market_lifecycle` table: lifecycle events of the collected markets, the frame's `msg` as JSON. */
export const LIFECYCLE_TABLE = tableSpec('market_lifecycle', { ...FRAME_COLUMNS, event_type: 'text', payload: 'jsonb' });

/**
 * Where a stored row came from: its session, the collector's receive index `frameNo` (the unique key
 * with the session), the market, receive and exchange times, and the connection/sid/seq it arrived on.
 */
export interface FrameMeta {
  readonly sessionId: string;
  readonly frameNo: number;
  readonly market: string;
  readonly recvMs: number;
  /** Exchange time, when the frame carries one. */
  readonly tsMs: number | null;
  /** Connection number within the session (sids restart on every connection). */
  readonly conn: number;
  readonly sid: number | null;
  readonly seq: number | null;
}

/** Options of {@link OrderbookWriteQueue}: the {@link WriteQueueOptions} plus optional delta sampling. */
export interface OrderbookWriteQueueOptions extends WriteQueueOptions {
  /** Keep one delta in N (default 1: keep all). Sampled sessions cannot rebuild books exactly. */
  readonly deltaSampleEvery?: number;
}

export interface OrderbookWriteQueueMetrics extends WriteQueueMetrics {
  /** Deltas not stored because of `deltaSampleEvery`. */
  readonly sampledOut: number;
}

/**
 * The collector's writer for snapshots, deltas, trades and lifecycle events (see `WriteQueue` for the
 * batching, retry and spill guarantees).
 *
 * @example
 * const queue = new OrderbookWriteQueue({ db, spillPath: './kflow-spill.jsonl' });
 * queue.enqueueDelta(meta, 'yes', 1700, -552); // sync, O(1)
 * await queue.close(); // flushes every row
 */
export class OrderbookWriteQueue extends WriteQueue {
  private readonly sampleEvery: number;
  private deltaCount = 0;
  private sampled = 0;
  /** One reused row per table: `push` copies the values, so enqueueing allocates no row of its own. */
  private readonly rows = [SNAPSHOT_TABLE, DELTA_TABLE, TRADE_TABLE, LIFECYCLE_TABLE].map((t) => Array.from<SqlValue>({ length: t.columns.length }).fill(null));

  constructor(options: OrderbookWriteQueueOptions) {
    super([SNAPSHOT_TABLE, DELTA_TABLE, TRADE_TABLE, LIFECYCLE_TABLE], options);
    this.sampleEvery = Math.max(1, Math.trunc(options.deltaSampleEvery ?? 1));
  }

  /** Queues an applied snapshot (both bid ladders). Synchronous, O(levels). */
  enqueueSnapshot(meta: FrameMeta, yes: readonly Level[], no: readonly Level[]): void {
    const row = withMeta(this.rows[0]!, meta);
    row[8] = JSON.stringify(yes);
    row[9] = JSON.stringify(no);
    this.push(0, row);
  }

  /** Queues an applied delta. Synchronous, O(1). */
  enqueueDelta(meta: FrameMeta, side: Side, priceUnits: number, deltaCenti: number): void {
    if (this.sampleEvery > 1 && this.deltaCount++ % this.sampleEvery !== 0) {
      this.sampled++;
      return;
    }
    const row = withMeta(this.rows[1]!, meta);
    row[8] = side;
    row[9] = priceUnits;
    row[10] = deltaCenti;
    this.push(1, row);
  }

  /** Queues a public trade. Synchronous, O(1). */
  enqueueTrade(meta: FrameMeta, tradeId: string | null, yesPriceUnits: number, countCenti: number, takerSide: Side): void {
    const row = withMeta(this.rows[2]!, meta);
    row[8] = tradeId;
    row[9] = yesPriceUnits;
    row[10] = countCenti;
    row[11] = takerSide;
    this.push(2, row);
  }

  /** `payload` is the frame's `msg` object as JSON text. */
  enqueueLifecycle(meta: FrameMeta, eventType: string, payload: string): void {
    const row = withMeta(this.rows[3]!, meta);
    row[8] = eventType;
    row[9] = payload;
    this.push(3, row);
  }

  /** The queue's counters, plus the deltas left out by sampling. */
  override get metrics(): OrderbookWriteQueueMetrics {
    return { ...super.metrics, sampledOut: this.sampled };
  }
}

/** Writes the `FRAME_COLUMNS` of `m` into the first eight values of `row`. */
function withMeta(row: SqlValue[], m: FrameMeta): SqlValue[] {
  row[0] = m.sessionId;
  row[1] = m.frameNo;
  row[2] = m.market;
  row[3] = m.recvMs;
  row[4] = m.tsMs;
  row[5] = m.conn;
  row[6] = m.sid;
  row[7] = m.seq;
  return row;
}
