import { createReadStream } from 'node:fs';
import { appendFile, rename, rm, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { systemClock, type Clock } from '@kflow/orderbook';
import { ingestError } from './errors';
import type { IngestDatabase, SqlValue, TableSpec } from './queryable';
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

/** Options of a {@link WriteQueue}: the database, batching, the spill file, retries and the close timeout. */
export interface WriteQueueOptions {
  readonly db: IngestDatabase;
  /** Rows per batch. Default 5,000. */
  readonly batchSize?: number;
  /** A partly filled batch is written after this long. Default 200 ms. */
  readonly flushIntervalMs?: number;
  /** Rows kept in memory before spilling to `spillPath`. Default 500,000. */
  readonly maxPendingRows?: number;
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
  /** `tables[i]` is the index (into the queue's table specs) of `rows[i]`. */
  tables: number[];
  rows: SqlValue[][];
  sinceMs: number;
  attempts: number;
  fromSpill: boolean;
  /** Set by a timed-out `close()` that spilled a copy of this chunk while its write hung. */
  abandoned: boolean;
}

/** How long a timed-out `close()` lets a write in progress finish before treating it as hung. */
const HUNG_WRITE_GRACE_MS = 100;

/**
 * A batched, lossless writer. `enqueue` is synchronous and O(1) (an array push); a background pump
 * writes batches by size and by interval through the database's bulk path. A failed batch is retried
 * with capped exponential backoff; past `maxPendingRows` rows in memory, older batches are appended to
 * a spill file and replayed once the database is back. Writes are idempotent (every table has a unique
 * key and duplicates are skipped), so a retry or a replay never stores a row twice.
 *
 * Subclasses (`OrderbookWriteQueue`, `ActionWriteQueue`) add typed `enqueue*` methods.
 */
export class WriteQueue {
  private readonly db: IngestDatabase;
  private readonly tables: readonly TableSpec[];
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxPendingRows: number;
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
  private spilling: Promise<void> = Promise.resolve();
  private spillPending = false;
  private intervalHandle: unknown;
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
    this.batchSize = options.batchSize ?? 5000;
    this.flushIntervalMs = options.flushIntervalMs ?? 200;
    this.maxPendingRows = options.maxPendingRows ?? 500_000;
    this.spillPath = options.spillPath;
    this.retryDelayMs = options.retryDelayMs ?? 50;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 2000;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 30_000;
    this.clock = options.clock ?? systemClock;
    this.timers = options.timers ?? systemTimers;
    this.gaveUp = new Promise((resolve) => {
      this.resolveGaveUp = resolve;
    });
    this.open = this.newChunk();
    this.scheduleInterval();
    // Rows spilled by an earlier run that ended before replaying them are picked up now.
    if (this.spillPath !== undefined) void this.hasSpill().then((has) => has && this.kick());
  }

  /** Adds one row for table `tableIndex` (values in column order). Synchronous, O(1), never does I/O. */
  protected push(tableIndex: number, values: SqlValue[]): void {
    if (this.closed) throw ingestError('QUEUE_CLOSED', 'enqueue after close()');
    const open = this.open;
    if (open.rows.length === 0) open.sinceMs = this.clock.now();
    open.tables.push(tableIndex);
    open.rows.push(values);
    this.metricEnqueued++;
    this.pendingRows++;
    if (open.rows.length >= this.batchSize) this.seal();
    if (this.pendingRows > this.maxPendingRows && this.spillPath !== undefined && !this.spillPending) {
      this.spillPending = true;
      this.timers.setTimeout(() => this.spillNow(), 0);
    }
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
      if (this.open.rows.length > 0) this.seal();
      this.kick();
      // A write hung on a dead connection never settles: stop waiting for it when close() gives up.
      await Promise.race([this.pumping, this.gaveUp]);
      await this.spilling;
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
    this.timers.clearTimeout(this.intervalHandle);
    const release = holdProcessOpen();
    try {
      let timer: unknown;
      const deadline = new Promise<'timeout'>((resolve) => {
        timer = this.timers.setTimeout(() => resolve('timeout'), this.closeTimeoutMs);
      });
      const outcome = await Promise.race([this.drain().then(() => 'done' as const), deadline]);
      this.timers.clearTimeout(timer);
      if (outcome === 'timeout') {
        this.giveUp = true;
        this.resolveGaveUp();
        this.wakeBackoff?.();
        // A write on a dead connection may not settle for minutes: spill a copy of its rows too. If it
        // commits after all, the replay skips them by their unique keys. (Spill-file batches stay in
        // the file being replayed.)
        await Promise.race([this.pumping, sleep(this.timers, HUNG_WRITE_GRACE_MS)]);
        const hung = this.inflight;
        if (hung !== undefined && !hung.fromSpill) {
          hung.abandoned = true;
          this.chunks.unshift({ ...hung, abandoned: false });
        }
        await this.spillNow();
        this.metricDropped += this.pendingRows;
        this.pendingRows = 0;
      }
    } finally {
      release();
    }
    return this.metrics;
  }

  private lagMs(): number {
    const oldest = this.chunks[0] ?? (this.open.rows.length > 0 ? this.open : undefined);
    return oldest === undefined ? 0 : Math.max(0, this.clock.now() - oldest.sinceMs);
  }

  private newChunk(): Chunk {
    return { tables: [], rows: [], sinceMs: 0, attempts: 0, fromSpill: false, abandoned: false };
  }

  private seal(): void {
    this.chunks.push(this.open);
    this.open = this.newChunk();
    this.kick();
  }

  private scheduleInterval(): void {
    this.intervalHandle = this.timers.setTimeout(() => {
      if (this.open.rows.length > 0) this.seal();
      if (!this.closed) this.scheduleInterval();
    }, this.flushIntervalMs);
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
      if (chunk.abandoned) return; // close() gave up on this write and spilled the rows
      if (ok) this.pendingRows -= chunk.rows.length;
      else if (!this.giveUp) {
        this.chunks.unshift(chunk);
        if (this.pendingRows > this.maxPendingRows) await this.spillNow();
        await this.backoff(chunk.attempts);
      } else this.chunks.unshift(chunk);
    }
  }

  /**
   * Writes one chunk, grouped by table. Returns false (after counting the retry) when the database failed
   * and the chunk must be retried. A chunk the database refuses for its content (a data or constraint
   * error: retrying cannot help) is halved until the offending rows are alone; every other row is
   * written and the offending ones are rejected, so one bad row never blocks the queue.
   */
  private async writeChunk(chunk: Chunk): Promise<boolean> {
    const byTable: SqlValue[][][] = this.tables.map(() => []);
    for (let i = 0; i < chunk.rows.length; i++) byTable[chunk.tables[i]!]!.push(chunk.rows[i]!);
    try {
      for (let t = 0; t < byTable.length; t++) {
        const rows = byTable[t]!;
        if (rows.length > 0) await this.db.insertRows(this.tables[t]!, rows, chunk.attempts > 0 || chunk.fromSpill);
      }
    } catch (error) {
      this.lastError = describeError(error);
      if (isContentError(error)) return this.isolate(chunk, error);
      chunk.attempts++;
      this.metricRetried++;
      return false;
    }
    if (chunk.abandoned) return true; // counted when its spilled copy is replayed
    this.metricWritten += chunk.rows.length;
    if (chunk.fromSpill) this.metricReplayed += chunk.rows.length;
    this.metricMaxLagMs = Math.max(this.metricMaxLagMs, this.clock.now() - chunk.sinceMs);
    return true;
  }

  private async isolate(chunk: Chunk, error: unknown): Promise<boolean> {
    if (chunk.rows.length === 1) {
      this.metricRejected++;
      const line = JSON.stringify({ table: this.tables[chunk.tables[0]!]!.name, row: chunk.rows[0], error: describeError(error) });
      if (this.spillPath !== undefined) await appendFile(`${this.spillPath}.rejected`, `${line}\n`).catch(() => {});
      return true;
    }
    const mid = chunk.rows.length >> 1;
    for (const [from, to] of [[0, mid], [mid, chunk.rows.length]] as const) {
      // attempts = 1: part of the chunk may already be stored, so the halves take the conflict-safe path.
      const half: Chunk = { ...chunk, tables: chunk.tables.slice(from, to), rows: chunk.rows.slice(from, to), attempts: 1 };
      while (!(await this.writeChunk(half))) {
        // Given up while isolating: the caller keeps the whole chunk (rows already stored are skipped later).
        if (this.giveUp) return false;
        await this.backoff(half.attempts);
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

  /** Appends every batch not being written (and the open one) to the spill file. */
  private spillNow(): Promise<void> {
    this.spilling = this.spilling.then(async () => {
      this.spillPending = false;
      if (this.spillPath === undefined) return;
      if (this.open.rows.length > 0) this.seal();
      const taken = this.chunks.splice(0, this.chunks.length);
      if (taken.length === 0) return;
      const text = taken.map((c) => JSON.stringify({ sinceMs: c.sinceMs, tables: c.tables, rows: c.rows })).join('\n') + '\n';
      try {
        await appendFile(this.spillPath, text);
      } catch (error) {
        // The disk failed too: keep the rows in memory and keep retrying the database.
        this.lastError = describeError(error);
        this.chunks.unshift(...taken);
        return;
      }
      let n = 0;
      for (const c of taken) n += c.rows.length;
      this.metricSpilled += n;
      this.pendingRows -= n;
    });
    return this.spilling;
  }

  private async hasSpill(): Promise<boolean> {
    if (this.spillPath === undefined) return false;
    await this.spilling;
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
    await this.spilling;
    const replayPath = this.replayPath();
    if ((await fileSize(replayPath)) === 0) {
      if ((await fileSize(this.spillPath)) === 0) return false;
      await rename(this.spillPath, replayPath);
    }
    // Streamed line by line: a spill file can be far larger than the memory bound that created it.
    const lines = createInterface({ input: createReadStream(replayPath, 'utf8'), crlfDelay: Infinity });
    try {
      for await (const line of lines) {
        if (line === '') continue;
        const parsed = JSON.parse(line) as { sinceMs: number; tables: number[]; rows: SqlValue[][] };
        const chunk: Chunk = { ...parsed, attempts: 0, fromSpill: true, abandoned: false };
        while (!(await this.writeChunk(chunk))) {
          if (this.giveUp) return false;
          await this.backoff(chunk.attempts);
        }
      }
    } finally {
      lines.close();
    }
    await rm(replayPath, { force: true });
    return true;
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

