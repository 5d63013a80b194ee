import { existsSync } from 'node:fs';
import type { CAC } from 'cac';
import { createSessionLoader } from '@kflow/ingest';
import { formatTable, printJson } from '../output';
import { openStorage, type StorageOptions } from './collect';

async function sessions(o: StorageOptions & { json?: boolean }): Promise<void> {
  const { db } = await openStorage(o);
  try {
    const list = await createSessionLoader({ db }).list();
    if (o.json) {
      printJson({ sessions: list });
      return;
    }
    if (list.length === 0) {
      console.log('no sessions recorded yet (run `pnpm kflow collect`)');
      return;
    }
    const rows = list.map((s) => [
      s.id,
      new Date(s.startedMs).toISOString().replace('.000', ''),
      s.endedMs === null ? '-' : `${Math.round((s.endedMs - s.startedMs) / 1000)} s`,
      s.environment,
      // An interrupted session's data ends at its last stored frame (its length runs to there).
      s.lastFrame === null ? s.status : `${s.status} at frame ${s.lastFrame.frameNo}`,
      String(s.markets.length),
      String(s.stored.snapshots),
      String(s.stored.deltas),
      String(s.stored.trades),
      String(s.counts.gaps),
      String(s.counts.reconnects),
    ]);
    console.log(formatTable(['id', 'started', 'length', 'env', 'status', 'markets', 'snapshots', 'deltas', 'trades', 'gaps', 'reconnects'], rows));
    const waiting = list.filter((s) => s.spillPath !== null && s.status !== 'recording' && existsSync(s.spillPath)).map((s) => s.id);
    if (waiting.length > 0) console.log(`\nrows of ${waiting.join(', ')} wait in spill files on this machine: \`kflow recover\` stores them`);
  } finally {
    await db.close();
  }
}

export function registerSessions(cli: CAC): void {
  cli
    .command('sessions', 'List recorded sessions with their statistics')
    .option('--db <url>', 'PostgreSQL connection string (default: PGlite in --data-dir)')
    .option('--data-dir <dir>', 'PGlite data directory (default kflow-data)')
    .option('--json', 'Print one JSON object')
    .action((options: StorageOptions & { json?: boolean }) => sessions(options));
}
