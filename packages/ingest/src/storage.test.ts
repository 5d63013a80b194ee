import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { connectPostgres, copyText } from './pg';
import { selectRows, toInt } from './queryable';
import { MIGRATIONS, migrate, schemaVersion } from './schema';
import { DELTA_TABLE, SNAPSHOT_TABLE } from './orderbookWriteQueue';
import { DATABASE_URL, describeEachBackend } from './databases.testing';

describeEachBackend('storage', 'storage', (t) => {
  const { name } = t;

  it('migrates once and is idempotent', async () => {
    expect(await schemaVersion(t.db)).toBe(MIGRATIONS.at(-1)!.version);
    expect(await migrate(t.db)).toEqual([]);
    const tables = await selectRows<{ table_name: string }>(
      t.db,
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
      [t.schema],
    );
    expect(tables.map((r) => r.table_name)).toEqual([
      'kflow_migrations',
      'market_lifecycle',
      'model_deployments',
      'models',
      'orderbook_deltas',
      'orderbook_snapshots',
      'retrain_decisions',
      'sessions',
      'trades',
      'trading_actions',
      'trading_episodes',
    ]);
  });

  it('bulk inserts are idempotent on the first attempt and on retries', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => [`s-${name}`, i, 'MKT-A', 1000 + i, i % 3 ? 2000 + i : null, 1, 1, i, i % 2 ? 'yes' : 'no', 100 * (i % 90) + 100, i - 25 || 1]);
    await t.db.insertRows(DELTA_TABLE, rows, false);
    // The same rows again (a first attempt that hits duplicates, then a retry) change nothing.
    await t.db.insertRows(DELTA_TABLE, rows.slice(10, 20), false);
    await t.db.insertRows(DELTA_TABLE, rows, true);
    const stored = await selectRows<{ n: unknown; sum: unknown; nulls: unknown }>(
      t.db,
      `SELECT count(*) AS n, sum(delta_centi) AS sum, count(*) FILTER (WHERE ts_ms IS NULL) AS nulls FROM orderbook_deltas WHERE session_id = $1`,
      [`s-${name}`],
    );
    expect(toInt(stored[0]!.n)).toBe(50);
    expect(toInt(stored[0]!.sum)).toBe(rows.reduce((a, r) => a + (r[10] as number), 0));
    expect(toInt(stored[0]!.nulls)).toBe(rows.filter((r) => r[4] === null).length);
  });

  it('stores text and JSON with tabs, newlines and backslashes exactly', async () => {
    const market = 'ODD\tTICKER\\with\nnewline';
    const levels = JSON.stringify([[1700, 552]]);
    await t.db.insertRows(SNAPSHOT_TABLE, [[`odd-${name}`, 1, market, 5, null, 1, null, null, levels, '[]']], false);
    const rows = await selectRows<{ market: string; yes_levels: unknown; no_levels: unknown }>(
      t.db,
      'SELECT market, yes_levels, no_levels FROM orderbook_snapshots WHERE session_id = $1',
      [`odd-${name}`],
    );
    expect(rows).toEqual([{ market, yes_levels: [[1700, 552]], no_levels: [] }]);
  });

  it('refuses live trading episodes at the schema level', async () => {
    await expect(t.db.query(`INSERT INTO trading_episodes (market, mode, started_ms) VALUES ('M', 'live', 1)`)).rejects.toThrow();
  });
});

describe('copyText', () => {
  it('escapes COPY specials and writes NULL as \\N', () => {
    expect(copyText([['a\tb', null, 3, true], ['x\\y\r\n', 'plain', -1.5, false]])).toBe('a\\tb\t\\N\t3\ttrue\nx\\\\y\\r\\n\tplain\t-1.5\tfalse\n');
  });
});

describe('connectPostgres when the server is not there', () => {
  it('fails within seconds with DATABASE_UNAVAILABLE, the reason and what to check (never the password)', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const started = performance.now();
    const error = await connectPostgres({ url: `postgres://kflow:s3cret@127.0.0.1:${port}/kflow` }).then(
      () => undefined,
      (e: unknown) => e as Error & { code: string },
    );
    expect(performance.now() - started).toBeLessThan(5000);
    expect(error?.code).toBe('DATABASE_UNAVAILABLE');
    expect(error?.message).toBe(`PostgreSQL at 127.0.0.1:${port}/kflow: connection refused (connect ECONNREFUSED 127.0.0.1:${port}): is the server running and listening there?`);
  });

  it.skipIf(DATABASE_URL === undefined)('says so when the database does not exist', async () => {
    const url = new URL(DATABASE_URL!);
    url.pathname = '/kflow_no_such_database';
    await expect(connectPostgres({ url: url.toString() })).rejects.toMatchObject({
      code: 'DATABASE_UNAVAILABLE',
      message: expect.stringMatching(/database "kflow_no_such_database" does not exist: create it \(createdb\)/),
    });
  });
});
