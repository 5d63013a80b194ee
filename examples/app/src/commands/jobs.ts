import { readFile } from 'node:fs/promises';
import type { CAC } from 'cac';
import { createSessionLoader } from '@kflow/ingest';
import { KflowError } from '@kflow/orderbook';
import { selectSessions } from '../dataSources';
import { userPath, wholeNumber } from '../flags';
import { type JobErrorCode, type JobPayload, type JobQueue, type JobView, openJobQueue } from '../jobs/queue';
import { formatTable, printJson } from '../output';
import type { StorageOptions } from './collect';
import { kalshiConfig } from './train';

/** Options of `kflow jobs`, as cac parses them. */
export interface JobsOptions extends StorageOptions {
  session?: string | string[];
  evalSession?: string | string[];
  config?: string;
  timesteps?: string;
  seed: string;
  register?: string;
  model?: string;
  episodes: string;
  wait?: boolean;
  json?: boolean;
}

const USAGE =
  'usage: kflow jobs [list] | show ID | add train --session IDS [--register NAME] [--config FILE] [--timesteps N] | add eval --model NAME[@V]|DIR --session IDS [--wait]';
const WAIT_POLL_MS = 500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Session ids a selector names now (`latest` is fixed at submission, so a retried job trains on the same data). */
async function sessionIds(queue: JobQueue, spec: string | string[] | undefined, flag: string): Promise<string[]> {
  if (spec === undefined) throw new KflowError<JobErrorCode>('INVALID_OPTIONS', `${flag} IDS|latest|latest:N|all is needed (${USAGE})`);
  return selectSessions(await createSessionLoader({ db: queue.db }).list(), spec).map((s) => s.id);
}

/** The payload `kflow jobs add KIND` describes, checked before it is queued. */
async function payloadOf(queue: JobQueue, kind: string | undefined, o: JobsOptions): Promise<JobPayload> {
  const seed = wholeNumber(o.seed, 'seed', 0);
  if (kind === 'train') {
    // The same checks as `kflow train --config` (a bad file fails here rather than on a worker).
    await kalshiConfig({ env: 'CartPole-v1', algo: 'ppo', seed: o.seed, ppoPreset: 'default', ...(o.config === undefined ? {} : { config: o.config }), ...(o.timesteps === undefined ? {} : { timesteps: o.timesteps }) });
    const config = o.config === undefined ? undefined : (JSON.parse(await readFile(userPath(o.config), 'utf8')) as Record<string, unknown>);
    return {
      kind,
      sessions: await sessionIds(queue, o.session, '--session'),
      ...(o.evalSession === undefined ? {} : { evalSessions: await sessionIds(queue, o.evalSession, '--eval-session') }),
      ...(config === undefined ? {} : { config }),
      ...(o.timesteps === undefined ? {} : { timesteps: wholeNumber(o.timesteps, 'timesteps', 1) }),
      seed,
      ...(o.register === undefined ? {} : { register: String(o.register) }),
    };
  }
  if (kind === 'eval') {
    if (o.model === undefined) throw new KflowError<JobErrorCode>('INVALID_OPTIONS', `add eval needs --model NAME[@VERSION] or a checkpoint directory (${USAGE})`);
    return { kind, model: String(o.model), sessions: await sessionIds(queue, o.session, '--session'), episodes: wholeNumber(o.episodes, 'episodes', 1), seed };
  }
  throw new KflowError<JobErrorCode>('INVALID_OPTIONS', `add needs a job kind, train or eval (${USAGE})`);
}

const time = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().replace('.000', '').replace('T', ' ').replace('Z', ''));

function outcome(j: JobView): string {
  if (j.error !== null) return j.error;
  if (j.result !== null) {
    const model = j.result.model as { name: string; version: number } | undefined;
    if (model !== undefined) return `${model.name} v${model.version}`;
    const s = j.result.summary as { meanPnl?: number; inSample?: { meanPnl?: number } } | undefined;
    const pnl = s?.meanPnl ?? s?.inSample?.meanPnl;
    return pnl === undefined ? 'done' : `PnL $${pnl.toFixed(4)}/episode`;
  }
  return j.progress === null ? '' : `${j.progress.timesteps}/${j.progress.totalTimesteps} steps`;
}

/** How long the latest attempt ran (so far, while active). */
function ran(j: JobView): string {
  const end = j.state === 'active' ? Date.now() : j.endedMs;
  return j.startedMs === null || end === null ? '-' : `${((end - j.startedMs) / 1000).toFixed(1)} s`;
}

function printJobs(list: readonly JobView[]): void {
  if (list.length === 0) return console.log('no jobs yet (kflow jobs add train --session latest --register NAME)');
  const rows = list.map((j) => [
    j.id,
    j.kind,
    j.state,
    j.worker ?? '-',
    String(j.attempts),
    time(j.createdMs),
    ran(j),
    outcome(j),
  ]);
  console.log(formatTable(['id', 'kind', 'state', 'worker', 'attempts', 'created', 'ran', 'result'], rows));
}

/** Waits until the job ends; a failed or cancelled job is an error. */
async function waitFor(queue: JobQueue, id: string): Promise<JobView> {
  for (;;) {
    const job = await queue.get(id);
    if (job.state === 'completed') return job;
    if (job.state === 'failed' || job.state === 'cancelled') {
      throw new KflowError<JobErrorCode>('JOB_FAILED', `job ${id} ${job.state}${job.error === null ? '' : `: ${job.error}`}`, { details: { id } });
    }
    await sleep(WAIT_POLL_MS);
  }
}

async function jobs(action: string | undefined, args: readonly string[], o: JobsOptions): Promise<void> {
  const queue = await openJobQueue({ ...(o.db === undefined ? {} : { db: o.db }), ...(o.dataDir === undefined ? {} : { dataDir: o.dataDir }) });
  try {
    switch (action ?? 'list') {
      case 'list': {
        const list = await queue.list();
        return o.json ? printJson({ jobs: list }) : printJobs(list);
      }
      case 'show': {
        if (args[0] === undefined) throw new KflowError<JobErrorCode>('INVALID_OPTIONS', `show needs a job id (${USAGE})`);
        const job = await queue.get(args[0]);
        return o.json ? printJson({ job }) : console.log(JSON.stringify(job, null, 2));
      }
      case 'add': {
        const id = await queue.submit(await payloadOf(queue, args[0], o));
        if (!o.wait) return o.json ? printJson({ id }) : console.log(`queued ${args[0]} job ${id} (kflow worker runs it; kflow jobs lists it)`);
        if (!o.json) console.log(`queued ${args[0]} job ${id}; waiting for a worker to run it`);
        const job = await waitFor(queue, id);
        return o.json ? printJson({ job }) : console.log(`job ${id} completed: ${outcome(job)}`);
      }
      default:
        throw new KflowError<JobErrorCode>('INVALID_OPTIONS', `unknown action "${action}" (${USAGE})`);
    }
  } finally {
    await queue.close();
  }
}

export function registerJobs(cli: CAC): void {
  cli
    .command('jobs [action] [...args]', 'The job queue: list | show ID | add train|eval (kflow worker runs the jobs)')
    .option('--db <url>', 'PostgreSQL connection string (default: PGlite in --data-dir)')
    .option('--data-dir <dir>', 'PGlite data directory (default kflow-data)')
    .option('--session <ids>', 'add: recorded sessions ID[,ID...] | latest | latest:N | all (fixed when the job is queued)')
    .option('--eval-session <ids>', 'add train: held-out sessions evaluated after training')
    .option('--config <file>', 'add train: JSON overriding parts of the Kalshi setup (as kflow train --config)')
    .option('--timesteps <n>', 'add train: env steps to train for')
    .option('--register <name>', 'add train: register the checkpoint under this name (once, even if the job is retried)')
    .option('--model <model>', 'add eval: NAME (newest ready or deployed), NAME@VERSION, or a checkpoint directory')
    .option('--episodes <n>', 'add eval: evaluation episodes', { default: '20' })
    .option('--seed <n>', 'add: seed of the run', { default: '0' })
    .option('--wait', 'add: wait until the job ends and print its result (exit 1 if it failed)')
    .option('--json', 'Print one JSON object')
    .action((action: string | undefined, args: string[], o: JobsOptions) => jobs(action, args, o));
}
