import type { CAC } from 'cac';
import { recoverSessions } from '@kflow/ingest';
import { positiveNumber } from '../flags';
import { printJson } from '../output';
import { recoveredAnything, recoveryLines } from '../recoveryReport';
import { openStorage, type StorageOptions } from './collect';

/**
 * Replays every spill file a collector left for this database (found through the sessions, from any
 * directory), stores the final records it could not, and marks dead collectors' sessions interrupted.
 */
async function recover(o: StorageOptions & { json?: boolean; timeout: string | number }): Promise<void> {
  const closeTimeoutMs = positiveNumber(o.timeout, 'timeout') * 1000; // refused before anything is opened
  const { db, where } = await openStorage(o);
  try {
    const report = await recoverSessions({ db, closeTimeoutMs });
    if (o.json) printJson({ storage: where, ...report });
    else console.log(recoveredAnything(report) ? recoveryLines(report).join('\n') : `nothing to recover in ${where}`);
    // Rows still waiting (the database failed again) are not done.
    if (report.spills.some((s) => !s.complete)) process.exitCode = 1;
  } finally {
    await db.close();
  }
}

export function registerRecover(cli: CAC): void {
  cli
    .command('recover', 'Store the rows and session records that collectors left in spill files (after an outage or a crash)')
    .option('--db <url>', 'PostgreSQL connection string (default: PGlite in --data-dir)')
    .option('--data-dir <dir>', 'PGlite data directory (default kflow-data)')
    .option('--timeout <seconds>', 'How long the database gets to take each spill file (a large spill replays at the database\'s write speed)', { default: '600' })
    .option('--json', 'Print one JSON object')
    .action((options: StorageOptions & { json?: boolean; timeout: string | number }) => recover(options));
}
