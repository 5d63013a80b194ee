import { createRng, formatCount, formatPrice, type Rng } from '@kflow/orderbook';
import { OrderbookWriteQueue, createCollector, migrate, openPglite, type IngestDatabase } from '@kflow/ingest';
import { connectPostgres } from '@kflow/ingest/pg';
import { type Benchmark } from './harness';

const DELTAS = 200_000;
const MARKETS = 10;

/** Valid synthetic frames on one sid: a snapshot per market, then deltas near the touch that never go negative. */
function frames(n: number, rng: Rng): string[] {
  const out: string[] = ['{"id":1,"type":"subscribed","msg":{"channel":"orderbook_delta","sid":1}}'];
  let seq = 0;
  let tsMs = 1_782_000_000_000;
  const sizes: Map<number, number>[][] = [];
  for (let m = 0; m < MARKETS; m++) {
    const yes = new Map<number, number>();
    const no = new Map<number, number>();
    for (let c = 20; c < 40; c++) yes.set(c * 100, 100_000 + rng.int(1_000_000));
    for (let c = 40; c < 60; c++) no.set(c * 100, 100_000 + rng.int(1_000_000));
    sizes.push([yes, no]);
    const lv = (s: Map<number, number>) => JSON.stringify([...s].map(([p, q]) => [formatPrice(p), formatCount(q)]));
    out.push(`{"type":"orderbook_snapshot","sid":1,"seq":${++seq},"msg":{"market_ticker":"BENCH-M${m}","market_id":"m${m}","yes_dollars_fp":${lv(yes)},"no_dollars_fp":${lv(no)}}}`);
  }
  for (let i = 0; i < n; i++) {
    const m = rng.int(MARKETS);
    const side = rng.int(2);
    const price = (side === 0 ? 20 + rng.int(20) : 40 + rng.int(20)) * 100;
    const ladder = sizes[m]![side]!;
    const size = ladder.get(price) ?? 0;
    const delta = size > 1000 && rng.next() < 0.5 ? -(1 + rng.int(1000)) : 1 + rng.int(5000);
    ladder.set(price, size + delta);
    tsMs += rng.int(3);
    out.push(
      `{"type":"orderbook_delta","sid":1,"seq":${++seq},"msg":{"market_ticker":"BENCH-M${m}","market_id":"m${m}","price_dollars":"${formatPrice(price)}","delta_fp":"${formatCount(delta)}","side":"${side === 0 ? 'yes' : 'no'}","ts_ms":${tsMs}}}`,
    );
  }
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

/** A database that accepts every batch instantly: the handler benchmark measures the handler only. */
const discard: IngestDatabase = {
  kind: 'custom',
  query: async () => ({ rows: [] }),
  exec: async () => {},
  insertRows: async () => {},
  close: async () => {},
};

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
        db: discard,
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
