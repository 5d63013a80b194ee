import { mkdir } from 'node:fs/promises';
import { importOptional } from './errors';
import { unnestInsert, type IngestDatabase } from './queryable';

export interface OpenPgliteOptions {
  /** Data directory (created if missing); omit for an in-memory database. */
  readonly dataDir?: string;
  /** Schema holding kflow's tables (created if missing). Default `kflow`. */
  readonly schema?: string;
}

/**
 * Opens the embedded database: PostgreSQL compiled to WASM, in a local data directory, zero setup.
 * The schema is identical to the server's; call `migrate(db)` once after opening.
 *
 * @example
 * const db = await openPglite({ dataDir: './kflow-data' }); await migrate(db); ... await db.close();
 */
export async function openPglite(options: OpenPgliteOptions = {}): Promise<IngestDatabase> {
  const { PGlite } = await importOptional('@electric-sql/pglite', () => import('@electric-sql/pglite'));
  if (options.dataDir !== undefined) await mkdir(options.dataDir, { recursive: true });
  const pg = options.dataDir === undefined ? await PGlite.create() : await PGlite.create(options.dataDir);
  const schema = quoteIdent(options.schema ?? 'kflow');
  // PGlite is a single connection, so the search_path set here holds for every later query.
  await pg.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}; SET search_path TO ${schema}`);
  return {
    kind: 'pglite',
    query: (text, params) => pg.query(text, params),
    insertRows: unnestInsert(pg),
    exec: async (script) => {
      await pg.exec(script);
    },
    listen: async (channel, onNotify) => {
      const off = await pg.listen(channel, onNotify);
      return () => off();
    },
    close: () => pg.close(),
  };
}

/** Quotes an SQL identifier (schema names come from options). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
