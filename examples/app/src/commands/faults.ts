import type { CAC } from 'cac';
import { FAULT_SIZES } from '../faults/harness';
import { type FaultRow, runFaults } from '../faults/faults';
import { formatTable, printJson } from '../output';

interface FaultsOptions {
  full?: boolean;
  only?: string;
  json?: boolean;
}

const cell = (row: FaultRow) => [
  `${row.fault}/${row.engine}`,
  String(row.sent),
  String(row.stored),
  String(row.lost),
  String(row.bound),
  row.skipped !== undefined ? 'skipped' : row.held ? 'yes' : 'NO',
  row.note,
];

async function faults(o: FaultsOptions): Promise<void> {
  const started = performance.now();
  const only = o.only === undefined ? undefined : String(o.only).split(',').map((n) => n.trim()).filter(Boolean);
  const rows = await runFaults({
    size: o.full ? FAULT_SIZES.full : FAULT_SIZES.ci,
    ...(only === undefined ? {} : { only }),
    ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
    // Progress on stderr, one line per decided row: a full run takes several minutes.
    onRow: (row) => {
      if (!o.json) process.stderr.write(`${Math.round((performance.now() - started) / 1000)} s  ${cell(row).slice(0, 6).join('  ')}\n`);
    },
  });
  const ran = rows.filter((r) => r.skipped === undefined);
  const held = ran.filter((r) => r.held).length;
  const failed = ran.length - held;
  if (o.json) printJson({ faults: rows, held, failed, skipped: rows.length - ran.length });
  else {
    console.log(formatTable(['fault', 'sent', 'stored', 'lost', 'bound', 'held', 'note'], rows.map(cell)));
    console.log(`${held} held, ${failed} failed, ${rows.length - ran.length} skipped`);
  }
  if (failed > 0) process.exitCode = 1;
}

export function registerFaults(cli: CAC): void {
  cli
    .command('faults', 'Run the collector under injected faults (signals, crashes, database outages, bad input) and compare frames sent with rows stored')
    .option('--full', 'Full size (a 60 s max-speed run, longer outages); default: the CI size, a few minutes')
    .option('--only <names>', 'Comma-separated faults, or fault/engine (e.g. sigkill,outage-shutdown/postgres)')
    .option('--json', 'Print one JSON object {faults, held, failed, skipped}')
    .action((options: FaultsOptions) => faults(options));
}
