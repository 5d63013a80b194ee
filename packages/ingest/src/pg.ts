/**
 * `@kflow/ingest/pg`: PostgreSQL through `pg` (and `pg-copy-streams` for COPY), both optional peers
 * loaded on first use.
 *
 * @packageDocumentation
 * @module \@kflow/ingest/pg
 */
import type { Pool, PoolClient } from 'pg';
import { pipeline } from 'node:stream/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { importOptional, ingestError } from './errors';
import { quoteIdent } from './pglite';
import { bulkRowReader, type BulkRows, type IngestDatabase, type SqlValue, type TableSpec } from './queryable';
import { postgresSpillDir } from './spillDir';

/** `host:port/database` of a connection string, never its user or password. */
function describeServer(url: string): string {
  if (!URL.canParse(url)) return 'an unparsable connection string (expected postgres://user@host:port/database)';
  const u = new URL(url);
  return `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname === '/' ? '' : u.pathname}`;
}

/** What a failed first connection means, and what to do about it. */
function unavailableReason(cause: unknown): string {
  const e = cause as { code?: string; message?: string };
  const message = e.message ?? String(cause);
  if (e.code === 'ECONNREFUSED') return `connection refused (${message}): is the server running and listening there?`;
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return `unknown host (${message}): check the host name in --db`;
  if (/timeout/i.test(message)) return `no answer within 10 s (${message}): check the host, port and firewall`;
  if (e.code === '28P01' || e.code === '28000') return `authentication failed (${message}): check the user and password in --db`;
  if (e.code === '3D000') return `${message}: create it (createdb) or name an existing database in --db`;
  return message;
}

/** Options of {@link connectPostgres}. */
export interface ConnectPostgresOptions {
  /** A connection string, e.g. `postgres://postgres@127.0.0.1:5432/test`. */
  readonly url: string;
  /** Schema holding kflow's tables (created if missing; set as the search_path). Default `kflow`. */
  readonly schema?: string;
  /** Reported as `application_name` (visible in `pg_stat_activity`). Default `kflow`. */
  readonly applicationName?: string;
  /** Pool size. Default 4. */
  readonly maxConnections?: number;
  /** Called with pool-level connection errors (e.g. a backend terminated while idle); they never throw. */
  readonly onError?: (error: Error) => void;
}

/**
 * Connects to a PostgreSQL server. Bulk writes use `COPY ... FROM STDIN` straight into the table; a batch
 * that may already be stored (a retry or a spill replay, or a first attempt that hits a duplicate key) is
 * copied into a temporary staging table and inserted with `ON CONFLICT DO NOTHING`, so nothing is
 * written twice.
 *
 * @example
 * const db = await connectPostgres({ url: process.env.DATABASE_URL! }); await migrate(db);
 */
export async function connectPostgres(options: ConnectPostgresOptions): Promise<IngestDatabase> {
  const pg = await importOptional('pg', () => import('pg'));
  const copy = await importOptional('pg-copy-streams', () => import('pg-copy-streams'));
  const schema = quoteIdent(options.schema ?? 'kflow');
  const PoolCtor = pg.default?.Pool ?? pg.Pool;
  const pool: Pool = new PoolCtor({
    connectionString: options.url,
    max: options.maxConnections ?? 4,
    application_name: options.applicationName ?? 'kflow',
    connectionTimeoutMillis: 10_000,
    options: `-c search_path=${schema}`,
  });
  pool.on('error', (error) => options.onError?.(error));
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } catch (cause) {
    await pool.end().catch(() => {});
    throw ingestError('DATABASE_UNAVAILABLE', `PostgreSQL at ${describeServer(options.url)}: ${unavailableReason(cause)}`, { cause });
  }
  const copyFrom = copy.from ?? copy.default.from;

  async function copyRows(client: PoolClient, table: string, spec: TableSpec, rows: BulkRows): Promise<void> {
    const columns = spec.columns.map((c) => c.name).join(', ');
    const stream = client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN`));
    // The pipeline reports the first error; a terminated backend can make the stream emit another
    // one after the pipeline let go of it, which must not become an uncaught exception.
    stream.on('error', () => {});
    await pipeline(copyChunks(rows, spec.columns.length), stream);
  }

  async function staged(client: PoolClient, spec: TableSpec, rows: BulkRows): Promise<void> {
    const stage = `kflow_stage_${spec.name}`;
    const columns = spec.columns.map((c) => c.name).join(', ');
    await client.query('BEGIN');
    await client.query(`CREATE TEMP TABLE IF NOT EXISTS ${stage} (LIKE ${spec.name}) ON COMMIT DELETE ROWS`);
    await copyRows(client, stage, spec, rows);
    await client.query(`INSERT INTO ${spec.name} (${columns}) SELECT ${columns} FROM ${stage} ON CONFLICT DO NOTHING`);
    await client.query('COMMIT');
  }

  return {
    kind: 'postgres',
    spillDir: postgresSpillDir(options.url, options.schema ?? 'kflow'),
    query: (text, params) => pool.query(text, params),
    exec: async (script) => {
      await pool.query(script);
    },
    execRows: async (script) => {
      // A multi-statement query resolves with one result per statement (a single one for one statement).
      const results: unknown = await pool.query(script);
      return { rows: (Array.isArray(results) ? (results as { rows?: unknown[] }[]) : [results as { rows?: unknown[] }]).flatMap((r) => r.rows ?? []) };
    },
    insertRows: async (spec, rows, mayConflict) => {
      if (rows.length === 0) return;
      let broken: Error | undefined;
      // A checked-out client whose backend dies emits 'error'; unheard, it would crash the process. The
      // listener goes on inside the pool's callback: the termination can arrive in the same socket read
      // that handed the client over, before an awaited promise would resume.
      const onClientError = (error: Error) => {
        broken = error;
      };
      const client = await new Promise<PoolClient>((resolve, reject) =>
        pool.connect((error, c) => {
          if (error || c === undefined) return reject(error ?? new Error('no client'));
          c.on('error', onClientError);
          resolve(c);
        }),
      );
      try {
        if (mayConflict) await staged(client, spec, rows);
        else {
          try {
            await copyRows(client, spec.name, spec, rows);
          } catch (error) {
            if ((error as { code?: unknown }).code !== '23505') throw error;
            await staged(client, spec, rows);
          }
        }
      } catch (error) {
        broken = error as Error;
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        // A connection that failed is discarded rather than reused; it keeps the listener, since its
        // socket can still report the termination after the pool let go of it.
        if (broken === undefined) client.off('error', onClientError);
        client.release(broken);
      }
    },
    listen: async (channel, onNotify, onError) => {
      // A dedicated connection: LISTEN holds for the session that issued it, and pooled queries move around.
      const client = await pool.connect();
      let lost = false;
      const onClientError = (error: Error) => {
        lost = true;
        onError?.(error);
      };
      const onNotification = (message: { channel: string; payload?: string | undefined }) => {
        if (message.channel === channel) onNotify(message.payload ?? '');
      };
      client.on('error', onClientError);
      client.on('notification', onNotification);
      try {
        await client.query(`LISTEN ${quoteIdent(channel)}`);
      } catch (error) {
        client.release(error as Error);
        throw error;
      }
      return async () => {
        client.off('notification', onNotification);
        if (!lost) await client.query(`UNLISTEN ${quoteIdent(channel)}`).catch(() => {});
        // The error listener stays: a dead socket can still report after release.
        client.release(lost ? new Error('listen connection lost') : undefined);
      };
    },
    close: () => pool.end(),
  };
}

/** PostgreSQL COPY text format: tab-separated, `\N` for NULL, backslash escapes. */
export function copyText(rows: readonly (readonly SqlValue[])[]): string {
  const cell = bulkRowReader(rows);
  // One growing string (V8 ropes) is ~2× faster than joining per-row strings.
  let out = '';
  for (let r = 0; r < rows.length; r++) out += copyLine(cell, r, rows[r]!.length);
  return out;
}

/**
 * Under half a millisecond of encoding: a 5,000-row batch of deltas is ~470 KB of COPY text and takes
 * several ms to encode in one go, long enough to delay the collector's socket handler.
 */
const COPY_CHUNK_CHARS = 64 * 1024;

/**
 * `copyText(rows)` in chunks of about `COPY_CHUNK_CHARS`, with an event-loop turn between chunks: the
 * collector's socket handler runs while a batch is encoded, and the COPY stream's backpressure paces the
 * encoding to what the server takes.
 */
async function* copyChunks(rows: BulkRows, width: number): AsyncGenerator<string> {
  const cell = bulkRowReader(rows);
  let out = '';
  for (let r = 0; r < rows.length; r++) {
    out += copyLine(cell, r, width);
    if (out.length >= COPY_CHUNK_CHARS) {
      yield out;
      out = '';
      await nextTurn();
    }
  }
  if (out !== '') yield out;
}

/** Row `r` of COPY text, newline included. */
function copyLine(cell: (row: number, column: number) => SqlValue, r: number, width: number): string {
  let out = '';
  for (let c = 0; c < width; c++) {
    const v = cell(r, c);
    if (c > 0) out += '\t';
    if (v === null) out += '\\N';
    else if (typeof v === 'string') out += COPY_SPECIAL.test(v) ? v.replace(COPY_SPECIALS, escapeChar) : v;
    else out += String(v);
  }
  return out + '\n';
}

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIALS = /[\\\t\n\r]/g;

function escapeChar(ch: string): string {
  return ch === '\\' ? '\\\\' : ch === '\t' ? '\\t' : ch === '\n' ? '\\n' : '\\r';
}
