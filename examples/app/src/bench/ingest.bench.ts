import { createRng, type Rng } from '@kflow/orderbook';
import { OrderbookWriteQueue, createCollector, migrate, openPglite, type IngestDatabase } from '@kflow/ingest';
import { connectPostgres } from '@kflow/ingest/pg';
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
    skip: () => (process.env.DATABASE_URL ? undefined : 'DATABASE_URL is not set: no PostgreSQL server to write to'),
    async setup(): Promise<WriteState> {
      const schema = `kflow_bench_${process.pid}`;
      const db = await connectPostgres({ url: process.env.DATABASE_URL!, schema });
      await migrate(db);
      return {
        db,
        run: 0,
        async dispose() {
          await db.exec(`DROP SCHEMA "${schema}" CASCADE`);
          await db.close();
        },
      };
    },
    run: (state) => deltasPerSec(state as WriteState, 20_000),
    teardown: (state) => (state as WriteState).dispose(),
  },
];
