/** Test support (not exported): the real PostgreSQL server (DATABASE_URL) and PGlite, one schema per run. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { connectPostgres } from './pg';
import { openPglite } from './pglite';
import type { IngestDatabase } from './queryable';
import { migrate } from './schema';

export const DATABASE_URL = process.env.DATABASE_URL;

if (DATABASE_URL === undefined) {
  console.warn('[@kflow/ingest] DATABASE_URL is not set: PostgreSQL tests are skipped (PGlite tests still run).');
}

/** A schema name unique to this process and call, so parallel runs never share tables. */
export function uniqueSchema(label: string): string {
  return `kflow_t_${label}_${process.pid}_${process.hrtime.bigint().toString(36)}`;
}

export interface TestDatabase {
  readonly db: IngestDatabase;
  readonly schema: string;
  /** Drops the schema (PostgreSQL) and closes. */
  dispose(): Promise<void>;
}

export async function openTestPostgres(label: string): Promise<TestDatabase> {
  const schema = uniqueSchema(label);
  const db = await connectPostgres({ url: DATABASE_URL!, schema, maxConnections: 4 });
  await migrate(db);
  return {
    db,
    schema,
    async dispose() {
      await db.exec(`DROP SCHEMA "${schema}" CASCADE`);
      await db.close();
    },
  };
}

async function openTestPglite(): Promise<TestDatabase> {
  const db = await openPglite();
  await migrate(db);
  return { db, schema: 'kflow', dispose: () => db.close() };
}

/** The backends every storage test runs on: PGlite always, PostgreSQL when DATABASE_URL is set. */
const BACKENDS: readonly { readonly name: 'pglite' | 'postgres'; readonly open: (label: string) => Promise<TestDatabase>; readonly skip: boolean }[] = [
  { name: 'pglite', open: () => openTestPglite(), skip: false },
  { name: 'postgres', open: (label) => openTestPostgres(label), skip: DATABASE_URL === undefined },
];

/** One backend's suite: its name and its migrated database (valid inside tests and hooks). */
export interface BackendSuite {
  readonly name: 'pglite' | 'postgres';
  readonly db: IngestDatabase;
  readonly schema: string;
}

/**
 * Declares `suite` once per backend as `"<title> on <backend>"`, with a migrated database opened before
 * its tests and disposed after them. The PostgreSQL suite is skipped (and says so) without DATABASE_URL.
 */
export function describeEachBackend(title: string, label: string, suite: (t: BackendSuite) => void): void {
  for (const backend of BACKENDS) {
    describe.skipIf(backend.skip)(`${title} on ${backend.name}`, () => {
      let opened: TestDatabase | undefined;
      beforeAll(async () => {
        opened = await backend.open(label);
      });
      afterAll(async () => {
        await opened?.dispose();
      });
      suite({
        name: backend.name,
        get db() {
          return opened!.db;
        },
        get schema() {
          return opened!.schema;
        },
      });
    });
  }
}

/** A fresh temporary directory for the enclosing suite, removed after it; call the result inside tests. */
export function useTempDir(prefix: string): () => string {
  let dir: string | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });
  return () => dir!;
}

/** Polls `condition` until true or `timeoutMs` passes (then throws with `what`). */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const start = performance.now();
  while (!(await condition())) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
