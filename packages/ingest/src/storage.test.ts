import { describe, expect, it } from 'vitest';
import { copyText } from './pg';
import { selectRows, toInt } from './queryable';
import { MIGRATIONS, migrate, schemaVersion } from './schema';
import { DELTA_TABLE, SNAPSHOT_TABLE } from './orderbookWriteQueue';
import { describeEachBackend } from './databases.testing';

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
