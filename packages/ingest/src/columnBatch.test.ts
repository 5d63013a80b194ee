import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ColumnBatch, TextInterner } from './columnBatch';
import { tableSpec, type SqlValue } from './queryable';

const SPEC = tableSpec('t', { a: 'bigint', b: 'text', c: 'double precision', d: 'boolean', e: 'jsonb', f: 'integer' });
const value: fc.Arbitrary<SqlValue> = fc.oneof(fc.double(), fc.integer(), fc.string(), fc.boolean(), fc.constant(null), fc.constant(2 ** 53 - 1));

describe('ColumnBatch', () => {
  it('gives back every row as it went in, whatever the column types say', () => {
    fc.assert(
      fc.property(fc.array(fc.array(value, { minLength: 6, maxLength: 6 }), { maxLength: 700 }), (rows) => {
        const batch = new ColumnBatch(SPEC, new TextInterner(), 4);
        for (const row of rows) batch.push(row);
        expect(batch.length).toBe(rows.length);
        expect(batch.rows()).toEqual(rows);
        if (rows.length > 2) expect(batch.rows(1, 2)).toEqual([rows[1]]);
      }),
    );
  });

  it('copies the values: the caller may reuse its row array', () => {
    const batch = new ColumnBatch(SPEC, new TextInterner());
    const row: SqlValue[] = [1, 'x', 0.5, true, '{}', 7];
    batch.push(row);
    row[0] = 2;
    row[1] = 'y';
    batch.push(row);
    expect(batch.rows()).toEqual([
      [1, 'x', 0.5, true, '{}', 7],
      [2, 'y', 0.5, true, '{}', 7],
    ]);
  });

  it('clear() empties it for reuse: only the rows pushed after it come back', () => {
    const batch = new ColumnBatch(SPEC, new TextInterner(), 2);
    for (let i = 0; i < 5; i++) batch.push([i, `m${i}`, null, true, '{}', i]);
    batch.clear();
    batch.push([9, 'z', 1.5, null, null, null]);
    expect(batch.rows()).toEqual([[9, 'z', 1.5, null, null, null]]);
  });

  it('stores one string object per distinct short text', () => {
    const interner = new TextInterner();
    const batch = new ColumnBatch(SPEC, interner);
    // Built at run time: two equal strings that are distinct objects.
    const first = ['KXFED', '26DEC'].join('-');
    batch.push([1, first, 0, false, null, 1]);
    batch.push([2, ['KXFED', '26DEC'].join('-'), 0, false, null, 1]);
    expect(interner.intern('KXFED-26DEC')).toBe(first);
    expect(batch.value(1, 1)).toBe('KXFED-26DEC');
  });
});
