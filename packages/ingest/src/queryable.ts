/**
 * The one thing kflow needs from a SQL driver: `pg.Pool`, `pg.Client` and `PGlite` fit as they are
 * (bring your own driver, as in Kysely). Rows come back as plain objects.
 */
export interface Queryable {
  /** Runs one parameterised statement (`$1`, `$2`, ...) and resolves with its rows. */
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** A value in a bulk-inserted row. JSONB columns take their JSON text. */
export type SqlValue = string | number | boolean | null;

/** SQL type of a bulk-loaded column. */
export type ColumnType = 'text' | 'bigint' | 'integer' | 'double precision' | 'boolean' | 'jsonb';

/** A table the write queues bulk-load, with its columns in row order. */
export interface TableSpec {
  readonly name: string;
  readonly columns: readonly { readonly name: string; readonly type: ColumnType }[];
}

/** A `TableSpec` from `{ column: type }` in row order (object keys keep their insertion order). */
export function tableSpec(name: string, columns: Readonly<Record<string, ColumnType>>): TableSpec {
  return { name, columns: Object.entries(columns).map(([column, type]) => ({ name: column, type })) };
}

/**
 * Bulk, idempotent insert of `rows` (each in `spec.columns` order); rows whose key already exists are
 * skipped. `mayConflict` says the rows may already be stored (a retry or a spill replay), so a driver
 * whose fast path cannot skip duplicates (COPY) must take its conflict-safe path.
 */
export type BulkInsert = (spec: TableSpec, rows: readonly (readonly SqlValue[])[], mayConflict: boolean) => Promise<void>;

/**
 * A database kflow opened: a `Queryable` with a bulk path and a `close()`. `openPglite` and
 * `connectPostgres` (from `@kflow/ingest/pg`) return one; any `Queryable` can be wrapped with `fromQueryable`.
 */
export interface IngestDatabase extends Queryable {
  readonly kind: 'postgres' | 'pglite' | 'custom';
  /**
   * A directory on this machine for files that belong to this database rather than to a working
   * directory (write-queue spill files), so any process that opens the same database finds them.
   * Undefined for an in-memory database or a wrapped driver.
   */
  readonly spillDir?: string;
  readonly insertRows: BulkInsert;
  /** Runs a multi-statement script without parameters as one implicit transaction. */
  exec(script: string): Promise<void>;
  /**
   * `LISTEN channel`: calls `onNotify` with each `NOTIFY` payload until the returned function is called.
   * `onError` hears a lost listening connection (the listener is then gone: listen again or poll).
   * Absent where the driver cannot listen (`fromQueryable`).
   */
  listen?(channel: string, onNotify: (payload: string) => void, onError?: (error: unknown) => void): Promise<() => Promise<void>>;
  /** Closes the connection (pool, or the embedded database and its directory lock). */
  close(): Promise<void>;
}

/**
 * The portable bulk path: one `INSERT ... SELECT FROM unnest($1::t1[], ...) ON CONFLICT DO NOTHING`
 * per batch, so a batch is one round trip on PostgreSQL and on PGlite alike.
 */
export function unnestInsert(db: Queryable): BulkInsert {
  const sqlByTable = new Map<string, string>();
  return async (spec, rows) => {
    if (rows.length === 0) return;
    let sql = sqlByTable.get(spec.name);
    if (sql === undefined) {
      const names = spec.columns.map((c) => c.name);
      const arrays = spec.columns.map((c, i) => `$${i + 1}::${c.type === 'jsonb' ? 'text' : c.type}[]`);
      const select = spec.columns.map((c) => (c.type === 'jsonb' ? `u.${c.name}::jsonb` : `u.${c.name}`));
      sql =
        `INSERT INTO ${spec.name} (${names.join(', ')}) SELECT ${select.join(', ')} ` +
        `FROM unnest(${arrays.join(', ')}) AS u(${names.join(', ')}) ON CONFLICT DO NOTHING`;
      sqlByTable.set(spec.name, sql);
    }
    const columns: SqlValue[][] = spec.columns.map(() => []);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      for (let c = 0; c < columns.length; c++) columns[c]![r] = row[c] ?? null;
    }
    await db.query(sql, columns);
  };
}

/**
 * Wraps any `Queryable` (your own `pg.Pool`, a PGlite instance) as an `IngestDatabase` using the
 * portable unnest bulk path; `close()` is left to the owner of the driver. Tables go wherever the
 * driver's search_path points.
 *
 * @example
 * const db = fromQueryable(new pg.Pool({ connectionString })); await migrate(db);
 */
export function fromQueryable(db: Queryable & { exec?(script: string): Promise<unknown> }): IngestDatabase {
  return {
    kind: 'custom',
    query: (text, params) => db.query(text, params),
    insertRows: unnestInsert(db),
    // PGlite runs scripts through exec(); on pg a parameterless multi-statement query does the same, as one
    // implicit transaction.
    exec: async (script) => {
      if (typeof db.exec === 'function') await db.exec(script);
      else await db.query(script);
    },
    close: async () => {},
  };
}

/** Integer columns arrive as numbers (PGlite) or strings (pg's int8); this reads either exactly. */
export function toInt(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint' || typeof value === 'string') return Number(value);
  return Number.NaN;
}

/** Like `toInt` but keeps SQL NULL as `null`. */
export function toIntOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : toInt(value);
}

/** Rows typed by the caller's query (the SQL text defines their shape). */
export async function selectRows<Row>(db: Queryable, text: string, params: unknown[] = []): Promise<Row[]> {
  const result = await db.query(text, params);
  return result.rows as Row[];
}
