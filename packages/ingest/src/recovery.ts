import { mkdirSync, writeFileSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname } from 'node:path';
import { OrderbookWriteQueue } from './orderbookWriteQueue';
import { selectRows, type IngestDatabase } from './queryable';
import {
  OWNER_COLUMNS,
  markInterrupted,
  ownerIsGone,
  reconcileSessions,
  updateSessionRecord,
  type InterruptedSession,
  type OwnerCheckOptions,
  type OwnerRow,
  type SessionStatus,
  type SessionUpdate,
} from './sessionStore';

/** Where a session's final record waits, next to its spill file, while the database cannot take it. */
export function deferredRecordPath(spillPath: string): string {
  return `${spillPath}.session.json`;
}

/**
 * Leaves a session's final update next to its spill file (synchronously: it may be the last thing a
 * process does); {@link recoverSessions} stores it once the spill file is replayed.
 */
export function deferSessionRecord(spillPath: string, id: string, update: SessionUpdate): void {
  mkdirSync(dirname(spillPath), { recursive: true });
  writeFileSync(deferredRecordPath(spillPath), JSON.stringify({ id, update }));
}

/** Options of {@link recoverSessions}: the database, how owners are judged, and the replay's patience. */
export interface RecoverSessionsOptions extends OwnerCheckOptions {
  readonly db: IngestDatabase;
  /** How long the database gets to take each spill file before the rest is left for the next recovery. Default 30 s. */
  readonly closeTimeoutMs?: number;
}

/** One spill file {@link recoverSessions} replayed. */
export interface RecoveredSpill {
  readonly sessionId: string;
  readonly spillPath: string;
  /** Rows read back from the file (rows that were already stored count too; duplicates are skipped). */
  readonly rows: number;
  /** False when the database failed before the file was through: the rest stays for the next recovery. */
  readonly complete: boolean;
  /** Why it is not complete. */
  readonly error?: string;
}

/** What {@link recoverSessions} did. */
export interface RecoveryReport {
  readonly spills: readonly RecoveredSpill[];
  /** Sessions whose deferred final record (their collector stopped while the database was down) is now stored. */
  readonly finalized: readonly string[];
  /** Sessions marked `interrupted`: their collector died; their data ends at the frame given. */
  readonly interrupted: readonly InterruptedSession[];
}

interface SpillRow extends OwnerRow {
  readonly id: string;
  readonly status: SessionStatus;
  readonly spill_path: string;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Finishes what earlier collectors on this database left behind, from any working directory: replays the
 * spill files (recorded with each session) of collectors on this machine that are gone or stopped, stores
 * the final session records they could not store, and marks the sessions of dead collectors
 * `interrupted` with where their data ends (see {@link reconcileSessions}). A collector's `start()` runs it;
 * `kflow recover` runs it on demand.
 *
 * @example
 * const report = await recoverSessions({ db }); // { spills: [{ sessionId, rows, complete }], finalized, interrupted }
 */
export async function recoverSessions(options: RecoverSessionsOptions): Promise<RecoveryReport> {
  const { db } = options;
  const rows = await selectRows<SpillRow>(db, `SELECT id, status, spill_path, ${OWNER_COLUMNS} FROM sessions WHERE spill_path IS NOT NULL AND host = $1 ORDER BY started_ms`, [
    options.host ?? hostname(),
  ]);
  // One directory listing per spill directory (usually one) rather than a stat per session.
  const listings = new Map<string, Set<string>>();
  for (const dir of new Set(rows.map((r) => dirname(r.spill_path)))) {
    listings.set(dir, new Set(await readdir(dir).catch(() => [])));
  }
  const spills: RecoveredSpill[] = [];
  const finalized: string[] = [];
  const interrupted: InterruptedSession[] = [];
  for (const row of rows) {
    const path = row.spill_path;
    const names = listings.get(dirname(path))!;
    const name = basename(path);
    const hasSpill = names.has(name) || names.has(`${name}.replaying`);
    const hasRecord = names.has(basename(deferredRecordPath(path)));
    // A live collector owns its file, unless it left its final record (then it has stopped writing).
    if ((!hasSpill && !hasRecord) || (!hasRecord && !ownerIsGone(row, options))) continue;
    if (hasSpill) {
      const queue = new OrderbookWriteQueue({ db, spillPath: path, ...(options.closeTimeoutMs === undefined ? {} : { closeTimeoutMs: options.closeTimeoutMs }) });
      const metrics = await queue.close();
      const complete = !(await exists(path)) && !(await exists(`${path}.replaying`));
      spills.push({ sessionId: row.id, spillPath: path, rows: metrics.replayed, complete, ...(complete || metrics.lastError === undefined ? {} : { error: metrics.lastError }) });
      if (!complete) continue;
    }
    if (hasRecord) {
      const record = JSON.parse(await readFile(deferredRecordPath(path), 'utf8')) as { update: SessionUpdate };
      await updateSessionRecord(db, row.id, record.update);
      await rm(deferredRecordPath(path), { force: true });
      finalized.push(row.id);
    } else if (row.status === 'recording' || row.status === 'interrupted') {
      // A killed collector's rows: where its data ends moved with the replay.
      const marked = await markInterrupted(db, row.id);
      if (marked !== undefined) interrupted.push(marked);
    }
  }
  interrupted.push(...(await reconcileSessions(db, options)));
  return { spills, finalized, interrupted };
}
