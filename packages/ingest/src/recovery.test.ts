import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRng } from '@kflow/orderbook';
import { expect, it } from 'vitest';
import { createKalshiSigner } from './auth';
import { createCollector, type Collector } from './collector';
import { OrderbookWriteQueue } from './orderbookWriteQueue';
import { selectRows, toInt, type IngestDatabase } from './queryable';
import { recoverSessions } from './recovery';
import { createSessionLoader } from './sessionLoader';
import { createSessionRecord, updateSessionRecord } from './sessionStore';
import { describeEachBackend, useTempDir, waitFor } from './databases.testing';
import { startLoopbackServer } from './loopbackKalshiServer.testing';

// PostgreSQL spill directories live under the kflow home: keep this suite's out of the user's.
process.env.KFLOW_HOME = join(tmpdir(), `kflow-home-recovery-${process.pid}`);

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const MARKETS = ['TEST-ALPHA', 'TEST-BETA'];

/** A database that can go down (every statement and write refused, as by a server that stopped) or hang, with its own spill directory. */
function outage(db: IngestDatabase, spillDir: string): IngestDatabase & { down: boolean; hang: boolean } {
  const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  const wrapper = {
    ...db,
    spillDir,
    down: false,
    hang: false,
    query: async (text: string, params?: unknown[]) => {
      if (wrapper.down) throw refused();
      return db.query(text, params);
    },
    insertRows: async (...args: Parameters<IngestDatabase['insertRows']>) => {
      if (wrapper.hang) return new Promise<void>(() => {});
      if (wrapper.down) throw refused();
      return db.insertRows(...args);
    },
  };
  return wrapper;
}

/** A process id that was just in use and is not any more. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

async function sessionRow(db: IngestDatabase, id: string) {
  const [row] = await selectRows<{ status: string; spill_path: string | null; deltas: unknown; host: string; pid: unknown }>(
    db,
    'SELECT status, spill_path, deltas, host, pid FROM sessions WHERE id = $1',
    [id],
  );
  return row!;
}

async function storedRows(db: IngestDatabase, id: string): Promise<number> {
  let n = 0;
  for (const table of ['orderbook_snapshots', 'orderbook_deltas', 'trades', 'market_lifecycle']) {
    const [row] = await selectRows<{ n: unknown }>(db, `SELECT count(*) AS n FROM ${table} WHERE session_id = $1`, [id]);
    n += toInt(row!.n);
  }
  return n;
}

describeEachBackend('session owners and recovery', 'recovery', (t) => {
  const { name } = t;
  const dir = useTempDir('kflow-recovery-');

  it('the listing marks a session whose collector is gone interrupted, with where its data ends; it loads up to there', async () => {
    const now = 1_780_000_000_000;
    const ids = { dead: `dead-${name}`, live: `live-${name}`, away: `away-${name}`, stale: `stale-${name}` };
    await createSessionRecord(t.db, { id: ids.dead, startedMs: now, environment: 'sim', wsUrl: 'ws://x', markets: ['M'], owner: { host: hostname(), pid: deadPid() } });
    await createSessionRecord(t.db, { id: ids.live, startedMs: now + 1, environment: 'sim', wsUrl: 'ws://x', markets: ['M'], owner: { host: hostname(), pid: process.pid } });
    await createSessionRecord(t.db, { id: ids.away, startedMs: now + 2, environment: 'sim', wsUrl: 'ws://x', markets: ['M'], owner: { host: 'elsewhere', pid: 1 } });
    await createSessionRecord(t.db, { id: ids.stale, startedMs: now + 3, environment: 'sim', wsUrl: 'ws://x', markets: ['M'], owner: { host: 'elsewhere', pid: 1 } });
    // Another machine's collector that has not been heard from for 11 minutes.
    await t.db.query('UPDATE sessions SET heartbeat_ms = heartbeat_ms - 660000 WHERE id = $1', [ids.stale]);
    const q = new OrderbookWriteQueue({ db: t.db });
    const meta = (frameNo: number) => ({ sessionId: ids.dead, frameNo, market: 'M', recvMs: now + 1000 * frameNo, tsMs: null, conn: 1, sid: 1, seq: frameNo });
    q.enqueueSnapshot(meta(0), [[4000, 500]], [[5000, 300]]);
    for (let i = 1; i < 10; i++) q.enqueueDelta(meta(i), 'yes', 4000, 100);
    await q.close();

    const loader = createSessionLoader({ db: t.db });
    const byId = new Map((await loader.list()).map((s) => [s.id, s]));
    expect(byId.get(ids.dead)).toMatchObject({ status: 'interrupted', lastFrame: { frameNo: 9, recvMs: now + 9000 }, endedMs: now + 9000 });
    expect(byId.get(ids.live)).toMatchObject({ status: 'recording', lastFrame: null });
    expect(byId.get(ids.away)).toMatchObject({ status: 'recording' });
    expect(byId.get(ids.stale)).toMatchObject({ status: 'interrupted', lastFrame: null });
    // The snapshot is the initial book; the nine deltas after it are the events, up to the last one stored.
    const [market] = (await loader.load(ids.dead)).markets;
    expect(market!.length).toBe(9);
    expect(market!.tsMs[8]).toBe(now + 9000);

    // A collector that was only cut off comes back: its next heartbeat takes the session back.
    await updateSessionRecord(t.db, ids.stale, { heartbeat: true });
    expect((await loader.list()).find((s) => s.id === ids.stale)).toMatchObject({ status: 'recording', endedMs: null, lastFrame: null });
  });

  async function collecting(db: IngestDatabase, sessionId: string): Promise<{ collector: Collector; more(): void; close(): Promise<void> }> {
    const server = await startLoopbackServer({ publicKey, markets: MARKETS, seed: 31 });
    const collector = createCollector({
      url: server.url,
      signer: await createKalshiSigner({ apiKeyId: 'k', privateKeyPem: PEM }),
      markets: MARKETS,
      db,
      sessionId,
      rng: createRng(5),
      queue: { flushIntervalMs: 10, batchSize: 100, retryDelayMs: 5, maxRetryDelayMs: 20, closeTimeoutMs: 300 },
    });
    await collector.start();
    server.step(300);
    await waitFor(() => (collector.status().queue?.written ?? 0) > 100, 'rows written');
    // more(): rows that arrive after the database failed, so a write is attempted whatever was written before.
    return { collector, more: () => server.step(300), close: () => server.close() };
  }

  it('a stop during an outage spills to the database\'s spill directory and defers the final record; the next collector stores both', async () => {
    const spillDir = join(dir(), `outage-${name}`);
    const db = outage(t.db, spillDir);
    const id = `outage-${name}`;
    const { collector, more, close } = await collecting(db, id);
    try {
      db.down = true;
      more();
      await waitFor(() => (collector.status().queue?.retried ?? 0) > 0, 'a refused write');
      const final = await collector.stop();
      expect(final.spillPath).toBe(join(spillDir, `${id}.jsonl`));
      expect(final.recordDeferred).toBe(true);
      expect(final.queue).toMatchObject({ dropped: 0, pending: 0 });
      expect(final.queue!.spilled).toBeGreaterThan(0);
      expect(existsSync(final.spillPath!)).toBe(true);
      // Known before the outage: where the rows went. The final record did not get through.
      expect(await sessionRow(t.db, id)).toMatchObject({ status: 'recording', spill_path: final.spillPath, host: hostname() });

      db.down = false;
      const next = createCollector({ url: 'ws://127.0.0.1:9/trade-api/ws/v2', markets: MARKETS, db: t.db, rng: createRng(6), connectTimeoutMs: 50 });
      await expect(next.start()).rejects.toMatchObject({ code: 'CONNECT_FAILED' });
      expect(next.recovered).toMatchObject({ spills: [{ sessionId: id, rows: final.queue!.spilled, complete: true }], finalized: [id] });
      expect(await sessionRow(t.db, id)).toMatchObject({ status: 'completed' });
      expect(toInt((await sessionRow(t.db, id)).deltas)).toBe(final.counts.deltas);
      expect(await storedRows(t.db, id)).toBe(final.queue!.enqueued);
      expect(readdirSync(spillDir)).toEqual([]);
    } finally {
      await close();
    }
  });

  it('abort() appends every queued row to the spill file at once, the batch being written too; recovery stores them all', async () => {
    const spillDir = join(dir(), `abort-${name}`);
    const db = outage(t.db, spillDir);
    const id = `abort-${name}`;
    const { collector, more, close } = await collecting(db, id);
    try {
      db.hang = true;
      more();
      await waitFor(() => (collector.status().queue?.pending ?? 0) > 0, 'rows waiting on a hung write');
      const final = collector.abort();
      expect(final.queue).toMatchObject({ pending: 0, dropped: 0 });
      expect(final.queue!.spilled).toBeGreaterThan(0);
      expect(final.recordDeferred).toBe(true);
      await collector.client.stop();

      const report = await recoverSessions({ db: t.db });
      expect(report).toMatchObject({ spills: [{ sessionId: id, complete: true }], finalized: [id] });
      expect(await sessionRow(t.db, id)).toMatchObject({ status: 'completed' });
      expect(await storedRows(t.db, id)).toBe(final.queue!.enqueued);
      expect(readdirSync(dirname(final.spillPath!))).toEqual([]);
    } finally {
      await close();
    }
  });
});
