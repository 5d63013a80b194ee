import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from './databases.testing';
import { openPglite } from './pglite';

describe('one owner per PGlite directory', () => {
  const tmp = useTempDir('kflow-lock-');

  it('a second open of a held directory fails with DATABASE_LOCKED; after close it opens again', async () => {
    const dataDir = join(tmp(), 'held');
    const db = await openPglite({ dataDir });
    expect(JSON.parse(await readFile(join(dataDir, 'kflow.lock'), 'utf8'))).toMatchObject({ pid: process.pid });
    await expect(openPglite({ dataDir })).rejects.toMatchObject({ code: 'DATABASE_LOCKED', message: expect.stringMatching(/this process/) });
    await db.query('CREATE TABLE IF NOT EXISTS t (x int)'); // the owner is unaffected
    await db.close();
    const again = await openPglite({ dataDir });
    await again.close();
  });

  it('names a live owner process, and takes over the lock of one that is gone', async () => {
    const dataDir = join(tmp(), 'other');
    await (await openPglite({ dataDir })).close();
    const owner = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      await writeFile(join(dataDir, 'kflow.lock'), JSON.stringify({ pid: owner.pid, command: 'kflow paper' }));
      await expect(openPglite({ dataDir })).rejects.toMatchObject({ code: 'DATABASE_LOCKED', message: expect.stringMatching(new RegExp(`process ${owner.pid} \\(kflow paper\\)`)) });
    } finally {
      owner.kill('SIGKILL');
      await new Promise((resolve) => owner.on('exit', resolve));
    }
    // The owner died without releasing (as after SIGKILL): the lock is stale and taken over.
    const db = await openPglite({ dataDir });
    expect(JSON.parse(await readFile(join(dataDir, 'kflow.lock'), 'utf8'))).toMatchObject({ pid: process.pid });
    await db.close();
  });
});
