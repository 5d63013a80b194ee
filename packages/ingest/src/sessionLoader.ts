import {
  PRICE_ONE,
  createCaptureSessionBuilder,
  parseFrame,
  type KalshiFrame,
  type Level,
  type SessionData,
  type Side,
} from '@kflow/orderbook';
import { ingestError } from './errors';
import { selectRows, toInt, toIntOrNull, type Queryable } from './queryable';
import { reconcileSessions, type OwnerCheckOptions, type SessionCounts, type SessionEnvironment, type SessionStatus } from './sessionStore';

/** One recorded session as {@link SessionLoader.list} reports it. */
export interface SessionSummary {
  readonly id: string;
  readonly startedMs: number;
  readonly endedMs: number | null;
  readonly environment: SessionEnvironment;
  readonly wsUrl: string;
  readonly markets: readonly string[];
  readonly status: SessionStatus;
  /** An `interrupted` session's last stored frame: where its data ends (null otherwise, or when nothing was stored). */
  readonly lastFrame: { readonly frameNo: number; readonly recvMs: number } | null;
  /** The collector's spill file, where rows it could not store wait for `recoverSessions` (null: none recorded). */
  readonly spillPath: string | null;
  /** What the collector received (for an interrupted session: as of its last heartbeat). */
  readonly counts: SessionCounts;
  /** Rows the database holds for the session. */
  readonly stored: { readonly snapshots: number; readonly deltas: number; readonly trades: number; readonly lifecycle: number };
}

/** Lists recorded sessions and loads them as `SessionData` (see {@link createSessionLoader}). */
export interface SessionLoader {
  /**
   * Every session, newest first, with the collector's counts and the stored row counts. Sessions whose
   * collector is gone are marked `interrupted` first (see `reconcileSessions`), so none shows as
   * recording forever.
   */
  list(): Promise<SessionSummary[]>;
  /**
   * Loads one session into the columnar `SessionData` the env trains on, with one query per table.
   * The result equals `sessionDataFromCapture` of the same frames. An interrupted session loads up to
   * where its stored data ends.
   */
  load(id: string): Promise<SessionData>;
}

/** Options of {@link createSessionLoader}. */
export interface SessionLoaderOptions {
  readonly db: Queryable;
  /** How `list()` judges whether a recording session's collector is still there (defaults: this host, 10 min). */
  readonly owners?: OwnerCheckOptions;
}

interface SessionRow {
  id: string;
  started_ms: unknown;
  ended_ms: unknown;
  environment: SessionEnvironment;
  ws_url: string;
  markets: string[];
  status: SessionStatus;
  last_frame_no: unknown;
  last_recv_ms: unknown;
  spill_path: string | null;
  frames: unknown;
  snapshots: unknown;
  deltas: unknown;
  trades: unknown;
  gaps: unknown;
  malformed: unknown;
  reconnects: unknown;
}

interface FrameRow {
  frame_no: unknown;
  market: string;
  recv_ms: unknown;
  ts_ms: unknown;
}
interface SnapshotRow extends FrameRow {
  yes_levels: Level[];
  no_levels: Level[];
}
interface DeltaRow extends FrameRow {
  side: Side;
  price_units: unknown;
  delta_centi: unknown;
}
interface TradeRow extends FrameRow {
  trade_id: string | null;
  yes_price_units: unknown;
  count_centi: unknown;
  taker_side: Side;
}
interface LifecycleRow extends FrameRow {
  payload: unknown;
}

const HEADER = { id: undefined, sid: undefined, seq: undefined } as const;

/**
 * Reads recorded sessions back. Stored rows are exactly the events the collector's
 * `SharedOrderbookState` applied, keyed by receive order (`frame_no`), so a load merges the tables
 * by `frame_no` and replays them through the same builder a capture goes through.
 *
 * @example
 * const loader = createSessionLoader({ db });
 * const [latest] = await loader.list();
 * const session = await loader.load(latest!.id); // SessionData for the env
 */
export function createSessionLoader(options: SessionLoaderOptions): SessionLoader {
  const { db } = options;
  return {
    async list() {
      await reconcileSessions(db, options.owners);
      const sessions = await selectRows<SessionRow>(db, 'SELECT * FROM sessions ORDER BY started_ms DESC, id');
      const count = async (table: string) => {
        const rows = await selectRows<{ session_id: string; n: unknown }>(db, `SELECT session_id, count(*) AS n FROM ${table} GROUP BY session_id`);
        return new Map(rows.map((r) => [r.session_id, toInt(r.n)]));
      };
      const [snapshots, deltas, trades, lifecycle] = [
        await count('orderbook_snapshots'),
        await count('orderbook_deltas'),
        await count('trades'),
        await count('market_lifecycle'),
      ];
      return sessions.map((s) => ({
        id: s.id,
        startedMs: toInt(s.started_ms),
        endedMs: toIntOrNull(s.ended_ms),
        environment: s.environment,
        wsUrl: s.ws_url,
        markets: s.markets,
        status: s.status,
        lastFrame: s.status === 'interrupted' && s.last_frame_no !== null ? { frameNo: toInt(s.last_frame_no), recvMs: toInt(s.last_recv_ms) } : null,
        spillPath: s.spill_path,
        counts: {
          frames: toInt(s.frames),
          snapshots: toInt(s.snapshots),
          deltas: toInt(s.deltas),
          trades: toInt(s.trades),
          gaps: toInt(s.gaps),
          malformed: toInt(s.malformed),
          reconnects: toInt(s.reconnects),
        },
        stored: {
          snapshots: snapshots.get(s.id) ?? 0,
          deltas: deltas.get(s.id) ?? 0,
          trades: trades.get(s.id) ?? 0,
          lifecycle: lifecycle.get(s.id) ?? 0,
        },
      }));
    },

    async load(id) {
      const exists = await selectRows(db, 'SELECT 1 FROM sessions WHERE id = $1', [id]);
      if (exists.length === 0) throw ingestError('SESSION_NOT_FOUND', `no session with id ${id}`, { details: { id } });
      const frameCols = 'frame_no, market, recv_ms, ts_ms';
      const where = 'WHERE session_id = $1 ORDER BY frame_no';
      const snapshots = await selectRows<SnapshotRow>(db, `SELECT ${frameCols}, yes_levels, no_levels FROM orderbook_snapshots ${where}`, [id]);
      const deltas = await selectRows<DeltaRow>(db, `SELECT ${frameCols}, side, price_units, delta_centi FROM orderbook_deltas ${where}`, [id]);
      const trades = await selectRows<TradeRow>(db, `SELECT ${frameCols}, trade_id, yes_price_units, count_centi, taker_side FROM trades ${where}`, [id]);
      const lifecycle = await selectRows<LifecycleRow>(db, `SELECT ${frameCols}, payload FROM market_lifecycle ${where}`, [id]);

      const toFrame: ((row: never) => KalshiFrame)[] = [
        (r: SnapshotRow) => ({ ...HEADER, type: 'orderbook_snapshot', ticker: r.market, marketId: undefined, yes: r.yes_levels, no: r.no_levels }),
        (r: DeltaRow) => ({
          ...HEADER,
          type: 'orderbook_delta',
          ticker: r.market,
          marketId: undefined,
          side: r.side,
          priceUnits: toInt(r.price_units),
          deltaCenti: toInt(r.delta_centi),
          tsMs: toIntOrNull(r.ts_ms) ?? undefined,
          clientOrderId: undefined,
        }),
        (r: TradeRow) => {
          const yesPriceUnits = toInt(r.yes_price_units);
          return {
            ...HEADER,
            type: 'trade',
            tradeId: r.trade_id ?? undefined,
            ticker: r.market,
            yesPriceUnits,
            noPriceUnits: PRICE_ONE - yesPriceUnits,
            countCenti: toInt(r.count_centi),
            takerSide: r.taker_side,
            tsMs: toInt(r.ts_ms),
          };
        },
        (r: LifecycleRow) => parseFrame({ type: 'market_lifecycle_v2', msg: r.payload }),
      ];
      const tables: FrameRow[][] = [snapshots, deltas, trades, lifecycle];
      const next = tables.map(() => 0);
      const builder = createCaptureSessionBuilder({ id });
      // A k-way merge on frame_no restores the order in which the collector received the frames.
      for (;;) {
        let best = -1;
        let bestNo = Infinity;
        for (let t = 0; t < tables.length; t++) {
          const row = tables[t]![next[t]!];
          if (row !== undefined && toInt(row.frame_no) < bestNo) {
            best = t;
            bestNo = toInt(row.frame_no);
          }
        }
        if (best < 0) break;
        const row = tables[best]![next[best]!++]!;
        builder.push(toFrame[best]!(row as never), toInt(row.recv_ms));
      }
      return builder.build();
    },
  };
}
