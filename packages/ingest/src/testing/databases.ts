/** Test support (not exported): the real PostgreSQL server (DATABASE_URL) and PGlite, one schema per run. */
import { connectPostgres } from '../pg';
import { openPglite } from '../pglite';
import type { IngestDatabase } from '../queryable';
import { migrate } from '../schema';

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

export async function openTestPglite(): Promise<TestDatabase> {
  const db = await openPglite();
  await migrate(db);
  return { db, schema: 'kflow', dispose: () => db.close() };
}

/** The backends every storage test runs on: PGlite always, PostgreSQL when DATABASE_URL is set. */
export const BACKENDS: readonly { readonly name: 'pglite' | 'postgres'; readonly open: (label: string) => Promise<TestDatabase>; readonly skip: boolean }[] = [
  { name: 'pglite', open: () => openTestPglite(), skip: false },
  { name: 'postgres', open: (label) => openTestPostgres(label), skip: DATABASE_URL === undefined },
];

/** Polls `condition` until true or `timeoutMs` passes (then throws with `what`). */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const start = performance.now();
  while (!(await condition())) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
