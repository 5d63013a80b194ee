import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { getPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from './databases.testing';
import { openPglite, type PgliteDatabase } from './pglite';

const CHILD = fileURLToPath(new URL('./pgliteOwner.testing.ts', import.meta.url));

function child(...args: string[]): { proc: ChildProcess; lines: string[]; exited: Promise<number | null>; line(): Promise<string> } {
  const proc = spawn(process.execPath, ['--conditions=@kflow/source', '--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdout!.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n').filter(Boolean)) {
      const waiter = waiters.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  const exited = new Promise<number | null>((resolve) =>
    proc.on('exit', (code) => {
      if (code !== 0 && code !== null) console.error(stderr);
      resolve(code);
    }),
  );
  return {
    proc,
    lines,
    exited,
    line: () => (lines.length > 0 ? Promise.resolve(lines.shift()!) : new Promise((resolve) => waiters.push(resolve))),
  };
}

async function counts(db: PgliteDatabase): Promise<{ rows: number; byIndex: number }> {
  const rows = (await db.query('SELECT count(*)::int AS c FROM rows_t')).rows[0] as { c: number };
  // The primary-key index must find every row: a corrupted directory's index misses some.
  await db.exec('SET enable_seqscan = off');
  const byIndex = (await db.query("SELECT count(*)::int AS c FROM rows_t WHERE tag >= ''")).rows[0] as { c: number };
  await db.exec('SET enable_seqscan = on');
  return { rows: rows.c, byIndex: byIndex.c };
}

describe('one owner per PGlite directory', () => {
  const tmp = useTempDir('kflow-owner-');

  it('a second open in the same process reaches the owner; when the owner closes, it takes over', async () => {
    const dataDir = join(tmp(), 'shared');
    const owner = await openPglite({ dataDir });
    await owner.exec('CREATE TABLE rows_t (tag text, i int, PRIMARY KEY (tag, i))');
    const other = await openPglite({ dataDir });
    expect(other.owner.pid).toBe(process.pid);
    await other.query("INSERT INTO rows_t VALUES ('b', 1)");
    expect(await counts(owner)).toEqual({ rows: 1, byIndex: 1 });
    await owner.close();
    // The owner closed cleanly: the next request is served by this handle, now the owner, with nothing lost.
    expect(await counts(other)).toEqual({ rows: 1, byIndex: 1 });
    expect(other.owner.pid).toBe(process.pid);
    await other.close();
  }, 60_000);

  it("a notification sent by another process reaches the owner's listeners", async () => {
    const dataDir = join(tmp(), 'notify');
    const owner = await openPglite({ dataDir });
    const heard: string[] = [];
    const off = await owner.listen!('deployments', (payload) => heard.push(payload));
    expect(await child(dataDir, 'notify', 'deployments', 'mymodel').exited).toBe(0);
    await expect.poll(() => heard, { timeout: 5000 }).toEqual(['mymodel']);
    await off();
    await owner.close();
  }, 60_000);

  it('two processes writing at once lose nothing and leave the index whole', async () => {
    const dataDir = join(tmp(), 'two-writers');
    const a = child(dataDir, 'write', '20000', 'a');
    const b = child(dataDir, 'write', '20000', 'b');
    expect(await Promise.all([a.exited, b.exited])).toEqual([0, 0]);
    const db = await openPglite({ dataDir });
    expect(await counts(db)).toEqual({ rows: 40_000, byIndex: 40_000 });
    await db.close();
  }, 120_000);

  it('a reader during a write, then the writer killed: the reader got its answer and the directory opens whole', async () => {
    const dataDir = join(tmp(), 'reader');
    const writer = child(dataDir, 'write', '100000000', 'w');
    expect(await writer.line()).toBe('ready');
    const reader = child(dataDir, 'read');
    const answer = JSON.parse(await reader.line()) as { count: number; owner: { pid: number } };
    expect(answer.owner.pid).toBe(writer.proc.pid);
    expect(answer.count).toBeGreaterThan(0);
    expect(await reader.exited).toBe(0);
    writer.proc.kill('SIGKILL');
    await writer.exited;
    const db = await openPglite({ dataDir });
    expect(db.owner.pid).toBe(process.pid);
    const after = await counts(db);
    expect(after.byIndex).toBe(after.rows);
    expect(after.rows).toBeGreaterThanOrEqual(answer.count);
    await db.close();
  }, 120_000);
});

describe("the embedded database's thread", () => {
  const tmp = useTempDir('kflow-nice-');
  /** Ids of this process's threads running at `nice`. */
  const threadsAt = (nice: number) => readdirSync('/proc/self/task').filter((tid) => getPriority(Number(tid)) === nice);

  it.runIf(process.platform === 'linux')('runs 10 nice steps below the process with a directory, at its priority in memory', async () => {
    const base = getPriority();
    const before = threadsAt(base + 10);
    const added = () => threadsAt(base + 10).filter((tid) => !before.includes(tid));
    const inMemory = await openPglite();
    try {
      // Nothing to spill to: an in-memory database must not fall behind.
      expect(added()).toHaveLength(0);
    } finally {
      await inMemory.close();
    }
    const onDisk = await openPglite({ dataDir: join(tmp(), 'niced') });
    try {
      expect(added()).toHaveLength(1);
      expect(getPriority()).toBe(base);
    } finally {
      await onDisk.close();
    }
  });
});
