import { systemClock, type KalshiFrame, type SharedOrderbookState } from '@kflow/orderbook';
import { createCaptureRecorder, type CaptureRecorder } from './captureRecorder';
import { KalshiClient, isKalshiEnvironment, type FrameContext, type FrameSink, type KalshiClientOptions } from './kalshiClient';
import { OrderbookWriteQueue, type FrameMeta, type OrderbookWriteQueueMetrics, type OrderbookWriteQueueOptions } from './orderbookWriteQueue';
import type { IngestDatabase } from './queryable';
import { createSessionRecord, updateSessionRecord, type SessionCounts, type SessionEnvironment } from './sessionStore';
import { systemTimers } from './timers';

/**
 * The client's options (URL, signer, markets, channels, the books it writes, rng, clock, timers,
 * ping/watchdog/backoff, onEvent) plus where the frames go. Pass `state` to share the books with a
 * reader that must see every event from the start (the live actor).
 */
export interface CollectorOptions extends KalshiClientOptions {
  /** Where rows go (migrated). Without it the collector only keeps books and records. */
  readonly db?: IngestDatabase;
  /** Write-queue tuning (batch size, interval, spill file ...). */
  readonly queue?: Omit<OrderbookWriteQueueOptions, 'db' | 'clock' | 'timers'>;
  /** Write every frame that parses to this JSONL capture (envelope format; malformed frames are only counted). */
  readonly recordPath?: string;
  /** Default `<environment>-<startedMs>-<random hex>`. */
  readonly sessionId?: string;
  /** Default from the URL: production, demo, else custom. */
  readonly environment?: SessionEnvironment;
  /** How often the session row's counts are refreshed. Default 5 s. */
  readonly sessionUpdateIntervalMs?: number;
}

/** A collector's state: its session, counts, connection and write-queue metrics. */
export interface CollectorStatus {
  readonly sessionId: string;
  readonly counts: SessionCounts;
  readonly connected: boolean;
  readonly queue: OrderbookWriteQueueMetrics | undefined;
  readonly recordedLines: number;
}

/** A running collector (see {@link createCollector}): the client, its books, and the session it records. */
export interface Collector {
  readonly sessionId: string;
  readonly client: KalshiClient;
  readonly state: SharedOrderbookState;
  /**
   * Creates the session record (with a database) and opens the connection; resolves once subscribed.
   * When the connection cannot be made (see {@link KalshiClient.start}) it closes everything, marks the
   * session failed and rejects with the client's typed error.
   */
  start(): Promise<void>;
  /** Closes the socket, flushes the capture and every queued row, and marks the session completed. */
  stop(): Promise<CollectorStatus>;
  /** The current counts, connection state and queue metrics. */
  status(): CollectorStatus;
  /** Starts collecting more markets (see {@link KalshiClient.addMarkets}). */
  addMarkets(tickers: readonly string[]): void;
  /** Stops collecting markets (see {@link KalshiClient.removeMarkets}). */
  removeMarkets(tickers: readonly string[]): void;
}

/** The stored columns every market-data row starts with. */
function frameMeta(sessionId: string, frame: KalshiFrame, ctx: FrameContext, market: string, tsMs: number | null): FrameMeta {
  return { sessionId, frameNo: ctx.frameNo, market, recvMs: ctx.recvMs, tsMs, conn: ctx.conn, sid: frame.sid ?? null, seq: frame.seq ?? null };
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
  const queue = db ? new OrderbookWriteQueue({ ...queueOptions, db, clock, timers }) : undefined;
  const recorder: CaptureRecorder | undefined = recordPath ? createCaptureRecorder({ path: recordPath, timers }) : undefined;
  const counts = { snapshots: 0, deltas: 0, trades: 0 };
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
      if (frame.type === 'orderbook_snapshot' && event.kind === 'snapshot') queue.enqueueSnapshot(frameMeta(sessionId, frame, ctx, event.ticker, null), event.yes, event.no);
      else if (frame.type === 'orderbook_delta' && event.kind === 'delta')
        queue.enqueueDelta(frameMeta(sessionId, frame, ctx, event.ticker, frame.tsMs ?? null), event.side, event.priceUnits, event.deltaCenti);
      else if (frame.type === 'trade' && event.kind === 'trade')
        queue.enqueueTrade(frameMeta(sessionId, frame, ctx, event.ticker, frame.tsMs), frame.tradeId ?? null, event.yesPriceUnits, event.countCenti, event.takerSide);
    } else if (frame.type === 'market_lifecycle_v2' && (client.state.book(frame.ticker) !== undefined || client.markets.includes(frame.ticker))) {
      const msg = (JSON.parse(ctx.raw) as { msg: unknown }).msg;
      queue.enqueueLifecycle(frameMeta(sessionId, frame, ctx, frame.ticker, null), frame.eventType, JSON.stringify(msg));
    }
  };
  client.addSink(sink);

  const scheduleUpdate = () => {
    if (db === undefined) return;
    updateHandle = timers.setTimeout(() => {
      updateSessionRecord(db, sessionId, { counts: countsNow(), markets: client.markets })
        .catch(() => {}) // the database may be down; the final update at stop() retries
        .finally(scheduleUpdate);
    }, sessionUpdateIntervalMs ?? 5000);
  };

  let finished: Promise<CollectorStatus> | undefined;
  /** Closes the socket, flushes the capture and every queued row, and closes the session record (once). */
  const finish = (outcome: 'completed' | 'failed'): Promise<CollectorStatus> =>
    (finished ??= (async () => {
      await client.stop();
      timers.clearTimeout(updateHandle);
      await recorder?.close();
      if (queue) await queue.close();
      if (db) await updateSessionRecord(db, sessionId, { counts: countsNow(), markets: client.markets, status: outcome, endedMs: clock.now() });
      return status();
    })());

  const status = (): CollectorStatus => ({
    sessionId,
    counts: countsNow(),
    connected: client.stats.connected,
    queue: queue?.metrics,
    recordedLines: recorder?.lines ?? 0,
  });

  return {
    sessionId,
    client,
    state: client.state,
    async start() {
      if (db) {
        await createSessionRecord(db, { id: sessionId, startedMs, environment, wsUrl: client.url, markets: client.markets });
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
    status,
    addMarkets: (tickers) => client.addMarkets(tickers),
    removeMarkets: (tickers) => client.removeMarkets(tickers),
  };
}
