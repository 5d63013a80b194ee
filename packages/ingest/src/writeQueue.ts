import { randomUUID } from 'node:crypto';
import { appendFileSync, createReadStream, mkdirSync } from 'node:fs';
import { appendFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { systemClock, type Clock } from '@kflow/orderbook';
import { ColumnBatch, TextInterner } from './columnBatch';
import { ingestError } from './errors';
import type { BulkRows, IngestDatabase, SqlValue, TableSpec } from './queryable';
import { holdProcessOpen, sleep, systemTimers, type Timers } from './timers';

/** Counters every write queue reports. Row counts are cumulative. */
export interface WriteQueueMetrics {
  /** Rows accepted by `enqueue`. */
  readonly enqueued: number;
  /** Rows committed (including rows replayed from the spill file). */
  readonly written: number;
  /** Failed batch attempts that were retried. */
  readonly retried: number;
  /** Rows moved to the spill file because the database was behind or down. */
  readonly spilled: number;
  /** Spilled rows read back and committed. */
  readonly replayed: number;
  /** Rows lost: only when `close()` could neither write nor spill them. */
  readonly dropped: number;
  /** Rows the database refused for their content (data or constraint errors), kept in `<spillPath>.rejected`. */
  readonly rejected: number;
  /** Rows waiting in memory (not yet committed, not spilled). */
  readonly pending: number;
  /** Age of the oldest row waiting in memory, in ms (0 when empty). */
  readonly lagMs: number;
  /** Largest enqueue → commit delay of a batch, in ms. */
  readonly maxLagMs: number;
  /** The last database error, without parameters or credentials. */
  readonly lastError: string | undefined;
}

/**
 * A batch is what the database takes in one write, and also what the spill file takes in one event-loop
 * turn (encoding and appending 5,000 rows held the loop 4–7 ms). The unnest path (PGlite, `fromQueryable`)
 * sends 1,000-row statements whatever the batch, so its batches are small; PostgreSQL's COPY fell behind
 * a maximum-speed feed with 2,000.
 */
function defaultBatchSize(db: IngestDatabase): number {
  return db.kind === 'postgres' ? 5000 : 2000;
}

/** Options of a {@link WriteQueue}: the database, batching, the spill file, retries and the close timeout. */
export interface WriteQueueOptions {
  readonly db: IngestDatabase;
  /**
   * Rows per batch: what the database takes in one write and the spill file in one event-loop turn.
   * Default 5,000 on PostgreSQL (COPY), 2,000 elsewhere (PGlite and `fromQueryable` insert 1,000-row statements).
   */
  readonly batchSize?: number;
  /** A partly filled batch is written after this long. Default 200 ms. */
  readonly flushIntervalMs?: number;
  /** Rows kept in memory before spilling to `spillPath`. Default 500,000. */
  readonly maxPendingRows?: number;
  /**
   * With a spill file, rows not committed this long after they were enqueued are appended to it (a copy
   * of the batch being written, if that write is the slow part), so a process killed outright (SIGKILL)
   * loses at most the rows of about the last `maxMemoryAgeMs + flushIntervalMs`. Default 1,000 ms.
   */
  readonly maxMemoryAgeMs?: number;
  /** Append-only file for rows the database cannot take yet. Without it rows stay in memory. */
  readonly spillPath?: string;
  /** First retry delay; doubles per failed attempt up to `maxRetryDelayMs`. Defaults 50 and 2,000 ms. */
  readonly retryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
  /** `close()` gives the database this long to take everything before spilling the rest. Default 30 s. */
  readonly closeTimeoutMs?: number;
  readonly clock?: Clock;
  readonly timers?: Timers;
}

interface Chunk {
  /** The rows of each table (by index into the queue's table specs), by column; created on a table's first row. */
  batches: (ColumnBatch | undefined)[];
  /** Rows in all batches. */
  rows: number;
  /** Tables whose rows are stored (a retry writes only the others). */
  stored: boolean[];
  sinceMs: number;
  attempts: number;
  fromSpill: boolean;
  /**
   * Set when a copy of this chunk was spilled while its write was in progress: the id of each table's line
   * (by table index; none for tables already stored then).
   */
  copyIds: (string | undefined)[] | undefined;
}

/** One line of a spill file. `copy` marks a copy of a batch that was being written when it was spilled. */
interface SpillLine {
  sinceMs: number;
  tables: number[];
  rows: SqlValue[][];
  copy?: string;
}

/** Written batches kept for reuse per table: enough for the open one, the one being written and a few waiting. */
const FREE_BATCHES_PER_TABLE = 4;

/** How long a timed-out `close()` lets a write in progress finish before treating it as hung. */
const HUNG_WRITE_GRACE_MS = 100;

/**
 * A batched, lossless writer. `enqueue` is synchronous and O(1) (the values are copied into the open
 * batch's columns, see `ColumnBatch`); a background pump writes batches by size and by interval through
 * the database's bulk path. A failed batch is retried with capped exponential backoff; batches older than
 * `maxMemoryAgeMs`, and everything past `maxPendingRows` rows in memory, are appended to a spill file (a
 * batch per event-loop turn) and replayed once the database is back.
 * Writes are idempotent (every table has a unique key and duplicates are skipped), so a retry or a
 * replay never stores a row twice.
 *
 * Subclasses (`OrderbookWriteQueue`, `ActionWriteQueue`) add typed `enqueue*` methods.
 */
export class WriteQueue {
  private readonly db: IngestDatabase;
  private readonly tables: readonly TableSpec[];
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxPendingRows: number;
  private readonly maxMemoryAgeMs: number;
  private readonly spillPath: string | undefined;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly closeTimeoutMs: number;
  private readonly clock: Clock;
  private readonly timers: Timers;

  private open: Chunk;
  private readonly chunks: Chunk[] = [];
  private pumping: Promise<void> | undefined;
  /** The chunk the pump is writing (not in `chunks`). */
  private inflight: Chunk | undefined;
  /** A spill of the batches begun at or before `spillCutoffMs` is under way (see `spillSoon`). */
  private spillScheduled = false;
  private spillCutoffMs = -Infinity;
  /** Copies of in-flight batches get ids unique to this queue, so a replay never skips another run's line. */
  private readonly copyToken = randomUUID();
  private readonly interner = new TextInterner();
  /** Written batches kept for reuse, by table (see `release`). */
  private readonly freeBatches: ColumnBatch[][];
  private copies = 0;
  /** Copies whose original write committed after all: the replay skips their lines. */
  private readonly committedCopies = new Set<string>();
  private tickHandle: unknown;
  private ticking = true;
  private closed = false;
  private giveUp = false;
  /** Resolves when a timed-out `close()` gives up on the database (waiters stop waiting for the pump). */
  private readonly gaveUp: Promise<void>;
  private resolveGaveUp: () => void = () => {};
  private wakeBackoff: (() => void) | undefined;

  private metricEnqueued = 0;
  private metricWritten = 0;
  private metricRetried = 0;
  private metricSpilled = 0;
  private metricReplayed = 0;
  private metricDropped = 0;
  private metricRejected = 0;
  private pendingRows = 0;
  private metricMaxLagMs = 0;
  private lastError: string | undefined;

  constructor(tables: readonly TableSpec[], options: WriteQueueOptions) {
    this.db = options.db;
    this.tables = tables;
    this.batchSize = options.batchSize ?? defaultBatchSize(options.db);
    this.flushIntervalMs = options.flushIntervalMs ?? 200;
    this.maxPendingRows = options.maxPendingRows ?? 500_000;
    this.maxMemoryAgeMs = options.maxMemoryAgeMs ?? 1000;
    this.spillPath = options.spillPath;
    this.retryDelayMs = options.retryDelayMs ?? 50;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 2000;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 30_000;
    this.clock = options.clock ?? systemClock;
    this.timers = options.timers ?? systemTimers;
    this.gaveUp = new Promise((resolve) => {
      this.resolveGaveUp = resolve;
    });
    this.freeBatches = tables.map(() => []);
    this.open = this.newChunk();
    this.scheduleTick();
    // Rows spilled by an earlier run that ended before replaying them are picked up now.
    if (this.spillPath !== undefined) void this.hasSpill().then((has) => has && this.kick());
  }

  /**
   * Adds one row for table `tableIndex` (values in column order). Synchronous, O(1), never does I/O. The
   * values are copied: the caller may reuse `values` for its next row.
   */
  protected push(tableIndex: number, values: readonly SqlValue[]): void {
    if (this.closed) throw ingestError('QUEUE_CLOSED', 'enqueue after close()');
    const open = this.open;
    if (open.rows === 0) open.sinceMs = this.clock.now();
    this.batchOf(open, tableIndex).push(values);
    open.rows++;
    this.metricEnqueued++;
    this.pendingRows++;
    if (open.rows >= this.batchSize) this.seal();
    // Past the memory bound, the sealed batches go to the spill file (a batch per turn, not from this handler).
    if (this.pendingRows > this.maxPendingRows && !this.spillScheduled) this.spillSoon(this.clock.now());
  }

  /** Counters and lag since the queue was created. */
  get metrics(): WriteQueueMetrics {
    return {
      enqueued: this.metricEnqueued,
      written: this.metricWritten,
      retried: this.metricRetried,
      spilled: this.metricSpilled,
      replayed: this.metricReplayed,
      dropped: this.metricDropped,
      rejected: this.metricRejected,
      pending: this.pendingRows,
      lagMs: this.lagMs(),
      maxLagMs: this.metricMaxLagMs,
      lastError: this.lastError,
    };
  }

  /**
   * Resolves when the queue is empty: every row in memory committed and the spill file replayed. Rows
   * enqueued meanwhile are waited for too, so call it when the producer pauses (tests, checkpoints).
   */
  async flush(): Promise<void> {
    const release = holdProcessOpen();
    try {
      await this.drain();
    } finally {
      release();
    }
  }

  /** `flush` without holding the process open; returns early once a timed-out `close()` gave up. */
  private async drain(): Promise<void> {
    while (!this.giveUp && (this.pendingRows > 0 || (await this.hasSpill()))) {
      if (this.open.rows > 0) this.seal();
      this.kick();
      // A write hung on a dead connection never settles: stop waiting for it when close() gives up.
      await Promise.race([this.pumping, this.gaveUp]);
    }
  }

  /**
   * Stops accepting rows and writes everything. If the database does not take it all within
   * `closeTimeoutMs`, the rest goes to the spill file (replayed by the next queue on the same path);
   * only without a spill file can rows be lost, and they are counted in `dropped`.
   */
  async close(): Promise<WriteQueueMetrics> {
    if (this.closed) return this.metrics;
    this.closed = true;
    const release = holdProcessOpen();
    try {
      let timer: unknown;
      const deadline = new Promise<'timeout'>((resolve) => {
        timer = this.timers.setTimeout(() => resolve('timeout'), this.closeTimeoutMs);
      });
      const outcome = await Promise.race([this.drain().then(() => 'done' as const), deadline]);
      this.timers.clearTimeout(timer);
      if (outcome === 'timeout') {
        this.stopPumping();
        // A write on a dead connection may not settle for minutes: its rows are spilled too. If it
        // commits after all, the replay skips them by their unique keys.
        await Promise.race([this.pumping, sleep(this.timers, HUNG_WRITE_GRACE_MS)]);
        this.spillRest();
      }
    } finally {
      this.stopTicking();
      release();
    }
    return this.metrics;
  }

  /**
   * Closes at once, for a process about to exit (a second Ctrl-C): every row still in memory, the batch
   * being written included, is appended to the spill file synchronously and nothing more is written.
   * Without a spill file, or when the disk refuses, those rows are counted in `dropped`.
   */
  closeSync(): WriteQueueMetrics {
    this.closed = true;
    this.stopTicking();
    this.stopPumping();
    this.spillRest();
    return this.metrics;
  }

  /** Stops the pump and every wait on it (the database is given up on). */
  private stopPumping(): void {
    this.giveUp = true;
    this.resolveGaveUp();
    this.wakeBackoff?.();
  }

  /** Spills every row in memory (spill-file batches stay in the file being replayed); what cannot be spilled is dropped. */
  private spillRest(): void {
    this.spill(Infinity, true);
    this.metricDropped += this.pendingRows;
    this.pendingRows = 0;
  }

  private lagMs(): number {
    const oldest = this.chunks[0] ?? (this.open.rows > 0 ? this.open : undefined);
    return oldest === undefined ? 0 : Math.max(0, this.clock.now() - oldest.sinceMs);
  }

  private newChunk(): Chunk {
    return { batches: this.tables.map(() => undefined), rows: 0, stored: this.tables.map(() => false), sinceMs: 0, attempts: 0, fromSpill: false, copyIds: undefined };
  }

  private batchOf(chunk: Chunk, tableIndex: number): ColumnBatch {
    let batch = chunk.batches[tableIndex];
    if (batch === undefined) {
      const spec = this.tables[tableIndex];
      if (spec === undefined) throw ingestError('INVALID_OPTIONS', `no table ${tableIndex} in this queue`);
      chunk.batches[tableIndex] = batch = this.freeBatches[tableIndex]!.pop() ?? new ColumnBatch(spec, this.interner);
    }
    return batch;
  }

  /**
   * Keeps the batches of a chunk that is done with (stored, or in the spill file) for the next rows: new
   * column arrays for every batch were garbage the collector had to handle, a pause at a time.
   */
  private release(chunk: Chunk): void {
    for (let t = 0; t < chunk.batches.length; t++) {
      const batch = chunk.batches[t];
      const free = this.freeBatches[t]!;
      if (batch === undefined || free.length >= FREE_BATCHES_PER_TABLE) continue;
      batch.clear();
      free.push(batch);
    }
  }

  private seal(): void {
    this.chunks.push(this.open);
    this.open = this.newChunk();
    this.kick();
  }

  /** Every `flushIntervalMs`, until closed and drained: seals the open batch and spills rows held too long. */
  private scheduleTick(): void {
    this.tickHandle = this.timers.setTimeout(() => {
      if (!this.ticking) return;
      if (this.open.rows > 0) this.seal();
      const cutoffMs = this.clock.now() - this.maxMemoryAgeMs;
      if (this.spill(cutoffMs, true, 1)) this.spillSoon(cutoffMs);
      this.scheduleTick();
    }, this.flushIntervalMs);
  }

  private stopTicking(): void {
    this.ticking = false;
    this.timers.clearTimeout(this.tickHandle);
  }

  private kick(): void {
    if (this.pumping !== undefined || this.giveUp) return;
    // Deferred: the caller (a socket handler) must never start I/O synchronously.
    this.pumping = new Promise<void>((resolve) => this.timers.setTimeout(resolve, 0))
      .then(() => this.pump())
      .finally(() => {
        this.pumping = undefined;
      });
  }

  private async pump(): Promise<void> {
    while (!this.giveUp) {
      const chunk = this.chunks.shift();
      if (chunk === undefined) {
        if (!(await this.replaySpill())) return;
        continue;
      }
      this.inflight = chunk;
      const ok = await this.writeChunk(chunk);
      this.inflight = undefined;
      // A chunk copied to the spill file while its write was slow is done either way: each table that
      // committed lets the replay skip its line, the others are left to the replay.
      if (ok || chunk.copyIds !== undefined) {
        this.release(chunk);
        continue;
      }
      if (!this.giveUp) {
        this.chunks.unshift(chunk);
        if (this.pendingRows > this.maxPendingRows) this.spillSoon(this.clock.now());
        await this.backoff(chunk.attempts);
      } else this.chunks.unshift(chunk);
    }
  }

  /**
   * Writes one chunk, table by table (a table once stored is not written again by a retry). Returns false
   * (after counting the retry) when the database failed and the chunk must be retried. Rows the database
   * refuses for their content (a data or constraint error: retrying cannot help) are halved until the
   * offending rows are alone; every other row is written and the offending ones are rejected, so one bad
   * row never blocks the queue.
   */
  private async writeChunk(chunk: Chunk): Promise<boolean> {
    for (let t = 0; t < chunk.batches.length; t++) {
      const batch = chunk.batches[t];
      if (batch === undefined || batch.length === 0 || chunk.stored[t]) continue;
      try {
        // The columns themselves: the driver reads them without an array per row.
        await this.insert(t, batch, chunk.attempts > 0 || chunk.fromSpill, chunk.fromSpill);
      } catch (error) {
        this.lastError = describeError(error);
        if (!isContentError(error)) {
          chunk.attempts++;
          this.metricRetried++;
          return false;
        }
        if (!(await this.isolate(t, batch.rows(), chunk.fromSpill, error))) return false;
      }
      chunk.stored[t] = true;
      chunk.rows -= batch.length;
      const copyId = chunk.copyIds?.[t];
      if (copyId !== undefined) this.committedCopies.add(copyId);
      // Rows of a spilled copy, or read from the spill file, were no longer counted as waiting in memory.
      else if (!chunk.fromSpill) this.pendingRows -= batch.length;
    }
    this.metricMaxLagMs = Math.max(this.metricMaxLagMs, this.clock.now() - chunk.sinceMs);
    return true;
  }

  /** One bulk insert of table `t`, counted once it commits. */
  private async insert(t: number, rows: BulkRows, mayConflict: boolean, fromSpill: boolean): Promise<void> {
    await this.db.insertRows(this.tables[t]!, rows, mayConflict);
    this.metricWritten += rows.length;
    if (fromSpill) this.metricReplayed += rows.length;
  }

  /** Writes `rows` of table `t` refused for their content: halves them until each refused row is alone and rejected. */
  private async isolate(t: number, rows: readonly SqlValue[][], fromSpill: boolean, error: unknown): Promise<boolean> {
    if (rows.length === 1) {
      this.metricRejected++;
      const line = JSON.stringify({ table: this.tables[t]!.name, row: rows[0], error: describeError(error) });
      if (this.spillPath !== undefined) await appendFile(`${this.spillPath}.rejected`, `${line}\n`).catch(() => {});
      return true;
    }
    const mid = rows.length >> 1;
    for (const half of [rows.slice(0, mid), rows.slice(mid)]) {
      for (let attempts = 1; ; attempts++) {
        try {
          // Part of the rows may already be stored: the halves take the conflict-safe path.
          await this.insert(t, half, true, fromSpill);
          break;
        } catch (halfError) {
          this.lastError = describeError(halfError);
          if (isContentError(halfError)) {
            if (!(await this.isolate(t, half, fromSpill, halfError))) return false;
            break;
          }
          this.metricRetried++;
          // Given up while isolating: the caller keeps the chunk (rows already stored are skipped later).
          if (this.giveUp) return false;
          await this.backoff(attempts);
        }
      }
    }
    return true;
  }

  private backoff(attempts: number): Promise<void> {
    const ms = Math.min(this.maxRetryDelayMs, this.retryDelayMs * 2 ** Math.min(attempts - 1, 20));
    return new Promise<void>((resolve) => {
      this.wakeBackoff = resolve;
      this.timers.setTimeout(resolve, ms);
    }).finally(() => {
      this.wakeBackoff = undefined;
    });
  }

  /**
   * Appends to the spill file, in one synchronous write, the waiting batches that began at or before
   * `cutoffMs` (Infinity: all of them, the open one too), at most `maxChunks` of them, and, with
   * `copyInflight`, a copy of the batch being written if it is that old. Synchronous so that a row is at
   * every moment in memory or in the file, never in between, whatever happens to the process next. On a
   * disk failure the rows stay in memory. Returns true when batches that old remain (past `maxChunks`).
   */
  private spill(cutoffMs: number, copyInflight: boolean, maxChunks = Infinity): boolean {
    if (this.spillPath === undefined) return false;
    if (cutoffMs === Infinity && this.open.rows > 0) this.seal();
    let n = 0;
    while (n < this.chunks.length && n < maxChunks && this.chunks[n]!.sinceMs <= cutoffMs) n++;
    const more = n < this.chunks.length && this.chunks[n]!.sinceMs <= cutoffMs;
    const inflight = this.inflight;
    const copy = copyInflight && inflight !== undefined && !inflight.fromSpill && inflight.copyIds === undefined && inflight.sinceMs <= cutoffMs ? inflight : undefined;
    if (n === 0 && copy === undefined) return more;
    const taken = this.chunks.slice(0, n);
    let text = '';
    for (const c of taken) text += this.spillLines(c, undefined);
    const copyIds = copy === undefined ? undefined : copy.batches.map((b, t) => (b === undefined || b.length === 0 || copy.stored[t] ? undefined : `${this.copyToken}-${++this.copies}`));
    if (copy !== undefined) text += this.spillLines(copy, copyIds);
    try {
      mkdirSync(dirname(this.spillPath), { recursive: true });
      appendFileSync(this.spillPath, text);
    } catch (error) {
      // The disk failed too: keep the rows in memory and keep retrying the database (the next tick tries again).
      this.lastError = describeError(error);
      return false;
    }
    this.chunks.splice(0, n);
    for (const c of taken) this.release(c);
    if (copy !== undefined) copy.copyIds = copyIds;
    let rows = 0;
    for (const c of taken) rows += c.rows;
    rows += copy?.rows ?? 0;
    this.metricSpilled += rows;
    this.pendingRows -= rows;
    return more;
  }

  /** A chunk's rows not stored yet, a line per table (with its copy id, for a copy of a batch being written). */
  private spillLines(chunk: Chunk, copyIds: readonly (string | undefined)[] | undefined): string {
    let text = '';
    for (let t = 0; t < chunk.batches.length; t++) {
      const batch = chunk.batches[t];
      if (batch === undefined || batch.length === 0 || chunk.stored[t]) continue;
      const copy = copyIds?.[t];
      const line: SpillLine = { sinceMs: chunk.sinceMs, tables: Array.from({ length: batch.length }, () => t), rows: batch.rows(), ...(copy === undefined ? {} : { copy }) };
      text += `${JSON.stringify(line)}\n`;
    }
    return text;
  }

  /**
   * Spills the batches begun at or before `cutoffMs` one per event-loop turn (each still one synchronous
   * append), so a backlog of many batches never holds the loop for all of them at once.
   */
  private spillSoon(cutoffMs: number): void {
    if (this.spillPath === undefined) return;
    this.spillCutoffMs = Math.max(this.spillCutoffMs, cutoffMs);
    if (this.spillScheduled) return;
    this.spillScheduled = true;
    this.timers.setTimeout(() => {
      this.spillScheduled = false;
      if (this.spill(this.spillCutoffMs, false, 1)) this.spillSoon(this.spillCutoffMs);
      else this.spillCutoffMs = -Infinity;
    }, 0);
  }

  private async hasSpill(): Promise<boolean> {
    if (this.spillPath === undefined) return false;
    return (await fileSize(this.replayPath())) > 0 || (await fileSize(this.spillPath)) > 0;
  }

  private replayPath(): string {
    return `${this.spillPath}.replaying`;
  }

  /**
   * Replays the spill file batch by batch. New spills go to a fresh file meanwhile. Returns false when
   * there was nothing to replay; on a database failure the replay file stays and is retried later
   * (already written batches are skipped by the unique keys).
   */
  private async replaySpill(): Promise<boolean> {
    if (this.spillPath === undefined) return false;
    const replayPath = this.replayPath();
    // Another process recovering the same file may move or remove it under us: that is its replay, not a failure.
    try {
      if ((await fileSize(replayPath)) === 0) {
        if ((await fileSize(this.spillPath)) === 0) return false;
        await rename(this.spillPath, replayPath);
      }
      // Streamed line by line: a spill file can be far larger than the memory bound that created it.
      const lines = createInterface({ input: createReadStream(replayPath, 'utf8'), crlfDelay: Infinity });
      try {
        for await (const text of lines) {
          if (text === '') continue;
          const line = parseSpillLine(text);
          if (line === undefined) {
            // Cut short by a process killed while appending: nothing to replay, kept for inspection.
            this.lastError = `an unreadable line in the spill file (kept in ${this.spillPath}.rejected)`;
            await appendFile(`${this.spillPath}.rejected`, `${JSON.stringify({ unreadable: text })}\n`).catch(() => {});
            continue;
          }
          if (line.copy !== undefined && this.committedCopies.delete(line.copy)) {
            this.metricReplayed += line.rows.length; // its original write committed
            continue;
          }
          const chunk: Chunk = { ...this.newChunk(), sinceMs: line.sinceMs, fromSpill: true };
          for (let i = 0; i < line.rows.length; i++) this.batchOf(chunk, line.tables[i]!).push(line.rows[i]!);
          chunk.rows = line.rows.length;
          while (!(await this.writeChunk(chunk))) {
            if (this.giveUp) return false;
            await this.backoff(chunk.attempts);
          }
          this.release(chunk);
        }
      } finally {
        lines.close();
      }
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') return true;
      throw error;
    }
    await rm(replayPath, { force: true });
    return true;
  }
}

/** A spill-file line, or undefined when it is not one (a line cut short). */
function parseSpillLine(text: string): SpillLine | undefined {
  try {
    const line = JSON.parse(text) as Partial<SpillLine> | null;
    return line !== null && Array.isArray(line.tables) && Array.isArray(line.rows) && typeof line.sinceMs === 'number' ? (line as SpillLine) : undefined;
  } catch {
    return undefined;
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/**
 * SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation, e.g. a CHECK): the rows
 * themselves are refused, so retrying the same batch would fail forever.
 */
function isContentError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^2[23]/.test(code);
}

/** An error's message and SQLSTATE only: driver errors can carry parameters, never repeated here. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${error.message} (${code})` : error.message;
}

