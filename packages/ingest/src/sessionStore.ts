import { hostname } from 'node:os';
import { selectRows, toInt, toIntOrNull, type Queryable } from './queryable';

/** Where a session's frames came from. */
export type SessionEnvironment = 'production' | 'demo' | 'sim' | 'custom';

/**
 * State of a recorded session: still `recording`, `completed` by a clean stop, `failed` to start, or
 * `interrupted`: its collector went away without stopping it (a crash, SIGKILL, a lost machine), so its
 * data ends at its last stored frame.
 */
export type SessionStatus = 'recording' | 'completed' | 'failed' | 'interrupted';

/** The collector's own counts for a session (what it received, not what the database holds). */
export interface SessionCounts {
  readonly frames: number;
  readonly snapshots: number;
  readonly deltas: number;
  readonly trades: number;
  readonly gaps: number;
  readonly malformed: number;
  readonly reconnects: number;
}

/** The process recording a session: the machine's host name and the process id on it. */
export interface SessionOwner {
  readonly host: string;
  readonly pid: number;
}

/** This process, as the owner of the sessions it records. */
export function currentOwner(): SessionOwner {
  return { host: hostname(), pid: process.pid };
}

/** The session row {@link createSessionRecord} inserts. */
export interface NewSession {
  readonly id: string;
  readonly startedMs: number;
  readonly environment: SessionEnvironment;
  readonly wsUrl: string;
  readonly markets: readonly string[];
  /** Who records it, so a later open can tell a dead collector's session from a live one. */
  readonly owner?: SessionOwner;
  /** The write queue's spill file (absolute), so rows left there are found from any directory. */
  readonly spillPath?: string;
}

/**
 * Epoch ms on the database server's clock. Heartbeats are written and judged on this one clock, so
 * collectors on machines whose clocks disagree are still judged fairly.
 */
const DB_NOW_MS = '(extract(epoch FROM clock_timestamp()) * 1000)::bigint';

/** Inserts a session row in status `recording`, with its owner, first heartbeat and spill file. */
export async function createSessionRecord(db: Queryable, s: NewSession): Promise<void> {
  await db.query(
    `INSERT INTO sessions (id, started_ms, environment, ws_url, markets, host, pid, heartbeat_ms, spill_path)
     VALUES ($1, $2, $3, $4, $5::text[], $6, $7, ${DB_NOW_MS}, $8)`,
    [s.id, s.startedMs, s.environment, s.wsUrl, [...s.markets], s.owner?.host ?? null, s.owner?.pid ?? null, s.spillPath ?? null],
  );
}

/** Fields {@link updateSessionRecord} changes (absent fields are left as they are). */
export interface SessionUpdate {
  readonly counts?: SessionCounts;
  readonly markets?: readonly string[];
  readonly status?: SessionStatus;
  readonly endedMs?: number;
  /**
   * The owner is alive: refresh the heartbeat. A session another process marked `interrupted` while this
   * owner could not reach the database (a long outage) goes back to `recording`.
   */
  readonly heartbeat?: boolean;
}

/** Updates a session's counts, market list, status, end time or heartbeat (absent fields are left as they are). */
export async function updateSessionRecord(db: Queryable, id: string, u: SessionUpdate): Promise<void> {
  const c = u.counts;
  await db.query(
    `UPDATE sessions SET
       markets = COALESCE($2::text[], markets),
       status = COALESCE($3, CASE WHEN $12 AND status = 'interrupted' THEN 'recording' ELSE status END),
       ended_ms = CASE WHEN $4::bigint IS NOT NULL THEN $4 WHEN $12 AND status = 'interrupted' THEN NULL ELSE ended_ms END,
       frames = COALESCE($5, frames), snapshots = COALESCE($6, snapshots), deltas = COALESCE($7, deltas),
       trades = COALESCE($8, trades), gaps = COALESCE($9, gaps), malformed = COALESCE($10, malformed),
       reconnects = COALESCE($11, reconnects),
       heartbeat_ms = CASE WHEN $12 THEN ${DB_NOW_MS} ELSE heartbeat_ms END,
       last_frame_no = CASE WHEN $12 AND status = 'interrupted' THEN NULL ELSE last_frame_no END,
       last_recv_ms = CASE WHEN $12 AND status = 'interrupted' THEN NULL ELSE last_recv_ms END
     WHERE id = $1`,
    [
      id,
      u.markets === undefined ? null : [...u.markets],
      u.status ?? null,
      u.endedMs ?? null,
      c?.frames ?? null,
      c?.snapshots ?? null,
      c?.deltas ?? null,
      c?.trades ?? null,
      c?.gaps ?? null,
      c?.malformed ?? null,
      c?.reconnects ?? null,
      u.heartbeat === true,
    ],
  );
}

/** How {@link reconcileSessions} decides whether a session's owner is still there. */
export interface OwnerCheckOptions {
  /** This machine's host name. Default `os.hostname()`. */
  readonly host?: string;
  /** Whether a process of this machine is running. Default: `process.kill(pid, 0)`. */
  readonly isRunning?: (pid: number) => boolean;
  /**
   * A session whose heartbeat (refreshed with its counts, every 5 s by default) is older than this has
   * no owner, whatever its host. Generous, so a collector cut off from the database for a while is not
   * declared dead; when it does come back it takes its session back. Default 10 minutes.
   */
  readonly staleAfterMs?: number;
}

const DEFAULT_STALE_AFTER_MS = 10 * 60_000;

/** Whether a process exists (signal 0 only checks; EPERM means it exists under another user). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code === 'EPERM';
  }
}

/** A session row's owner as {@link ownerIsGone} needs it. */
export interface OwnerRow {
  readonly host: string | null;
  readonly pid: unknown;
  readonly heartbeat_ms: unknown;
  /** The database clock when the row was read. */
  readonly now_ms: unknown;
}

/** The owner columns of `sessions`, and the database clock, for {@link ownerIsGone}. */
export const OWNER_COLUMNS = `host, pid, heartbeat_ms, ${DB_NOW_MS} AS now_ms`;

/**
 * Whether a session's collector is gone: on this host, its process has exited; on any host, its heartbeat
 * is older than `staleAfterMs` (which also catches a pid reused by another program). Sessions written
 * before owners were recorded (no host) are never judged.
 */
export function ownerIsGone(row: OwnerRow, options: OwnerCheckOptions = {}): boolean {
  if (row.host === null) return false;
  const stale = toInt(row.now_ms) - (toIntOrNull(row.heartbeat_ms) ?? 0) > (options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS);
  if (stale) return true;
  return row.host === (options.host ?? hostname()) && !(options.isRunning ?? isRunning)(toInt(row.pid));
}

/** A session marked `interrupted`, with where its stored data ends (null: nothing was stored). */
export interface InterruptedSession {
  readonly id: string;
  readonly lastFrameNo: number | null;
  readonly lastRecvMs: number | null;
}

/** The newest stored frame of a session across the market-data tables (each probe is one index lookup). */
async function lastStoredFrame(db: Queryable, id: string): Promise<{ frameNo: number; recvMs: number } | undefined> {
  const probe = (table: string) => `(SELECT frame_no, recv_ms FROM ${table} WHERE session_id = $1 ORDER BY frame_no DESC LIMIT 1)`;
  const rows = await selectRows<{ frame_no: unknown; recv_ms: unknown }>(
    db,
    `SELECT frame_no, recv_ms FROM (${['orderbook_snapshots', 'orderbook_deltas', 'trades', 'market_lifecycle'].map(probe).join(' UNION ALL ')}) f
     ORDER BY frame_no DESC LIMIT 1`,
    [id],
  );
  const row = rows[0];
  return row === undefined ? undefined : { frameNo: toInt(row.frame_no), recvMs: toInt(row.recv_ms) };
}

/**
 * Marks a session `interrupted` (from `recording`, or again after more of its rows were recovered), with
 * its last stored frame; its end time is that frame's receive time. Returns what it recorded, or
 * undefined when the session was in another state (its owner finished it meanwhile).
 */
export async function markInterrupted(db: Queryable, id: string): Promise<InterruptedSession | undefined> {
  const last = await lastStoredFrame(db, id);
  const rows = await selectRows(
    db,
    `UPDATE sessions SET status = 'interrupted', last_frame_no = $2, last_recv_ms = $3, ended_ms = COALESCE($3, started_ms)
     WHERE id = $1 AND status IN ('recording', 'interrupted') RETURNING id`,
    [id, last?.frameNo ?? null, last?.recvMs ?? null],
  );
  return rows.length === 0 ? undefined : { id, lastFrameNo: last?.frameNo ?? null, lastRecvMs: last?.recvMs ?? null };
}

/**
 * Marks every `recording` session whose collector is gone as `interrupted`, with where its stored data
 * ends. Gone: on this host, its process has exited; on any host, its heartbeat is older than
 * `staleAfterMs`. The session list calls it, so a dead collector's session never shows
 * as recording; cheap when nothing is recording (a partial index holds only recording sessions).
 *
 * @example
 * const interrupted = await reconcileSessions(db); // [{ id, lastFrameNo, lastRecvMs }]
 */
export async function reconcileSessions(db: Queryable, options: OwnerCheckOptions = {}): Promise<InterruptedSession[]> {
  const recording = await selectRows<OwnerRow & { id: string }>(db, `SELECT id, ${OWNER_COLUMNS} FROM sessions WHERE status = 'recording'`);
  const interrupted: InterruptedSession[] = [];
  for (const row of recording) {
    if (!ownerIsGone(row, options)) continue;
    const marked = await markInterrupted(db, row.id);
    if (marked !== undefined) interrupted.push(marked);
  }
  return interrupted;
}
