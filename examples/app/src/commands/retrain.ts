import { readFile } from 'node:fs/promises';
import type { CAC } from 'cac';
import { optional, userPath, wholeNumber } from '../flags';
import { startJobWorker } from '../jobs/jobWorker';
import { type JobQueue, openJobQueue } from '../jobs/queue';
import { printJson } from '../output';
import { type RetrainDecision, retrain } from '../retrain';
import { createWebhooks } from '../webhooks';
import type { StorageOptions } from './collect';

/** Options of `kflow retrain`, as cac parses them. */
export interface RetrainCommandOptions extends StorageOptions {
  name?: string;
  trainSessions?: string;
  evalSessions?: string;
  config?: string;
  timesteps?: string;
  seed: string;
  episodes: string;
  threshold: string;
  /** Run the jobs in this process's threads (default) or leave them to `kflow worker`s (`--no-local`). */
  local: boolean;
  modelsDir: string;
  webhook?: string | string[];
  webhookSecret?: string;
  json?: boolean;
}

/** The threshold flag: a finite number. */
export function threshold(value: string): number {
  const t = Number(value);
  if (String(value).trim() === '' || !Number.isFinite(t)) throw new Error(`--threshold must be a number, got "${value}"`);
  return t;
}

/** `--config FILE`: a JSON object (validated by the train job as `kflow train --config` validates it). */
export async function configObject(path: string | undefined): Promise<Readonly<Record<string, unknown>> | undefined> {
  if (path === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(await readFile(userPath(path), 'utf8'));
  } catch (error) {
    throw new Error(`--config ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`--config ${path} must hold a JSON object`);
  return value as Record<string, unknown>;
}

/** The webhook URLs of a repeatable flag. */
export function webhookUrls(flag: string | string[] | undefined): string[] {
  return flag === undefined ? [] : (Array.isArray(flag) ? flag : [flag]).map(String);
}

function describe(d: RetrainDecision): string {
  const against = d.deployed === null ? 'holding (no model deployed)' : `${d.name} v${d.deployed.version}`;
  const figures = `$${d.candidatePnl.toFixed(4)} vs $${d.deployedPnl.toFixed(4)} per episode after fees, paired t ${d.pairedT.toFixed(2)} over ${d.episodes} episodes of ${d.markets} markets`;
  return d.promoted
    ? `promoted ${d.name} v${d.candidate.version} over ${against}: ${figures} (> ${d.threshold}); running actors reload it at their next decision`
    : `refused ${d.name} v${d.candidate.version} (archived); ${against} keeps trading: ${figures} (needs > ${d.threshold})`;
}

/**
 * The body of `kflow retrain`: one retrain cycle (see `retrain`), with its jobs run by a job worker in this
 * process unless `--no-local`. Returns the decision it printed.
 */
export async function runRetrain(o: RetrainCommandOptions): Promise<RetrainDecision> {
  if (o.name === undefined) throw new Error('--name NAME is required: the registry name whose deployed model the candidate must beat');
  const trainSessions = wholeNumber(o.trainSessions ?? '', 'train-sessions', 1);
  const evalSessions = wholeNumber(o.evalSessions ?? '', 'eval-sessions', 1);
  const config = await configObject(o.config);
  const timesteps = optional(o.timesteps, (v) => wholeNumber(v, 'timesteps', 1));
  const storage = { ...(o.db === undefined ? {} : { db: o.db }), ...(o.dataDir === undefined ? {} : { dataDir: o.dataDir }) };
  const webhooks = createWebhooks({ urls: webhookUrls(o.webhook), ...(o.webhookSecret === undefined ? {} : { secret: o.webhookSecret }) });
  const queue: JobQueue = await openJobQueue({ ...storage, ...(o.local ? { superviseIntervalSeconds: 5 } : {}) });
  const worker = o.local ? await startJobWorker({ queue, storage, concurrency: 2, modelsDir: o.modelsDir }) : undefined;
  try {
    const decision = await retrain({
      queue,
      name: String(o.name),
      trainSessions,
      evalSessions,
      ...(config === undefined ? {} : { config }),
      ...(timesteps === undefined ? {} : { timesteps }),
      seed: wholeNumber(o.seed, 'seed', 0),
      episodes: wholeNumber(o.episodes, 'episodes', 1),
      threshold: threshold(o.threshold),
      webhooks,
      onJob: (id, payload) => {
        if (!o.json) console.log(`job ${id}: ${payload.kind}${o.local ? '' : ' (queued for kflow worker)'}`);
      },
    });
    if (o.json) {
      const { candidate, deployed, promoted, pairedT, candidatePnl, deployedPnl, episodes, jobIds } = decision;
      printJson({ candidate, deployed, promoted, pairedT, candidatePnl, deployedPnl, episodes, jobIds });
    } else console.log(describe(decision));
    return decision;
  } finally {
    await worker?.stop();
    await queue.close();
    await webhooks.close();
  }
}

export function registerRetrain(cli: CAC): void {
  cli
    .command('retrain', 'Train a candidate on the newest sessions and deploy it only if it beats the deployed model on sessions neither has seen')
    .option('--name <name>', 'Registry name: the candidate becomes its next version, its deployment is the model to beat')
    .option('--db <url>', 'PostgreSQL connection string (default: PGlite in --data-dir)')
    .option('--data-dir <dir>', 'PGlite data directory (default kflow-data)')
    .option('--train-sessions <k>', 'Train on the newest K finished sessions after the evaluation ones')
    .option('--eval-sessions <m>', 'Evaluate both models on the newest M finished sessions')
    .option('--config <file>', 'JSON overriding parts of the Kalshi setup, as for kflow train')
    .option('--timesteps <n>', 'Training steps (default: the setup\'s)')
    .option('--seed <n>', 'Seed of training and of the evaluation episodes', { default: '0' })
    .option('--episodes <n>', 'Evaluation episodes (the same for both models)', { default: '200' })
    .option('--threshold <t>', 'Promote only when the paired, market-clustered t exceeds this', { default: '2' })
    .option('--no-local', 'Leave the jobs to kflow worker processes instead of running them here')
    .option('--models-dir <dir>', 'Where the candidate\'s checkpoint is written (local jobs)', { default: 'kflow-models' })
    .option('--webhook <url>', 'POST the decision (and job failures) here; repeatable')
    .option('--webhook-secret <secret>', 'Sign webhooks with HMAC-SHA256 (X-Kflow-Signature); default $KFLOW_WEBHOOK_SECRET')
    .option('--json', 'Print the decision as one JSON line')
    .action(async (o: RetrainCommandOptions) => {
      await runRetrain({ ...o, ...(o.webhookSecret === undefined && process.env.KFLOW_WEBHOOK_SECRET !== undefined ? { webhookSecret: process.env.KFLOW_WEBHOOK_SECRET } : {}) });
    });
}
