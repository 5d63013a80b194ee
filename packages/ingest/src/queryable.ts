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
 * Rows read by position. The write queues hand their batches to `insertRows` in this form: they keep rows
 * by column, and an array per row would only be built to be taken apart again by the driver.
 */
export interface ColumnarRows {
  readonly length: number;
  /** The value at (`row`, `column`), columns in `TableSpec` order. */
  value(row: number, column: number): SqlValue;
}

/** What `insertRows` takes: an array per row (values in column order), or a write queue's {@link ColumnarRows}. */
export type BulkRows = readonly (readonly SqlValue[])[] | ColumnarRows;

/** Reads either form of {@link BulkRows}: `cell(row, column)`, undefined read as NULL. */
export function bulkRowReader(rows: BulkRows): (row: number, column: number) => SqlValue {
  if (isRowArrays(rows)) return (row, column) => rows[row]![column] ?? null;
  return (row, column) => rows.value(row, column);
}

function isRowArrays(rows: BulkRows): rows is readonly (readonly SqlValue[])[] {
  return Array.isArray(rows);
}

/**
 * Bulk, idempotent insert of `rows` (each in `spec.columns` order); rows whose key already exists are
 * skipped. `mayConflict` says the rows may already be stored (a retry or a spill replay), so a driver
 * whose fast path cannot skip duplicates (COPY) must take its conflict-safe path. Read `rows` with
 * {@link bulkRowReader}.
 */
export type BulkInsert = (spec: TableSpec, rows: BulkRows, mayConflict: boolean) => Promise<void>;

/**
 * Rows per statement of {@link unnestInsert}: the statement's parameters are built and (on PGlite) copied to
 * the database's worker on the caller's thread, so a large batch goes in slices, one per event-loop turn.
 */
const UNNEST_SLICE_ROWS = 1000;

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
   * Like `exec`, resolving with the rows of every statement in order (job queues such as pg-boss send
   * `BEGIN; ... RETURNING ...; COMMIT` and read what the middle returned). Absent on `fromQueryable`.
   */
  execRows?(script: string): Promise<{ rows: unknown[] }>;
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
 * The portable bulk path: `INSERT ... SELECT FROM unnest($1::t1[], ...) ON CONFLICT DO NOTHING`, one
 * statement per slice of up to 1,000 rows, on PostgreSQL and on PGlite alike. Slices commit one by one;
 * a retry of the whole batch skips the rows already stored.
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
    const cell = bulkRowReader(rows);
    const width = spec.columns.length;
    for (let from = 0; from < rows.length; from += UNNEST_SLICE_ROWS) {
      const to = Math.min(rows.length, from + UNNEST_SLICE_ROWS);
      const columns: SqlValue[][] = [];
      for (let c = 0; c < width; c++) {
        const column: SqlValue[] = [];
        for (let r = from; r < to; r++) column.push(cell(r, c));
        columns.push(column);
      }
      await db.query(sql, columns);
    }
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
