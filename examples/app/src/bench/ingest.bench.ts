import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng, type Rng } from '@kflow/orderbook';
import {
  DELTA_TABLE,
  LIFECYCLE_TABLE,
  OrderbookWriteQueue,
  SNAPSHOT_TABLE,
  TRADE_TABLE,
  createCollector,
  createKalshiSigner,
  migrate,
  openPglite,
  type IngestDatabase,
} from '@kflow/ingest';
import { connectPostgres } from '@kflow/ingest/pg';
import type { LocalExchangeCredentials } from '@kflow/sim';
import { LOOP_DELAY_P99_TARGET_MS, LOOP_DELAY_RESOLUTION_MS, loopDelayMonitor } from '../loopDelay';
import { type Benchmark } from './harness';
import { createSyntheticFeed, discardDatabase } from './fixtures';

const DELTAS = 200_000;
const MARKETS = 10;

/** A snapshot per market, then `n` deltas on one sid, a few ms of exchange time apart. */
function frames(n: number, rng: Rng): string[] {
  const feed = createSyntheticFeed(MARKETS, rng, 0);
  const [orderbookAck, , ...snapshots] = feed.start(); // the order-book subscription only
  const out = [orderbookAck!, ...snapshots];
  let tsMs = 1_782_000_000_000;
  for (let i = 0; i < n; i++) out.push(feed.next((tsMs += rng.int(3))));
  return out;
}

interface WriteState {
  db: IngestDatabase;
  run: number;
  dispose(): Promise<void>;
}

/**
 * Enqueue → committed throughput: a producer enqueues `DELTAS` delta rows in bursts (yielding to the
 * event loop between bursts, so the writer runs concurrently), then the queue is closed; the figure is
 * rows per second from the first enqueue to the last commit. Throws unless every row is stored.
 */
async function deltasPerSec(state: WriteState, batchSize: number): Promise<number> {
  const { db } = state;
  await db.exec('TRUNCATE orderbook_deltas');
  const session = `bench-${++state.run}`;
  const queue = new OrderbookWriteQueue({ db, batchSize, flushIntervalMs: 20, maxPendingRows: 10 * DELTAS });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < DELTAS; i++) {
    queue.enqueueDelta(
      { sessionId: session, frameNo: i, market: `BENCH-M${i % MARKETS}`, recvMs: 1_782_000_000_000 + i, tsMs: 1_782_000_000_000 + i, conn: 1, sid: 1, seq: i },
      i % 2 ? 'yes' : 'no',
      2000 + (i % 40) * 100,
      (i % 11) - 5 || 7,
    );
    if (i % 5000 === 4999) await new Promise((resolve) => setImmediate(resolve));
  }
  const metrics = await queue.close();
  const secondsTaken = Number(process.hrtime.bigint() - t0) / 1e9;
  const { rows } = await db.query('SELECT count(*) AS n FROM orderbook_deltas');
  const stored = Number((rows[0] as { n: unknown }).n);
  if (metrics.dropped !== 0 || metrics.written !== DELTAS || stored !== DELTAS) {
    throw new Error(`lost rows: written ${metrics.written}, stored ${stored}, dropped ${metrics.dropped} of ${DELTAS}`);
  }
  return DELTAS / secondsTaken;
}

const needsPostgres = () => (process.env.DATABASE_URL ? undefined : 'DATABASE_URL is not set: no PostgreSQL server to write to');

/** PostgreSQL in a schema of its own, dropped by `dispose`. */
async function benchPostgres(schema: string): Promise<{ db: IngestDatabase; dispose(): Promise<void> }> {
  const db = await connectPostgres({ url: process.env.DATABASE_URL!, schema });
  await migrate(db);
  return {
    db,
    async dispose() {
      await db.exec(`DROP SCHEMA "${schema}" CASCADE`);
      await db.close();
    },
  };
}

/** Wall time of a max-speed collection, and the simulated markets it follows. */
const COLLECT_WALL_MS = 12_000;
const COLLECT_MARKETS = 8;

/**
 * The simulator's exchange at speed 'max' in a child process, as Kalshi is another machine: its event
 * generation never runs on the collector's event loop. Sends its URL, markets and credentials over the IPC
 * channel; exits when the channel closes (the bench ended, or died).
 */
const EXCHANGE_SCRIPT = `
import { resolveSimConfig, startLocalExchange } from '@kflow/sim';
const [markets, seed] = process.argv.slice(1).map(Number);
const config = resolveSimConfig('informed', { seed, markets, durationMs: 24 * 3_600_000 });
const { server, credentials } = await startLocalExchange({ config, speed: 'max' });
process.send({ url: server.url, markets: server.markets.map((m) => m.ticker), credentials });
process.on('disconnect', () => process.exit(0));
`;

interface ChildExchange {
  readonly url: string;
  readonly markets: readonly string[];
  readonly credentials: LocalExchangeCredentials;
  close(): void;
}

/** Starts {@link EXCHANGE_SCRIPT} with this process's Node flags (the TypeScript loader when run from the repository). */
async function startChildExchange(markets: number, seed: number): Promise<ChildExchange> {
  const child = spawn(process.execPath, [...process.execArgv, '--input-type=module', '-e', EXCHANGE_SCRIPT, String(markets), String(seed)], {
    cwd: import.meta.dirname,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const info = await new Promise<Omit<ChildExchange, 'close'>>((resolve, reject) => {
      child.once('message', (m) => resolve(m as Omit<ChildExchange, 'close'>));
      child.once('exit', (code) => reject(new Error(`the exchange process exited with code ${code} before it listened`)));
    });
    return { ...info, close: () => child.disconnect() };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

type CollectEngine = 'pglite' | 'postgres';

/** What one max-speed collection measured. */
interface Collection {
  /** Event-loop delay percentiles while collecting, ms. */
  readonly delayP99Ms: number;
  readonly delayMaxMs: number;
  readonly framesPerSec: number;
  /** Rows enqueued but not in the database after `stop()` (0 when nothing was lost). */
  readonly rowsLost: number;
}

/**
 * A real collector (socket, books, write queue) on the child exchange at speed 'max', into `engine`, for
 * `COLLECT_WALL_MS`; the event-loop delay (`loopDelayMonitor`) is sampled from the
 * subscription to the stop, on this process's loop: the one the socket handler runs on.
 */
async function collect(engine: CollectEngine): Promise<Collection> {
  const storage =
    engine === 'postgres'
      ? await benchPostgres(`kflow_bench_collect_${process.pid}`)
      : await (async () => {
          // A directory, as `kflow collect` uses: its spill file takes what the database falls behind on.
          const dataDir = await mkdtemp(join(tmpdir(), 'kflow-bench-collect-'));
          const db = await openPglite({ dataDir });
          await migrate(db);
          return { db, dispose: () => db.close().finally(() => rm(dataDir, { recursive: true, force: true })) };
        })();
  try {
    const exchange = await startChildExchange(COLLECT_MARKETS, 11);
    try {
      const sessionId = `bench-collect-${engine}`;
      const collector = createCollector({
        url: exchange.url,
        signer: await createKalshiSigner(exchange.credentials),
        markets: exchange.markets,
        db: storage.db,
        sessionId,
        rng: createRng(3),
      });
      const delay = loopDelayMonitor();
      await collector.start();
      const frames0 = collector.status().counts.frames;
      const t0 = performance.now();
      delay.enable();
      await new Promise((resolve) => setTimeout(resolve, COLLECT_WALL_MS));
      delay.disable();
      const framesPerSec = ((collector.status().counts.frames - frames0) * 1000) / (performance.now() - t0);
      const final = await collector.stop();
      let stored = 0;
      for (const table of [SNAPSHOT_TABLE, DELTA_TABLE, TRADE_TABLE, LIFECYCLE_TABLE]) {
        const { rows } = await storage.db.query(`SELECT count(*) AS n FROM ${table.name} WHERE session_id = $1`, [sessionId]);
        stored += Number((rows[0] as { n: unknown }).n);
      }
      return { delayP99Ms: delay.percentile(99) / 1e6, delayMaxMs: delay.max / 1e6, framesPerSec, rowsLost: (final.queue?.enqueued ?? 0) - stored };
    } finally {
      exchange.close();
    }
  } finally {
    await storage.dispose();
  }
}

/** One collection per engine per bench process, shared by the figures read from it. */
const collections = new Map<CollectEngine, Promise<Collection>>();
function collection(engine: CollectEngine): Promise<Collection> {
  let c = collections.get(engine);
  if (c === undefined) collections.set(engine, (c = collect(engine)));
  return c;
}

/** The figures of a max-speed collection into `engine`: one collection (no warm-up), four figures. */
function collectionBenchmarks(engine: CollectEngine): Benchmark[] {
  const what = `a collector on the simulator's exchange (another process, speed 'max', ${COLLECT_MARKETS} markets) into ${engine === 'pglite' ? 'PGlite in a new directory' : 'PostgreSQL via COPY'} for ${COLLECT_WALL_MS / 1000} s`;
  const once = { warmupRuns: 0, runs: 1, ...(engine === 'postgres' ? { skip: needsPostgres } : {}) };
  return [
    {
      name: `ingest.eventLoopDelay.${engine}.p99Ms`,
      description: `99th percentile of the collector process's event-loop delay, ms, while ${what} (monitorEventLoopDelay at ${LOOP_DELAY_RESOLUTION_MS} ms resolution records the time between its timer callbacks, so an idle loop reads ~${LOOP_DELAY_RESOLUTION_MS})`,
      better: 'lower',
      target: LOOP_DELAY_P99_TARGET_MS,
      ...once,
      run: async () => (await collection(engine)).delayP99Ms,
    },
    {
      name: `ingest.eventLoopDelay.${engine}.maxMs`,
      description: `Longest event-loop delay of the collector process, ms, in the collection of ingest.eventLoopDelay.${engine}.p99Ms`,
      better: 'lower',
      ...once,
      run: async () => (await collection(engine)).delayMaxMs,
    },
    {
      name: `ingest.collect.${engine}.framesPerSec`,
      description: `Frames per second the collector received in the collection of ingest.eventLoopDelay.${engine}.p99Ms`,
      better: 'higher',
      ...once,
      run: async () => (await collection(engine)).framesPerSec,
    },
    {
      name: `ingest.collect.${engine}.rowsLost`,
      description: `Rows enqueued minus rows stored after stop() in the collection of ingest.eventLoopDelay.${engine}.p99Ms (sanity: 0)`,
      better: 'lower',
      target: 0,
      ...once,
      run: async () => (await collection(engine)).rowsLost,
    },
  ];
}

export const ingestBenchmarks: Benchmark[] = [
  {
    name: 'ingest.handler.p99Micros',
    description: '99th percentile of one WebSocket message: parse, sequence check, book update, sink, row enqueued',
    better: 'lower',
    target: 50,
    setup: () => ({ lines: frames(100_000, createRng(5)) }),
    async run(state) {
      const { lines } = state as { lines: string[] };
      // The collector's own socket handler and sink (books, row building, enqueue), minus the socket.
      const collector = createCollector({
        url: 'ws://127.0.0.1:1/trade-api/ws/v2',
        markets: [],
        db: discardDatabase,
        queue: { maxPendingRows: 10_000_000 },
        sessionId: 'bench',
        rng: createRng(1),
      });
      const client = collector.client;
      const micros = new Float64Array(lines.length);
      for (let i = 0; i < lines.length; i++) {
        const t0 = process.hrtime.bigint();
        client.handleMessage(lines[i]!, 1_782_000_000_000 + i);
        micros[i] = Number(process.hrtime.bigint() - t0) / 1000;
      }
      const enqueued = collector.status().queue?.enqueued ?? 0;
      if (enqueued !== lines.length - 1) throw new Error(`enqueued ${enqueued} of ${lines.length - 1}`);
      await collector.stop();
      micros.sort();
      return micros[Math.floor(0.99 * (micros.length - 1))]!;
    },
  },
  {
    name: 'ingest.pglite.deltasPerSec',
    description: `Delta rows per second, enqueue to committed, into embedded PGlite (${DELTAS.toLocaleString('en-US')} rows per run, 0 dropped)`,
    better: 'higher',
    target: 30_000,
    warmupRuns: 1,
    runs: 3,
    async setup(): Promise<WriteState> {
      const db = await openPglite();
      await migrate(db);
      return { db, run: 0, dispose: () => db.close() };
    },
    run: (state) => deltasPerSec(state as WriteState, 10_000),
    teardown: (state) => (state as WriteState).dispose(),
  },
  {
    name: 'ingest.pg.deltasPerSec',
    description: `Delta rows per second, enqueue to committed, into PostgreSQL via COPY (${DELTAS.toLocaleString('en-US')} rows per run, 0 dropped)`,
    better: 'higher',
    target: 100_000,
    warmupRuns: 1,
    runs: 5,
    skip: needsPostgres,
    setup: async (): Promise<WriteState> => ({ ...(await benchPostgres(`kflow_bench_${process.pid}`)), run: 0 }),
    run: (state) => deltasPerSec(state as WriteState, 20_000),
    teardown: (state) => (state as WriteState).dispose(),
  },
  ...collectionBenchmarks('pglite'),
  ...collectionBenchmarks('postgres'),
];
