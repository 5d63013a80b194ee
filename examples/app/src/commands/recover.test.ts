import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IngestDatabase } from '@kflow/ingest';
import { connectPostgres } from '@kflow/ingest/pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliProcess, runCli, spawnCli } from '../cli.testing';
import { type TcpProxy, startTcpProxy } from '../tcpProxy.testing';
import { sleep, until } from '../wait.testing';
import { registerRecover } from './recover';

const DATABASE_URL = process.env.DATABASE_URL;

interface Summary {
  sessionId: string;
  stoppedBy: string;
  rowsEnqueued: number;
  rowsInSpillFile: number;
  rowsDropped: number;
  deltas: number;
  spillPath?: string;
  sessionRecord: string;
  recovered?: { spills: { sessionId: string; complete: boolean }[]; finalized: string[] };
}

describe.skipIf(DATABASE_URL === undefined)('kflow collect through a PostgreSQL outage, then kflow recover', () => {
  const server = new URL(DATABASE_URL ?? 'postgres://localhost');
  // A database of its own: the recovery looks at every session of the database.
  const name = `kflow_t_recover_${process.pid}`;
  let admin: IngestDatabase;
  let db: IngestDatabase;
  let proxy: TcpProxy;
  let dir: string;
  beforeAll(async () => {
    admin = await connectPostgres({ url: DATABASE_URL!, maxConnections: 1 });
    await admin.query(`CREATE DATABASE ${name}`);
    db = await connectPostgres({ url: Object.assign(new URL(DATABASE_URL!), { pathname: `/${name}` }).toString(), maxConnections: 1 });
    proxy = await startTcpProxy(server.hostname, Number(server.port || 5432));
    dir = await mkdtemp(join(tmpdir(), 'kflow-recover-'));
  });
  afterAll(async () => {
    await proxy?.close();
    await db?.close();
    await admin?.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const viaProxy = () => `postgres://${server.username || 'postgres'}@127.0.0.1:${proxy.port}/${name}`;
  const env = (cwd: string) => ({ ...process.env, KFLOW_HOME: join(dir, 'home'), INIT_CWD: cwd });
  /** Deltas stored for sessions other than `earlier` (whose rows the next collector's recovery stores too). */
  const deltasStored = async (earlier: readonly string[]) => {
    const rows = await db
      .query('SELECT count(*) AS n FROM kflow.orderbook_deltas WHERE NOT session_id = ANY($1::text[])', [earlier])
      .catch(() => ({ rows: [{ n: 0 }] }));
    return Number((rows.rows[0] as { n: unknown }).n);
  };
  const storedRows = async (id: string) => {
    let n = 0;
    for (const table of ['orderbook_snapshots', 'orderbook_deltas', 'trades', 'market_lifecycle']) {
      n += Number(((await db.query(`SELECT count(*) AS n FROM kflow.${table} WHERE session_id = $1`, [id])).rows[0] as { n: unknown }).n);
    }
    return n;
  };
  const session = async (id: string) => (await db.query('SELECT status, spill_path, deltas FROM kflow.sessions WHERE id = $1', [id])).rows[0] as Record<string, unknown>;

  /** Starts `kflow collect` from `cwd`, waits for stored rows, then cuts the database off and lets rows pile up. */
  async function collectThenCut(cwd: string, earlier: readonly string[]): Promise<CliProcess> {
    const p = spawnCli(['collect', '--source', 'sim', '--sim-minutes', '600', '--speed', '20', '--db', viaProxy(), '--json', '--shutdown-timeout', '2'], env(cwd));
    await until('rows stored', async () => (await deltasStored(earlier)) > 20 || p.child.exitCode !== null);
    expect(p.child.exitCode, p.stderr()).toBeNull();
    await proxy.cut();
    await sleep(1500);
    return p;
  }

  it('announces the wait, always prints the summary, spills to a directory tied to the database; a second Ctrl-C spills at once; the next collect and kflow recover store everything', { timeout: 60_000 }, async () => {
    const cwdA = join(dir, 'a');
    const cwdB = join(dir, 'b');
    // One Ctrl-C during the outage: the wait is said, then the rows stay in the spill file.
    const first = await collectThenCut(cwdA, []);
    first.child.kill('SIGINT');
    await until('the wait announced', () => /waiting up to \d+ s more for the database to take \d+ rows/.test(first.stderr()), 10_000);
    expect(first.stderr()).toMatch(/Press Ctrl-C again to spill them now/);
    expect(await first.exited).toBe(1);
    const s1 = JSON.parse(first.lines.at(-1)!) as Summary;
    expect(s1).toMatchObject({ stoppedBy: 'SIGINT', rowsDropped: 0, sessionRecord: 'deferred' });
    expect(s1.rowsInSpillFile).toBeGreaterThan(0);
    expect(s1.spillPath).toBe(join(dir, 'home', 'spill', `127.0.0.1_${proxy.port}_${name}_kflow`, `${s1.sessionId}.jsonl`));
    expect(first.stderr()).toMatch(/rows and the session's final record could not be stored .* wait in /);
    await proxy.restore();
    // Known from the start: where the rows went. The final record is deferred.
    expect(await session(s1.sessionId)).toMatchObject({ status: 'recording', spill_path: s1.spillPath });

    // The next collector, started elsewhere, stores them first. Then a second Ctrl-C during its own wait.
    const second = await collectThenCut(cwdB, [s1.sessionId]);
    second.child.kill('SIGINT');
    await until('the wait announced', () => /waiting up to/.test(second.stderr()), 10_000);
    const signalled = performance.now();
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(130);
    expect(performance.now() - signalled).toBeLessThan(1500);
    const s2 = JSON.parse(second.lines.at(-1)!) as Summary;
    expect(s2).toMatchObject({ stoppedBy: 'SIGINT, then SIGINT', rowsDropped: 0, sessionRecord: 'deferred' });
    expect(s2.rowsInSpillFile).toBeGreaterThan(0);
    expect(s2.recovered).toMatchObject({ spills: [{ sessionId: s1.sessionId, complete: true }], finalized: [s1.sessionId] });
    expect(await session(s1.sessionId)).toMatchObject({ status: 'completed', deltas: String(s1.deltas) });
    expect(await storedRows(s1.sessionId)).toBe(s1.rowsEnqueued);
    await proxy.restore();

    const report = JSON.parse(await runCli([registerRecover], ['recover', '--db', viaProxy(), '--json'])) as Summary['recovered'];
    expect(report).toMatchObject({ spills: [{ sessionId: s2.sessionId, complete: true }], finalized: [s2.sessionId] });
    expect(await session(s2.sessionId)).toMatchObject({ status: 'completed', deltas: String(s2.deltas) });
    expect(await storedRows(s2.sessionId)).toBe(s2.rowsEnqueued);
    // Nothing went to the directories the collectors ran from, nothing is left in the spill directory.
    expect(await readdir(join(dir, 'home', 'spill', `127.0.0.1_${proxy.port}_${name}_kflow`))).toEqual([]);
    expect(await readdir(dir)).toEqual(['home']);
  });
});
