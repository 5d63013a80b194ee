import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELTA_TABLE } from './orderbookWriteQueue';
import { selectRows, toInt, type SqlValue } from './queryable';
import { DATABASE_URL, openTestPostgres, type TestDatabase } from './databases.testing';

/** Counts event-loop turns (one per check phase) until stopped. */
function countTurns(): { readonly now: number; stop(): void } {
  let now = 0;
  let running = true;
  const tick = () => {
    now++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  return {
    get now() {
      return now;
    },
    stop: () => {
      running = false;
    },
  };
}

/** A delta row whose first value calls `onRead` when read (an encoder reads each row's values once, in order). */
function watchedRow(session: string, i: number, onRead: () => void): SqlValue[] {
  const row: SqlValue[] = [session, i, `M${i % 8}`, 1_782_000_000_000 + i, 1_782_000_000_000 + i, 1, 1, i, i % 2 ? 'yes' : 'no', 2000 + (i % 40) * 100, (i % 11) - 5 || 7];
  Object.defineProperty(row, 0, { get: () => (onRead(), session) });
  return row;
}

describe.skipIf(DATABASE_URL === undefined)('connectPostgres bulk writes', () => {
  let opened: TestDatabase | undefined;
  beforeAll(async () => {
    opened = await openTestPostgres('copy');
  });
  afterAll(async () => {
    await opened?.dispose();
  });

  it('encode a large batch a slice per event-loop turn, so a socket handler is never kept waiting for the whole batch', async () => {
    const rowCount = 20_000;
    const turns = countTurns();
    const rowsPerTurn = new Map<number, number>();
    const rows = Array.from({ length: rowCount }, (_, i) => watchedRow('slices', i, () => rowsPerTurn.set(turns.now, (rowsPerTurn.get(turns.now) ?? 0) + 1)));
    try {
      await opened!.db.insertRows(DELTA_TABLE, rows, false);
    } finally {
      turns.stop();
    }
    // A 64 KB slice holds about 1,000 of these rows (the batch is ~1.3 MB of COPY text).
    expect(Math.max(...rowsPerTurn.values())).toBeLessThanOrEqual(2000);
    expect([...rowsPerTurn.values()].reduce((a, b) => a + b, 0)).toBe(rowCount);
    const stored = await selectRows<{ n: unknown }>(opened!.db, 'SELECT count(*) AS n FROM orderbook_deltas WHERE session_id = $1', ['slices']);
    expect(toInt(stored[0]!.n)).toBe(rowCount);
  });
});
