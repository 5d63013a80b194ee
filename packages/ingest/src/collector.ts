import { join, resolve } from 'node:path';
import { systemClock, type KalshiFrame, type SharedOrderbookState } from '@kflow/orderbook';
import { createCaptureRecorder, type CaptureRecorder } from './captureRecorder';
import { KalshiClient, isKalshiEnvironment, type FrameContext, type FrameSink, type KalshiClientOptions } from './kalshiClient';
import { OrderbookWriteQueue, type FrameMeta, type OrderbookWriteQueueMetrics, type OrderbookWriteQueueOptions } from './orderbookWriteQueue';
import type { IngestDatabase } from './queryable';
import { deferSessionRecord, recoverSessions, type RecoveryReport } from './recovery';
import {
  createSessionRecord,
  currentOwner,
  updateSessionRecord,
  type SessionCounts,
  type SessionEnvironment,
  type SessionOwner,
  type SessionUpdate,
} from './sessionStore';
import { sleep, systemTimers } from './timers';

/** How long `stop()` tries to store the session's final record before leaving it next to the spill file. */
const FINAL_RECORD_TIMEOUT_MS = 5000;

/**
 * The client's options (URL, signer, markets, channels, the books it writes, rng, clock, timers,
 * ping/watchdog/backoff, onEvent) plus where the frames go. Pass `state` to share the books with a
 * reader that must see every event from the start (the live actor).
 */
export interface CollectorOptions extends KalshiClientOptions {
  /** Where rows go (migrated). Without it the collector only keeps books and records. */
  readonly db?: IngestDatabase;
  /**
   * Write-queue tuning (batch size, interval, close timeout ...). The spill file defaults to
   * `<db.spillDir>/<sessionId>.jsonl`, a place tied to the database, and is recorded with the session.
   */
  readonly queue?: Omit<OrderbookWriteQueueOptions, 'db' | 'clock' | 'timers'>;
  /** Write every frame that parses to this JSONL capture (envelope format; malformed frames are only counted). */
  readonly recordPath?: string;
  /** Default `<environment>-<startedMs>-<random hex>`. */
  readonly sessionId?: string;
  /** Default from the URL: production, demo, else custom. */
  readonly environment?: SessionEnvironment;
  /** How often the session row's counts and heartbeat are refreshed. Default 5 s. */
  readonly sessionUpdateIntervalMs?: number;
  /** The process recorded as the session's owner. Default this one (`currentOwner()`). */
  readonly owner?: SessionOwner;
  /** `start()` first finishes what earlier collectors on the database left (see `recoverSessions`). Default true. */
  readonly recover?: boolean;
}

/** A collector's state: its session, counts, connection and write-queue metrics. */
export interface CollectorStatus {
  readonly sessionId: string;
  readonly counts: SessionCounts;
  readonly connected: boolean;
  readonly queue: OrderbookWriteQueueMetrics | undefined;
  readonly recordedLines: number;
  /** The spill file, where rows wait that the database could not take yet (undefined without one). */
  readonly spillPath: string | undefined;
  /**
   * The final session record could not be stored (the database was down at the end): it waits next to
   * the spill file and the next recovery stores it.
   */
  readonly recordDeferred: boolean;
}

/** A running collector (see {@link createCollector}): the client, its books, and the session it records. */
export interface Collector {
  readonly sessionId: string;
  readonly client: KalshiClient;
  readonly state: SharedOrderbookState;
  /**
   * With a database: recovers what earlier collectors left (unless `recover: false`) and creates the
   * session record. Then opens the connection; resolves once subscribed. When the connection cannot be
   * made (see {@link KalshiClient.start}) it closes everything, marks the session failed and rejects with
   * the client's typed error.
   */
  start(): Promise<void>;
  /** What `start()` recovered from earlier collectors (undefined before it, or without a database). */
  readonly recovered: RecoveryReport | undefined;
  /**
   * Closes the socket, flushes the capture and every queued row (rows the database does not take within
   * the queue's close timeout go to the spill file), and marks the session completed. Never fails for the
   * database: a final record it cannot store is deferred (see {@link CollectorStatus.recordDeferred}).
   */
  stop(): Promise<CollectorStatus>;
  /**
   * Stops at once, for a process about to exit (a second Ctrl-C): every queued row is appended to the
   * spill file synchronously and the final record is left for the next recovery. The socket and the
   * database are left to the exit.
   */
  abort(): CollectorStatus;
  /** The current counts, connection state and queue metrics. */
  status(): CollectorStatus;
  /** Starts collecting more markets (see {@link KalshiClient.addMarkets}). */
  addMarkets(tickers: readonly string[]): void;
  /** Stops collecting markets (see {@link KalshiClient.removeMarkets}). */
  removeMarkets(tickers: readonly string[]): void;
}

/**
 * The stored columns every market-data row starts with, written into one object reused for every row (the
 * queue copies the values when the row is enqueued): the socket handler allocates nothing for them.
 */
function frameMetaWriter(sessionId: string): (frame: KalshiFrame, ctx: FrameContext, market: string, tsMs: number | null) => FrameMeta {
  const meta: { -readonly [K in keyof FrameMeta]: FrameMeta[K] } = { sessionId, frameNo: 0, market: '', recvMs: 0, tsMs: null, conn: 0, sid: null, seq: null };
  return (frame, ctx, market, tsMs) => {
    meta.frameNo = ctx.frameNo;
    meta.market = market;
    meta.recvMs = ctx.recvMs;
    meta.tsMs = tsMs;
    meta.conn = ctx.conn;
    meta.sid = frame.sid ?? null;
    meta.seq = frame.seq ?? null;
    return meta;
  };
}

/**
 * The collector: a `KalshiClient` whose frames update the shared books, are appended to a capture and
 * are enqueued as rows (snapshots, deltas, trades, lifecycle events) for the database, all without
 * awaiting anything on the socket's path.
 *
 * @example
 * const db = await openPglite({ dataDir: './kflow-data' }); await migrate(db);
 * const collector = createCollector({ url: 'demo', signer, markets: ['KXFED-26DEC-T4.00'], db, rng: createRng(7) });
 * await collector.start(); ... const summary = await collector.stop();
 */
export function createCollector(options: CollectorOptions): Collector {
  const { db, queue: queueOptions, recordPath, sessionId: givenSessionId, environment: givenEnvironment, sessionUpdateIntervalMs, ...clientOptions } =
    options;
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? systemTimers;
  const client = new KalshiClient({ ...clientOptions, clock, timers });
  const environment: SessionEnvironment = givenEnvironment ?? (isKalshiEnvironment(options.url) ? options.url : 'custom');
  const startedMs = clock.now();
  const sessionId = givenSessionId ?? `${environment}-${startedMs}-${options.rng.uint32().toString(16).padStart(8, '0')}`;
  const givenSpillPath = queueOptions?.spillPath ?? (db?.spillDir === undefined ? undefined : join(db.spillDir, `${encodeURIComponent(sessionId)}.jsonl`));
  // Absolute, so the path recorded with the session leads to the file from any directory.
  const spillPath = givenSpillPath === undefined ? undefined : resolve(givenSpillPath);
  const queue = db ? new OrderbookWriteQueue({ ...queueOptions, ...(spillPath === undefined ? {} : { spillPath }), db, clock, timers }) : undefined;
  const owner = options.owner ?? currentOwner();
  let recovered: RecoveryReport | undefined;
  let recordDeferred = false;
  const recorder: CaptureRecorder | undefined = recordPath ? createCaptureRecorder({ path: recordPath, timers }) : undefined;
  const counts = { snapshots: 0, deltas: 0, trades: 0 };
  const frameMeta = frameMetaWriter(sessionId);
  let updateHandle: unknown;

  const countsNow = (): SessionCounts => ({
    frames: client.stats.frames,
    snapshots: counts.snapshots,
    deltas: counts.deltas,
    trades: counts.trades,
    gaps: client.stats.gaps,
    malformed: client.stats.malformed,
    reconnects: client.stats.reconnects,
  });

  const sink: FrameSink = (frame, result, ctx) => {
    recorder?.append(ctx.raw, ctx.recvMs);
    const event = result.event;
    if (event !== undefined) {
      if (event.kind === 'snapshot') counts.snapshots++;
      else if (event.kind === 'delta') counts.deltas++;
      else counts.trades++;
    }
    if (queue === undefined) return;
    // Only what the books applied is stored (not duplicates, not deltas without a snapshot), so a load
    // from the database rebuilds exactly what a replay of the capture does.
    if (event !== undefined) {
      if (frame.type === 'orderbook_snapshot' && event.kind === 'snapshot') queue.enqueueSnapshot(frameMeta(frame, ctx, event.ticker, null), event.yes, event.no);
      else if (frame.type === 'orderbook_delta' && event.kind === 'delta')
        queue.enqueueDelta(frameMeta(frame, ctx, event.ticker, frame.tsMs ?? null), event.side, event.priceUnits, event.deltaCenti);
      else if (frame.type === 'trade' && event.kind === 'trade')
        queue.enqueueTrade(frameMeta(frame, ctx, event.ticker, frame.tsMs), frame.tradeId ?? null, event.yesPriceUnits, event.countCenti, event.takerSide);
    } else if (frame.type === 'market_lifecycle_v2' && (client.state.book(frame.ticker) !== undefined || client.markets.includes(frame.ticker))) {
      const msg = (JSON.parse(ctx.raw) as { msg: unknown }).msg;
      queue.enqueueLifecycle(frameMeta(frame, ctx, frame.ticker, null), frame.eventType, JSON.stringify(msg));
    }
  };
  client.addSink(sink);

  let updating = false;
  /** The periodic update in flight: the final record waits for it, or it could land after and undo it. */
  let lastUpdate: Promise<void> = Promise.resolve();
  const scheduleUpdate = () => {
    if (db === undefined || !updating) return;
    updateHandle = timers.setTimeout(() => {
      lastUpdate = updateSessionRecord(db, sessionId, { counts: countsNow(), markets: client.markets, heartbeat: true })
        .catch(() => {}) // the database may be down; the next update or the final record catches up
        .finally(scheduleUpdate);
    }, sessionUpdateIntervalMs ?? 5000);
  };
  const stopUpdates = () => {
    updating = false;
    timers.clearTimeout(updateHandle);
  };
  const finalUpdate = (outcome: 'completed' | 'failed'): SessionUpdate => ({ counts: countsNow(), markets: client.markets, status: outcome, endedMs: clock.now() });
  /** Leaves the final record for the next recovery (or, without a spill file, for the next owner check). */
  const deferRecord = (update: SessionUpdate) => {
    recordDeferred = true;
    if (spillPath !== undefined) deferSessionRecord(spillPath, sessionId, update);
  };

  let finished: Promise<CollectorStatus> | undefined;
  /** Closes the socket, flushes the capture and every queued row, and closes the session record (once). */
  const finish = (outcome: 'completed' | 'failed'): Promise<CollectorStatus> =>
    (finished ??= (async () => {
      await client.stop();
      stopUpdates();
      await recorder?.close();
      if (queue) await queue.close();
      if (db && !recordDeferred) {
        const update = finalUpdate(outcome);
        const stored = lastUpdate.then(() => updateSessionRecord(db, sessionId, update)).then(() => true);
        // A dead connection can hang for its connect timeout: after a bounded wait the record is deferred.
        if (!(await Promise.race([stored.catch(() => false), sleep(timers, FINAL_RECORD_TIMEOUT_MS).then(() => false)]))) deferRecord(update);
      }
      return status();
    })());

  const status = (): CollectorStatus => ({
    sessionId,
    counts: countsNow(),
    connected: client.stats.connected,
    queue: queue?.metrics,
    recordedLines: recorder?.lines ?? 0,
    spillPath,
    recordDeferred,
  });

  return {
    sessionId,
    client,
    state: client.state,
    get recovered() {
      return recovered;
    },
    async start() {
      if (db) {
        if (options.recover !== false) recovered = await recoverSessions({ db });
        await createSessionRecord(db, { id: sessionId, startedMs, environment, wsUrl: client.url, markets: client.markets, owner, ...(spillPath === undefined ? {} : { spillPath }) });
        updating = true;
        scheduleUpdate();
      }
      try {
        await client.start();
      } catch (error) {
        // Nothing will arrive: close what start opened and record the session as failed.
        await finish('failed');
        throw error;
      }
    },
    stop: () => finish('completed'),
    abort() {
      stopUpdates();
      queue?.closeSync();
      if (db && !recordDeferred) deferRecord(finalUpdate('completed'));
      return status();
    },
    status,
    addMarkets: (tickers) => client.addMarkets(tickers),
    removeMarkets: (tickers) => client.removeMarkets(tickers),
  };
}
