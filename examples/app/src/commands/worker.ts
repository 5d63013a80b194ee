import type { CAC } from 'cac';
import { wholeNumber } from '../flags';
import { type JobWorkerEvent, startJobWorker } from '../jobs/jobWorker';
import { openJobQueue } from '../jobs/queue';
import { printJson } from '../output';
import { untilSignal } from '../untilSignal';
import type { StorageOptions } from './collect';

/** Options of `kflow worker`, as cac parses them. */
export interface WorkerOptions extends StorageOptions {
  concurrency: string;
  modelsDir: string;
  json?: boolean;
}

/** How often a worker looks for jobs whose worker died (a heartbeat older than 10 s). */
const SUPERVISE_SECONDS = 5;

function describe(e: JobWorkerEvent): string {
  switch (e.type) {
    case 'started':
      return `job ${e.id}: ${e.kind} started (attempt ${e.attempt})`;
    case 'progress':
      return `job ${e.id}: ${e.progress.timesteps}/${e.progress.totalTimesteps} steps${e.progress.sps === null ? '' : ` (${Math.round(e.progress.sps)} steps/s)`}`;
    case 'completed': {
      const model = e.result.model as { name: string; version: number } | undefined;
      return `job ${e.id}: completed${model === undefined ? '' : ` (registered ${model.name} v${model.version})`}`;
    }
    case 'failed':
      return `job ${e.id}: failed: ${e.error}`;
  }
}

/**
 * The body of `kflow worker`: runs training and evaluation jobs from the queue in the database it names
 * until Ctrl-C / SIGTERM. Any number of workers, on any machines that reach the database, share the jobs.
 */
export async function runWorker(o: WorkerOptions): Promise<void> {
  const concurrency = wholeNumber(o.concurrency, 'concurrency', 1);
  const queue = await openJobQueue({ ...(o.db === undefined ? {} : { db: o.db }), ...(o.dataDir === undefined ? {} : { dataDir: o.dataDir }), superviseIntervalSeconds: SUPERVISE_SECONDS });
  const signals = untilSignal();
  let completed = 0;
  let failed = 0;
  try {
    const worker = await startJobWorker({
      queue,
      storage: { ...(o.db === undefined ? {} : { db: o.db }), ...(o.dataDir === undefined ? {} : { dataDir: o.dataDir }) },
      concurrency,
      modelsDir: o.modelsDir,
      onEvent: (e) => {
        if (e.type === 'completed') completed++;
        if (e.type === 'failed' && !e.interrupted) failed++;
        if (o.json) printJson(e);
        else console.log(describe(e));
      },
    });
    if (o.json) printJson({ type: 'ready', worker: worker.name, concurrency, where: queue.where });
    else console.log(`worker ${worker.name} takes up to ${concurrency} job(s) at once from ${queue.where} (Ctrl-C stops it)`);
    const reason = await signals.done;
    const interrupted = worker.running;
    await worker.stop();
    const summary = { type: 'stopped', reason, completed, failed, interrupted };
    if (o.json) printJson(summary);
    else console.log(`stopped (${reason}): ${completed} completed, ${failed} failed, ${interrupted} interrupted (they run again on another worker)`);
  } finally {
    signals.dispose();
    await queue.close();
  }
}

export function registerWorker(cli: CAC): void {
  cli
    .command('worker', 'Run training and evaluation jobs from the job queue (any number of workers share it)')
    .option('--db <url>', 'PostgreSQL connection string (default: PGlite in --data-dir)')
    .option('--data-dir <dir>', 'PGlite data directory (default kflow-data)')
    .option('--concurrency <n>', 'Jobs run at once, each in a worker thread', { default: '1' })
    .option('--models-dir <dir>', 'Where training jobs write checkpoints', { default: 'kflow-models' })
    .option('--json', 'Print events as JSON lines')
    .action((o: WorkerOptions) => runWorker(o));
}
