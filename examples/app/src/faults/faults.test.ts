import { beforeAll, describe, expect, it } from 'vitest';
import { FAULT_SIZES } from './harness';
import { type FaultRow, faultPlan, runFaults } from './faults';

// The whole table at its CI size, run once (faults in parallel), then one test per row: a row that did not
// hold fails with its numbers and note. PostgreSQL rows need DATABASE_URL.
const DATABASE_URL = process.env.DATABASE_URL;
let rows: FaultRow[] = [];

describe('kflow faults (CI size)', () => {
  beforeAll(async () => {
    rows = await runFaults({ size: FAULT_SIZES.ci, ...(DATABASE_URL === undefined ? {} : { databaseUrl: DATABASE_URL }) });
  }, 300_000);

  for (const { fault, engine } of faultPlan()) {
    it.skipIf(engine === 'postgres' && DATABASE_URL === undefined)(`${fault}/${engine} holds`, () => {
      const row = rows.find((r) => r.fault === fault && r.engine === engine)!;
      expect(row.held, `sent ${row.sent}, stored ${row.stored}, lost ${row.lost}, bound ${row.bound}: ${row.note}`).toBe(true);
    });
  }
});
