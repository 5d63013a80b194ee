import type { ColumnarRows, SqlValue, TableSpec } from './queryable';

const NUMERIC = new Set(['bigint', 'integer', 'double precision']);
/** Short text values (tickers, sides, ids) are shared through a cache: stored rows then hold no string of their own. */
const INTERN_MAX_LENGTH = 64;
const INTERN_MAX_ENTRIES = 4096;

/** Hands out one string object per distinct short text, so rows waiting in a queue keep no copy of their own. */
export class TextInterner {
  private readonly texts = new Map<string, string>();

  intern(text: string): string {
    if (text.length > INTERN_MAX_LENGTH) return text;
    const known = this.texts.get(text);
    if (known !== undefined) return known;
    // Bounded: a stream of ever-new short texts (trade ids) must not grow the cache forever.
    if (this.texts.size >= INTERN_MAX_ENTRIES) this.texts.clear();
    this.texts.set(text, text);
    return text;
  }
}

/**
 * One table's rows stored by column. Numeric columns live in `Float64Array`s (exact for every JS number,
 * NULL in a mask), outside the JS heap: rows waiting for the database are never copied or scanned by the
 * garbage collector, which is what held a collector's event loop at maximum speed when they were arrays.
 * A numeric column that receives another kind of value becomes a plain array, so every `SqlValue` comes
 * back as it went in.
 */
export class ColumnBatch implements ColumnarRows {
  /** Rows stored. */
  length = 0;
  private capacity: number;
  private readonly numbers: (Float64Array | undefined)[];
  private readonly nulls: (Uint8Array | undefined)[];
  private readonly values: (SqlValue[] | undefined)[];
  private readonly text: boolean[];

  constructor(
    spec: TableSpec,
    private readonly interner: TextInterner,
    capacity = 256,
  ) {
    this.capacity = capacity;
    const numeric = spec.columns.map((c) => NUMERIC.has(c.type));
    this.numbers = numeric.map((n) => (n ? new Float64Array(capacity) : undefined));
    this.nulls = numeric.map((n) => (n ? new Uint8Array(capacity) : undefined));
    this.values = numeric.map((n) => (n ? undefined : []));
    this.text = spec.columns.map((c) => c.type === 'text');
  }

  /** Appends a row (values in column order); the values are copied, so `row` may be reused by the caller. */
  push(row: readonly SqlValue[]): void {
    const r = this.length;
    if (r === this.capacity) this.grow();
    const numbers = this.numbers;
    for (let c = 0; c < numbers.length; c++) {
      const v = row[c] ?? null;
      const column = numbers[c];
      if (column !== undefined) {
        if (typeof v === 'number') {
          column[r] = v;
          this.nulls[c]![r] = 0;
          continue;
        }
        if (v === null) {
          this.nulls[c]![r] = 1;
          continue;
        }
        this.toValues(c);
      }
      this.values[c]![r] = typeof v === 'string' && this.text[c] ? this.interner.intern(v) : v;
    }
    this.length = r + 1;
  }

  /**
   * Empties the batch for reuse, keeping its storage: a queue that recycles written batches allocates
   * nothing per row once its batches have grown (values past `length` are overwritten by the next rows).
   */
  clear(): void {
    this.length = 0;
  }

  /** The value at (`row`, `column`). */
  value(row: number, column: number): SqlValue {
    const numbers = this.numbers[column];
    if (numbers !== undefined) return this.nulls[column]![row] === 1 ? null : numbers[row]!;
    return this.values[column]![row] ?? null;
  }

  /** Rows `from` to `to` (exclusive) as arrays, in column order. */
  rows(from = 0, to = this.length): SqlValue[][] {
    const width = this.numbers.length;
    const out: SqlValue[][] = [];
    for (let r = from; r < to; r++) {
      const row: SqlValue[] = [];
      for (let c = 0; c < width; c++) row.push(this.value(r, c));
      out.push(row);
    }
    return out;
  }

  private grow(): void {
    this.capacity *= 2;
    for (let c = 0; c < this.numbers.length; c++) {
      const numbers = this.numbers[c];
      if (numbers === undefined) continue;
      const wider = new Float64Array(this.capacity);
      wider.set(numbers);
      this.numbers[c] = wider;
      const nulls = new Uint8Array(this.capacity);
      nulls.set(this.nulls[c]!);
      this.nulls[c] = nulls;
    }
  }

  /** Turns numeric column `c` into a plain array (it received a value that is not a number). */
  private toValues(c: number): void {
    const values: SqlValue[] = [];
    for (let r = 0; r < this.length; r++) values.push(this.value(r, c));
    this.values[c] = values;
    this.numbers[c] = undefined;
    this.nulls[c] = undefined;
  }
}
