// Retrain, gate, promote: a candidate trained on fresh sessions replaces the deployed model only if it
// earns more on sessions neither has seen, by a paired, market-clustered t-test.
import { createModelRegistry, createSessionLoader, type ModelRecord, type SessionSummary } from '@kflow/ingest';
import { KflowError } from '@kflow/orderbook';
import { clusteredT } from './commands/learningCheck';
import type { JobPayload, JobQueue, JobView } from './jobs/queue';
import type { ModelRef, RetrainDecisionView } from './server/protocol';
import type { Webhooks } from './webhooks';

/** What `kflow retrain --json` prints and the loop stores, shows (`/rl/retrain/decisions`) and sends. */
export type RetrainDecision = RetrainDecisionView;

/** Options of {@link retrain}. */
export interface RetrainOptions {
  /** The queue the train and eval jobs go to; its database holds the sessions and the registry. */
  readonly queue: JobQueue;
  /** Registry name: the candidate becomes its next version; its deployment is the model to beat. */
  readonly name: string;
  /** Train on the newest this many finished sessions after the evaluation ones. */
  readonly trainSessions: number;
  /** Evaluate candidate and deployed model on the newest this many finished sessions. */
  readonly evalSessions: number;
  /** Parts of the Kalshi setup to override (a `kflow train --config` object). */
  readonly config?: Readonly<Record<string, unknown>>;
  readonly timesteps?: number;
  readonly seed: number;
  /** Evaluation episodes (the same ones for both models). */
  readonly episodes: number;
  /** Promote only when the paired t exceeds this (default 2). */
  readonly threshold: number;
  readonly webhooks?: Webhooks;
  /** Told about each job as it is queued. */
  readonly onJob?: (id: string, payload: JobPayload) => void;
}

export type RetrainErrorCode = 'NOT_ENOUGH_SESSIONS' | 'JOB_FAILED' | 'EVALUATION_MISMATCH';

/** Finished sessions, newest first: completed, or interrupted (their data is final up to where it ends). */
function finished(list: readonly SessionSummary[]): SessionSummary[] {
  return list.filter((s) => s.status === 'completed' || s.status === 'interrupted');
}

/** Waits until job `id` completed and returns its result; a failed job is a `JOB_FAILED` error. */
async function resultOf(queue: JobQueue, id: string): Promise<Readonly<Record<string, unknown>>> {
  for (;;) {
    const job: JobView = await queue.get(id);
    if (job.state === 'completed') return job.result ?? {};
    if (job.state === 'failed' || job.state === 'cancelled') {
      throw new KflowError<RetrainErrorCode>('JOB_FAILED', `${job.kind} job ${id} ${job.state}: ${job.error ?? 'no error recorded'} (kflow jobs shows it)`, { details: { jobId: id } });
    }
    await new Promise((done) => setTimeout(done, 250));
  }
}

interface EpisodeResults {
  readonly pnls: readonly number[];
  readonly tickers: readonly string[];
}

function episodesOf(result: Readonly<Record<string, unknown>>, what: string): EpisodeResults {
  const { pnls, tickers } = result as { pnls?: unknown; tickers?: unknown };
  if (!Array.isArray(pnls) || !Array.isArray(tickers) || pnls.length !== tickers.length) {
    throw new KflowError<RetrainErrorCode>('EVALUATION_MISMATCH', `the evaluation of ${what} has no per-episode results`);
  }
  return { pnls: pnls as number[], tickers: tickers as string[] };
}

const mean = (xs: readonly number[]) => (xs.length === 0 ? 0 : xs.reduce((s, x) => s + x, 0) / xs.length);

/**
 * One retrain cycle: trains a candidate on the newest `trainSessions` finished sessions that are not among
 * the newest `evalSessions`, evaluates it and the deployed model on the same episodes of those newest
 * sessions (train and eval run as jobs), promotes the candidate (deploys it) only when its mean PnL after
 * fees is higher with a paired, market-clustered t above `threshold`, and otherwise archives it. The
 * decision is stored (`retrain_decisions`) and sent to the webhooks.
 *
 * @example
 * const decision = await retrain({ queue, name: 'ppo-imbalance', trainSessions: 4, evalSessions: 2, seed: 0, episodes: 200, threshold: 2 });
 */
export async function retrain(o: RetrainOptions): Promise<RetrainDecision> {
  const sessions = finished(await createSessionLoader({ db: o.queue.db }).list());
  const needed = o.trainSessions + o.evalSessions;
  if (sessions.length < needed) {
    throw new KflowError<RetrainErrorCode>(
      'NOT_ENOUGH_SESSIONS',
      `retraining needs ${needed} finished sessions (${o.trainSessions} to train on, ${o.evalSessions} to evaluate on), the database has ${sessions.length}: record more with kflow collect`,
    );
  }
  const evalSessions = sessions.slice(0, o.evalSessions).map((s) => s.id);
  const trainSessions = sessions.slice(o.evalSessions, needed).map((s) => s.id);
  const registry = createModelRegistry({ db: o.queue.db });
  const deployedModel: ModelRecord | undefined = (await registry.deployment(o.name))?.model;
  const jobIds: string[] = [];
  const submit = async (payload: JobPayload) => {
    const id = await o.queue.submit(payload);
    jobIds.push(id);
    o.onJob?.(id, payload);
    return id;
  };
  try {
    const trained = await resultOf(
      o.queue,
      await submit({
        kind: 'train',
        sessions: trainSessions,
        seed: o.seed,
        register: o.name,
        ...(o.config === undefined ? {} : { config: o.config }),
        ...(o.timesteps === undefined ? {} : { timesteps: o.timesteps }),
      }),
    );
    const candidate = trained.model as ModelRef | undefined;
    if (candidate === undefined) throw new KflowError<RetrainErrorCode>('JOB_FAILED', `the train job registered no model under ${o.name}`);
    const evaluate = (version: number) => submit({ kind: 'eval', model: `${o.name}@${version}`, sessions: evalSessions, episodes: o.episodes, seed: o.seed });
    const ids = await Promise.all([evaluate(candidate.version), ...(deployedModel === undefined ? [] : [evaluate(deployedModel.version)])]);
    const [mine, theirs] = await Promise.all(ids.map((id) => resultOf(o.queue, id)));
    const a = episodesOf(mine!, `${o.name} v${candidate.version}`);
    // Without a deployed model the candidate must beat holding (0 per episode) on the same episodes.
    const b = theirs === undefined ? { pnls: a.pnls.map(() => 0), tickers: a.tickers } : episodesOf(theirs, `${o.name} v${deployedModel!.version}`);
    if (a.tickers.length !== b.tickers.length || a.tickers.some((t, i) => t !== b.tickers[i])) {
      throw new KflowError<RetrainErrorCode>('EVALUATION_MISMATCH', 'the two evaluations did not run the same episodes: the paired test needs them to');
    }
    const pairedT = clusteredT(
      a.pnls.map((p, i) => p - b.pnls[i]!),
      a.tickers,
    );
    const promoted = pairedT > o.threshold;
    const decision: RetrainDecision = {
      name: o.name,
      candidate: { id: candidate.id, version: candidate.version },
      deployed: deployedModel === undefined ? null : { id: deployedModel.id, version: deployedModel.version },
      promoted,
      pairedT,
      candidatePnl: mean(a.pnls),
      deployedPnl: mean(b.pnls),
      episodes: a.pnls.length,
      markets: new Set(a.tickers).size,
      threshold: o.threshold,
      trainSessions,
      evalSessions,
      jobIds,
      decidedMs: Date.now(),
    };
    await storeDecision(o.queue, decision);
    if (promoted) await registry.deploy(o.name, candidate.version);
    else await registry.setStatus(candidate.id, 'archived');
    o.webhooks?.send(promoted ? 'promotion' : 'refusal', { ...decision });
    return decision;
  } catch (error) {
    if (error instanceof KflowError && error.code === 'JOB_FAILED') o.webhooks?.send('job_failure', { name: o.name, message: error.message, jobIds });
    throw error;
  }
}

/**
 * Stores a decision once per candidate: a cycle run again for the same candidate (after a crash between
 * storing and deploying, say) finds the stored one instead of deciding twice.
 */
async function storeDecision(queue: JobQueue, d: RetrainDecision): Promise<void> {
  await queue.db.query(
    `INSERT INTO retrain_decisions (name, candidate_id, deployed_id, promoted, paired_t, candidate_pnl, deployed_pnl, episodes, markets, threshold, train_sessions, eval_sessions, job_ids, decided_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (candidate_id) DO NOTHING`,
    [d.name, d.candidate.id, d.deployed?.id ?? null, d.promoted, d.pairedT, d.candidatePnl, d.deployedPnl, d.episodes, d.markets, d.threshold, d.trainSessions, d.evalSessions, d.jobIds, d.decidedMs],
  );
}

/** Stored decisions, newest first (all names, or one). */
export async function listDecisions(queue: Pick<JobQueue, 'db'>, name?: string): Promise<RetrainDecision[]> {
  const rows = (
    await queue.db.query(
      `SELECT d.*, c.version AS candidate_version, p.version AS deployed_version FROM retrain_decisions d
       JOIN models c ON c.id = d.candidate_id LEFT JOIN models p ON p.id = d.deployed_id
       WHERE $1::text IS NULL OR d.name = $1 ORDER BY d.id DESC`,
      [name ?? null],
    )
  ).rows as Record<string, unknown>[];
  return rows.map((r) => ({
    name: String(r.name),
    candidate: { id: Number(r.candidate_id), version: Number(r.candidate_version) },
    deployed: r.deployed_id === null ? null : { id: Number(r.deployed_id), version: Number(r.deployed_version) },
    promoted: r.promoted === true,
    pairedT: Number(r.paired_t),
    candidatePnl: Number(r.candidate_pnl),
    deployedPnl: Number(r.deployed_pnl),
    episodes: Number(r.episodes),
    markets: Number(r.markets),
    threshold: Number(r.threshold),
    trainSessions: r.train_sessions as string[],
    evalSessions: r.eval_sessions as string[],
    jobIds: r.job_ids as string[],
    decidedMs: Number(r.decided_ms),
  }));
}
