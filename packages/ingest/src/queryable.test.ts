import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { DELTA_TABLE } from './orderbookWriteQueue';
import { fromQueryable, selectRows, toInt, type Queryable } from './queryable';
import { MIGRATIONS, migrate } from './schema';
import { DATABASE_URL, uniqueSchema } from './databases.testing';

describe('bring your own driver', () => {
  it('takes a PGlite instance as it is', async () => {
    const pglite = new PGlite();
    const q: Queryable = pglite;
    const db = fromQueryable(pglite);
    expect(await migrate(db)).toEqual(MIGRATIONS.map((m) => m.version));
    await db.insertRows(DELTA_TABLE, [['own', 1, 'M', 1, null, 1, 1, 1, 'yes', 100, 5]], false);
    expect(toInt((await selectRows<{ n: unknown }>(q, 'SELECT count(*) AS n FROM orderbook_deltas'))[0]!.n)).toBe(1);
    await pglite.close();
  });

  it.skipIf(DATABASE_URL === undefined)('takes a pg.Pool as it is', async () => {
    const schema = uniqueSchema('own');
    const pool = new pg.Pool({ connectionString: DATABASE_URL, options: `-c search_path=${schema}` });
    try {
      await pool.query(`CREATE SCHEMA ${schema}`);
      const q: Queryable = pool;
      const db = fromQueryable(q);
      expect(await migrate(db)).toEqual(MIGRATIONS.map((m) => m.version));
      await db.insertRows(DELTA_TABLE, [['own', 1, 'M', 1, null, 1, 1, 1, 'no', 100, 5]], false);
      await db.insertRows(DELTA_TABLE, [['own', 1, 'M', 1, null, 1, 1, 1, 'no', 100, 5]], true);
      expect(toInt((await selectRows<{ n: unknown }>(q, 'SELECT count(*) AS n FROM orderbook_deltas'))[0]!.n)).toBe(1);
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool.end();
    }
  });
});
