import { execFile, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionWriteQueue } from './actionWriteQueue';
import { startEpisode } from './episodes';
import { OrderbookWriteQueue, type FrameMeta } from './orderbookWriteQueue';
import { connectPostgres } from './pg';
import { selectRows, toInt, type IngestDatabase } from './queryable';
import { DATABASE_URL, describeEachBackend, openTestPostgres, type TestDatabase, useTempDir, waitFor } from './databases.testing';

/** Wraps a database so a test can take it down (failing fast, or hanging like a dead connection) and bring it back. */
function flaky(db: IngestDatabase): IngestDatabase & { down: boolean; hang: boolean; failures: number } {
  const wrapper = {
    ...db,
    down: false,
    hang: false,
    failures: 0,
    insertRows: async (...args: Parameters<IngestDatabase['insertRows']>) => {
      if (wrapper.hang) return new Promise<void>(() => {});
      if (wrapper.down) {
        wrapper.failures++;
        throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
      }
      return db.insertRows(...args);
    },
  };
  return wrapper;
}

const meta = (sessionId: string, frameNo: number): FrameMeta => ({
  sessionId,
  frameNo,
  market: `MKT-${frameNo % 3}`,
  recvMs: 1_780_000_000_000 + frameNo,
  tsMs: 1_780_000_000_000 + frameNo - 5,
  conn: 1,
  sid: 1,
  seq: frameNo,
});

async function stored(db: IngestDatabase, sessionId: string): Promise<{ n: number; distinct: number; sum: number }> {
  const rows = await selectRows<{ n: unknown; d: unknown; s: unknown }>(
    db,
    'SELECT count(*) AS n, count(DISTINCT frame_no) AS d, COALESCE(sum(delta_centi), 0) AS s FROM orderbook_deltas WHERE session_id = $1',
    [sessionId],
  );
  return { n: toInt(rows[0]!.n), distinct: toInt(rows[0]!.d), sum: toInt(rows[0]!.s) };
}

const deltaOf = (i: number) => (i % 7) - 3 || 5;
const sumOf = (n: number) => Array.from({ length: n }, (_, i) => deltaOf(i)).reduce((a, b) => a + b, 0);

describeEachBackend('write queues', 'wq', (t) => {
  const { name } = t;
  const dir = useTempDir('kflow-wq-');

  it('writes every row once, in batches by size and by interval', async () => {
    const q = new OrderbookWriteQueue({ db: t.db, batchSize: 1000, flushIntervalMs: 20 });
    const session = `batch-${name}`;
    for (let i = 0; i < 2500; i++) q.enqueueDelta(meta(session, i), i % 2 ? 'yes' : 'no', 1000 + (i % 50) * 100, deltaOf(i));
    // 2 full batches go by size; the remaining 500 only by the interval timer.
    await waitFor(async () => (await stored(t.db, session)).n === 2500, 'interval flush');
    expect(await stored(t.db, session)).toEqual({ n: 2500, distinct: 2500, sum: sumOf(2500) });
    const m = await q.close();
    expect(m).toMatchObject({ enqueued: 2500, written: 2500, dropped: 0, spilled: 0, pending: 0 });
  });

  it('a retry writes only the tables of the batch that were not stored yet', async () => {
    const session = `tables-${name}`;
    const writes: string[] = [];
    let failTrades = 1;
    const db: IngestDatabase = {
      ...t.db,
      insertRows: async (spec, rows, mayConflict) => {
        writes.push(spec.name);
        if (spec.name === 'trades' && failTrades-- > 0) throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
        return t.db.insertRows(spec, rows, mayConflict);
      },
    };
    const q = new OrderbookWriteQueue({ db, batchSize: 1000, flushIntervalMs: 5, retryDelayMs: 5 });
    for (let i = 0; i < 10; i++) q.enqueueDelta(meta(session, i), 'yes', 1000, deltaOf(i));
    q.enqueueTrade(meta(session, 10), 't1', 1000, 100, 'yes');
    const m = await q.close();
    expect(writes).toEqual(['orderbook_deltas', 'trades', 'trades']);
    expect(m).toMatchObject({ enqueued: 11, written: 11, retried: 1, pending: 0 });
    expect(await stored(t.db, session)).toEqual({ n: 10, distinct: 10, sum: sumOf(10) });
  });

  it('survives an outage: retries, spills past the memory bound, replays, never duplicates', async () => {
    const db = flaky(t.db);
    const spillPath = join(dir(), `outage-${name}.jsonl`);
    const q = new OrderbookWriteQueue({ db, batchSize: 200, flushIntervalMs: 5, maxPendingRows: 500, spillPath, retryDelayMs: 5, maxRetryDelayMs: 20 });
    const session = `outage-${name}`;
    const N = 6000;
    for (let i = 0; i < N; i++) {
      if (i === 1000) db.down = true;
      if (i === 5000) db.down = false;
      q.enqueueDelta(meta(session, i), 'yes', 5000, deltaOf(i));
      // Let the pump run between bursts so batches fail, retry and spill while rows keep coming.
      if (i % 250 === 0) await new Promise((resolve) => setTimeout(resolve, 3));
    }
    await q.flush();
    const m = q.metrics;
    expect(db.failures).toBeGreaterThan(0);
    expect(m.retried).toBeGreaterThan(0);
    expect(m.spilled).toBeGreaterThan(0);
    expect(m.replayed).toBe(m.spilled);
    expect(m).toMatchObject({ enqueued: N, written: N, dropped: 0, pending: 0 });
    expect(await stored(t.db, session)).toEqual({ n: N, distinct: N, sum: sumOf(N) });
    await q.close();
  });

  it('close() with a full queue flushes every row', async () => {
    const q = new OrderbookWriteQueue({ db: t.db, batchSize: 100_000, flushIntervalMs: 60_000 });
    const session = `close-${name}`;
    for (let i = 0; i < 30_000; i++) q.enqueueDelta(meta(session, i), 'no', 100 + (i % 9900), deltaOf(i));
    expect(q.metrics.pending).toBe(30_000);
    const m = await q.close();
    expect(m).toMatchObject({ written: 30_000, pending: 0, dropped: 0 });
    expect(await stored(t.db, session)).toEqual({ n: 30_000, distinct: 30_000, sum: sumOf(30_000) });
    expect(() => q.enqueueDelta(meta(session, 1), 'no', 100, 1)).toThrow(/after close/);
  });

  it('a close() during an outage spills the rest; the next queue on that file replays it', async () => {
    const db = flaky(t.db);
    db.down = true;
    const spillPath = join(dir(), `restart-${name}.jsonl`);
    const session = `restart-${name}`;
    const q1 = new OrderbookWriteQueue({ db, batchSize: 100, flushIntervalMs: 5, spillPath, retryDelayMs: 5, maxRetryDelayMs: 10, closeTimeoutMs: 100 });
    for (let i = 0; i < 1000; i++) q1.enqueueDelta(meta(session, i), 'yes', 4200, deltaOf(i));
    const m1 = await q1.close();
    expect(m1).toMatchObject({ written: 0, dropped: 0, pending: 0, spilled: 1000 });
    expect((await readFile(spillPath, 'utf8')).length).toBeGreaterThan(0);
    const q2 = new OrderbookWriteQueue({ db: t.db, spillPath });
    await q2.flush();
    expect(q2.metrics).toMatchObject({ replayed: 1000, written: 1000 });
    expect(await stored(t.db, session)).toEqual({ n: 1000, distinct: 1000, sum: sumOf(1000) });
    await q2.close();
  });

  it('a close() while a write hangs spills that batch too; the replay stores every row once', async () => {
    const db = flaky(t.db);
    const spillPath = join(dir(), `hung-${name}.jsonl`);
    const session = `hung-${name}`;
    const q1 = new OrderbookWriteQueue({ db, batchSize: 100, flushIntervalMs: 5, spillPath, closeTimeoutMs: 100 });
    for (let i = 0; i < 300; i++) q1.enqueueDelta(meta(session, i), 'yes', 4200, deltaOf(i));
    await q1.flush(); // the first batches are written normally
    db.hang = true;
    for (let i = 300; i < 1000; i++) q1.enqueueDelta(meta(session, i), 'yes', 4200, deltaOf(i));
    await waitFor(() => q1.metrics.lagMs > 0 || q1.metrics.pending > 0, 'a hung write');
    const m1 = await q1.close();
    expect(m1).toMatchObject({ written: 300, spilled: 700, dropped: 0, pending: 0 });
    const q2 = new OrderbookWriteQueue({ db: t.db, spillPath });
    await q2.flush();
    expect(q2.metrics).toMatchObject({ replayed: 700, written: 700 });
    expect(await stored(t.db, session)).toEqual({ n: 1000, distinct: 1000, sum: sumOf(1000) });
    await q2.close();
  });

  it('a row the database refuses is isolated and rejected; the rest of its batch is written', async () => {
    const spillPath = join(dir(), `poison-${name}.jsonl`);
    const q = new OrderbookWriteQueue({ db: t.db, batchSize: 1000, spillPath });
    const session = `poison-${name}`;
    for (let i = 0; i < 1000; i++) q.enqueueDelta(meta(session, i), i === 613 ? ('maybe' as 'yes') : 'yes', 100, deltaOf(i));
    const m = await q.close();
    expect(m).toMatchObject({ enqueued: 1000, written: 999, rejected: 1, dropped: 0, pending: 0 });
    expect(m.lastError).toMatch(/23514/);
    expect(await stored(t.db, session)).toEqual({ n: 999, distinct: 999, sum: sumOf(1000) - deltaOf(613) });
    const rejected = JSON.parse(await readFile(`${spillPath}.rejected`, 'utf8')) as { table: string; row: unknown[] };
    expect(rejected.table).toBe('orderbook_deltas');
    expect(rejected.row.slice(0, 3)).toEqual([session, 613, 'MKT-1']);
    expect(rejected.row[8]).toBe('maybe');
  });

  it('spills batches held past maxMemoryAgeMs while the database is slow (a copy of the one being written); each row is stored and counted once', async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let slow = true;
    const db: IngestDatabase = {
      ...t.db,
      insertRows: async (...args) => {
        if (slow) await gate;
        return t.db.insertRows(...args);
      },
    };
    const spillPath = join(dir(), `slow-${name}.jsonl`);
    const q = new OrderbookWriteQueue({ db, batchSize: 50, flushIntervalMs: 20, maxMemoryAgeMs: 100, spillPath });
    const session = `slow-${name}`;
    for (let i = 0; i < 1000; i++) {
      q.enqueueDelta(meta(session, i), 'yes', 100, deltaOf(i));
      if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Only rows younger than the bound may be held in memory.
    await waitFor(() => q.metrics.spilled === 1000, 'every row spilled (the hung batch as a copy)');
    expect(q.metrics).toMatchObject({ pending: 0, written: 0 });
    slow = false;
    release();
    await q.flush();
    expect(q.metrics).toMatchObject({ enqueued: 1000, written: 1000, spilled: 1000, replayed: 1000, dropped: 0, pending: 0 });
    expect(await stored(t.db, session)).toEqual({ n: 1000, distinct: 1000, sum: sumOf(1000) });
    await q.close();
  });

  it('keeps one delta in N when sampling, counting the rest', async () => {
    const q = new OrderbookWriteQueue({ db: t.db, deltaSampleEvery: 4 });
    const session = `sample-${name}`;
    for (let i = 0; i < 100; i++) q.enqueueDelta(meta(session, i), 'yes', 100, 1);
    const m = await q.close();
    expect(m).toMatchObject({ enqueued: 25, written: 25, sampledOut: 75 });
    expect((await stored(t.db, session)).n).toBe(25);
  });

  it('ActionWriteQueue stores actions idempotently per (episode, step)', async () => {
    const episodeId = await startEpisode(t.db, { market: 'MKT-A', mode: 'paper', startedMs: 1 });
    const q = new ActionWriteQueue({ db: t.db, batchSize: 10 });
    for (let step = 0; step < 25; step++) {
      q.enqueue({ episodeId, step, tsMs: 1000 + step, market: 'MKT-A', action: step % 5, executed: step % 2 === 0, reward: step / 10, details: { step }, observationHash: `h${step}` });
    }
    await q.flush();
    // A replay of the same actions (e.g. after a crash) adds nothing.
    for (let step = 0; step < 25; step++) q.enqueue({ episodeId, step, tsMs: 1000 + step, market: 'MKT-A', action: 0, executed: false });
    await q.close();
    const rows = await selectRows<{ step: unknown; action: unknown; reward: unknown; details: unknown; executed: boolean }>(
      t.db,
      'SELECT step, action, reward, details, executed FROM trading_actions WHERE episode_id = $1 ORDER BY step',
      [episodeId],
    );
    expect(rows.length).toBe(25);
    expect(rows[7]).toEqual({ step: 7, action: 2, reward: 0.7, details: { step: 7 }, executed: false });
    await expect(startEpisode(t.db, { market: 'M', mode: 'live' as 'paper', startedMs: 1 })).rejects.toMatchObject({ code: 'LIVE_MODE_FORBIDDEN' });
  });
});

describe.skipIf(DATABASE_URL === undefined)('a PostgreSQL outage mid-stream (backends terminated)', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestPostgres('outage');
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('loses nothing once the server is reachable again', async () => {
    const app = `kflow-test-${process.pid}-${process.hrtime.bigint()}`;
    const errors: Error[] = [];
    const db = await connectPostgres({ url: DATABASE_URL!, schema: t.schema, applicationName: app, onError: (e) => errors.push(e) });
    const admin = t.db;
    const q = new OrderbookWriteQueue({ db, batchSize: 500, flushIntervalMs: 5, retryDelayMs: 5, maxRetryDelayMs: 50 });
    const session = 'terminated';
    const N = 40_000;
    let killed = 0;
    for (let i = 0; i < N; i++) {
      q.enqueueDelta(meta(session, i), 'yes', 3300, deltaOf(i));
      if (i % 2000 === 1999) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        // Cut every connection of the queue's pool, mid-COPY or idle.
        const rows = await selectRows<{ ok: boolean }>(
          admin,
          'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
          [app],
        );
        killed += rows.length;
      }
    }
    const m = await q.close();
    await db.close();
    expect(killed).toBeGreaterThan(0);
    expect(m.retried).toBeGreaterThan(0);
    expect(m).toMatchObject({ enqueued: N, written: N, dropped: 0, pending: 0 });
    expect(await stored(admin, session)).toEqual({ n: N, distinct: N, sum: sumOf(N) });
  });
});

describe.skipIf(DATABASE_URL === undefined)('a process killed (SIGKILL) while PostgreSQL is slow', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestPostgres('sigkill');
  });
  afterAll(async () => {
    await t?.dispose();
  });
  const dir = useTempDir('kflow-sigkill-');

  it('loses at most the rows of the last 1.5 s: older ones are stored or in the spill file', { timeout: 30_000 }, async () => {
    const spillPath = join(dir(), 'killed.jsonl');
    const script = join(dir(), 'killed.mts');
    const module = (file: string) => JSON.stringify(fileURLToPath(new URL(file, import.meta.url)));
    // 1,000 rows/s with the default tuning; after 1 s every write takes a minute (a database that stalls).
    await writeFile(
      script,
      `import { OrderbookWriteQueue } from ${module('./orderbookWriteQueue.ts')};
import { connectPostgres } from ${module('./pg.ts')};
const db = await connectPostgres({ url: ${JSON.stringify(DATABASE_URL)}, schema: ${JSON.stringify(t.schema)} });
let slow = false;
const stalled = { ...db, insertRows: async (...args) => { if (slow) await new Promise((r) => setTimeout(r, 60_000)); return db.insertRows(...args); } };
const q = new OrderbookWriteQueue({ db: stalled, spillPath: ${JSON.stringify(spillPath)} });
let i = 0;
setInterval(() => { for (let k = 0; k < 5; k++, i++) q.enqueueDelta({ sessionId: 'killed', frameNo: i, market: 'M', recvMs: Date.now(), tsMs: null, conn: 1, sid: 1, seq: i }, 'yes', 100, 1); }, 5);
setTimeout(() => { slow = true; console.log('slow', Date.now()); }, 1000);
`,
    );
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const child = spawn(process.execPath, ['--conditions=@kflow/source', '--import', 'tsx', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    await waitFor(() => out.includes('\n'), 'the database to stall', 20_000);
    const stalledAt = Number(out.split(' ')[1]);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const killedAt = Date.now();
    child.kill('SIGKILL');
    await exited;

    const q = new OrderbookWriteQueue({ db: t.db, spillPath });
    await q.flush();
    await q.close();
    expect(q.metrics.replayed).toBeGreaterThan(0);
    const rows = await selectRows<{ frame_no: unknown; recv_ms: unknown }>(t.db, "SELECT frame_no, recv_ms FROM orderbook_deltas WHERE session_id = 'killed' ORDER BY frame_no");
    const frames = rows.map((r) => [toInt(r.frame_no), toInt(r.recv_ms)] as const);
    // Rows are numbered from 0 in the order they were enqueued: the first missing one and all after it
    // were lost; the one before it must have been enqueued within the bound of the kill.
    const firstMissing = frames.findIndex(([frameNo], i) => frameNo !== i);
    const lastKept = frames[(firstMissing === -1 ? frames.length : firstMissing) - 1]!;
    expect(lastKept[1]).toBeGreaterThan(stalledAt + 500); // rows from the stall were kept: the spill file's
    expect(killedAt - lastKept[1]).toBeLessThanOrEqual(1500);
  });
});

describe('a process that closes its queue during an outage', () => {
  const dir = useTempDir('kflow-exit-');
  const outages = {
    // Nothing but unref'd retry timers is pending while close() waits: Node would exit mid-close.
    refused: `async () => { throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }); }`,
    // A write on a dead connection never settles: close() must still end, and let the process end.
    hung: `() => new Promise(() => {})`,
  };

  it.each(Object.entries(outages))('spills every row and exits (database %s)', { timeout: 30_000 }, async (kind, insertRows) => {
    const spillPath = join(dir(), `${kind}.jsonl`);
    const script = join(dir(), `${kind}.mts`);
    const queueModule = fileURLToPath(new URL('./orderbookWriteQueue.ts', import.meta.url));
    await writeFile(
      script,
      `import { OrderbookWriteQueue } from ${JSON.stringify(queueModule)};
const down = { kind: 'custom', query: async () => ({ rows: [] }), exec: async () => {}, close: async () => {}, insertRows: ${insertRows} };
const q = new OrderbookWriteQueue({ db: down, batchSize: 30, spillPath: ${JSON.stringify(spillPath)}, closeTimeoutMs: 300, retryDelayMs: 20 });
for (let i = 0; i < 100; i++) q.enqueueDelta({ sessionId: 's', frameNo: i, market: 'M', recvMs: 1, tsMs: 1, conn: 1, sid: 1, seq: i }, 'yes', 100, 1);
const m = await q.close();
console.log(JSON.stringify(m));
`,
    );
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=@kflow/source', '--import', 'tsx', script], { cwd: root, timeout: 20_000 });
    expect(JSON.parse(stdout)).toMatchObject({ enqueued: 100, spilled: 100, dropped: 0, pending: 0 });
    const rows = (await readFile(spillPath, 'utf8')).trim().split('\n').flatMap((line) => (JSON.parse(line) as { rows: unknown[] }).rows);
    expect(rows).toHaveLength(100);
  });
});
