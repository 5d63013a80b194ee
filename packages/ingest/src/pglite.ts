import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { importOptional, ingestError } from './errors';
import { unnestInsert, type IngestDatabase } from './queryable';

/** Options of {@link openPglite}. */
export interface OpenPgliteOptions {
  /** Data directory (created if missing); omit for an in-memory database. */
  readonly dataDir?: string;
  /** Schema holding kflow's tables (created if missing). Default `kflow`. */
  readonly schema?: string;
}

/** Whether a process exists (signal 0 only checks; EPERM means it exists under another user). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code === 'EPERM';
  }
}

/**
 * Takes the directory's lock file (`kflow.lock`, created exclusively): PGlite is one process's database,
 * and two owners of one directory corrupt it. A lock left by a process that is gone (a crash, SIGKILL) is
 * taken over. Returns the release function.
 */
async function lockDirectory(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, 'kflow.lock');
  const mine = JSON.stringify({ pid: process.pid, command: process.argv.slice(1).join(' ') });
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(path, mine, { flag: 'wx' });
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'EEXIST' || attempt > 0) throw error;
    }
    let owner: { pid?: unknown; command?: unknown } = {};
    try {
      owner = JSON.parse(await readFile(path, 'utf8')) as typeof owner;
    } catch {
      // An unreadable lock is a half-written one from a crash: taken over below.
    }
    if (typeof owner.pid === 'number' && isAlive(owner.pid)) {
      const who = owner.pid === process.pid ? 'this process' : `process ${owner.pid} (${String(owner.command)})`;
      throw ingestError(
        'DATABASE_LOCKED',
        `the embedded database in ${dir} is open in ${who}: stop it first, or share a PostgreSQL server between processes (--db URL)`,
        { details: { dataDir: dir, pid: owner.pid } },
      );
    }
    await rm(path, { force: true });
  }
}

/**
 * Opens the embedded database: PostgreSQL compiled to WASM, in a local data directory, zero setup.
 * The schema is identical to the server's; call `migrate(db)` once after opening. A data directory has one
 * owner at a time: opening one that another live process (or this one) holds throws `DATABASE_LOCKED`.
 *
 * @example
 * const db = await openPglite({ dataDir: './kflow-data' }); await migrate(db); ... await db.close();
 */
export async function openPglite(options: OpenPgliteOptions = {}): Promise<IngestDatabase> {
  const { PGlite } = await importOptional('@electric-sql/pglite', () => import('@electric-sql/pglite'));
  let unlock = async (): Promise<void> => {};
  if (options.dataDir !== undefined) {
    await mkdir(options.dataDir, { recursive: true });
    unlock = await lockDirectory(options.dataDir);
  }
  let pg: Awaited<ReturnType<typeof PGlite.create>>;
  try {
    pg = options.dataDir === undefined ? await PGlite.create() : await PGlite.create(options.dataDir);
  } catch (error) {
    await unlock();
    throw error;
  }
  const schema = quoteIdent(options.schema ?? 'kflow');
  // PGlite is a single connection, so the search_path set here holds for every later query.
  await pg.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}; SET search_path TO ${schema}`);
  return {
    kind: 'pglite',
    ...(options.dataDir === undefined ? {} : { spillDir: join(options.dataDir, 'spill') }),
    query: (text, params) => pg.query(text, params),
    insertRows: unnestInsert(pg),
    exec: async (script) => {
      await pg.exec(script);
    },
    listen: async (channel, onNotify) => {
      const off = await pg.listen(channel, onNotify);
      return () => off();
    },
    close: async () => {
      try {
        await pg.close();
      } finally {
        await unlock();
      }
    },
  };
}

/** Quotes an SQL identifier (schema names come from options). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
