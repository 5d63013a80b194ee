import type { Queryable } from './queryable';

/** Where a session's frames came from. */
export type SessionEnvironment = 'production' | 'demo' | 'sim' | 'custom';

/** State of a recorded session: still `recording`, `completed` by a clean stop, or `failed`. */
export type SessionStatus = 'recording' | 'completed' | 'failed';

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

/** The session row {@link createSessionRecord} inserts. */
export interface NewSession {
  readonly id: string;
  readonly startedMs: number;
  readonly environment: SessionEnvironment;
  readonly wsUrl: string;
  readonly markets: readonly string[];
}

/** Inserts a session row in status `recording`. */
export async function createSessionRecord(db: Queryable, s: NewSession): Promise<void> {
  await db.query('INSERT INTO sessions (id, started_ms, environment, ws_url, markets) VALUES ($1, $2, $3, $4, $5::text[])', [
    s.id,
    s.startedMs,
    s.environment,
    s.wsUrl,
    [...s.markets],
  ]);
}

/** Fields {@link updateSessionRecord} changes (absent fields are left as they are). */
export interface SessionUpdate {
  readonly counts?: SessionCounts;
  readonly markets?: readonly string[];
  readonly status?: SessionStatus;
  readonly endedMs?: number;
}

/** Updates a session's counts, market list, status or end time (absent fields are left as they are). */
export async function updateSessionRecord(db: Queryable, id: string, u: SessionUpdate): Promise<void> {
  const c = u.counts;
  await db.query(
    `UPDATE sessions SET
       markets = COALESCE($2::text[], markets), status = COALESCE($3, status), ended_ms = COALESCE($4, ended_ms),
       frames = COALESCE($5, frames), snapshots = COALESCE($6, snapshots), deltas = COALESCE($7, deltas),
       trades = COALESCE($8, trades), gaps = COALESCE($9, gaps), malformed = COALESCE($10, malformed),
       reconnects = COALESCE($11, reconnects)
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
    ],
  );
}
