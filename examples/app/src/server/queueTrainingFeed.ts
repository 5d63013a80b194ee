// Training jobs of the job queue (`kflow retrain`, `kflow loop`, `kflow jobs add`, run by any `kflow worker`)
// in the dashboard's Training view: their progress is read from the queue's table and published on the
// training stream as the server's own jobs are.
import type { IngestDatabase } from '@kflow/ingest';
import { JOBS_QUEUE, JOBS_SCHEMA, type JobProgress, type JobRunOutput, type TrainJobPayload } from '../jobs/queue';
import type { TrainingJobView, TrainingMessage } from './protocol';

/** How often the queue is read. */
const POLL_MS = 1000;
/** Jobs that ended longer ago than this are not listed. */
const RECENT_MS = 24 * 3600_000;

interface JobRow {
  id: string;
  state: string;
  data: TrainJobPayload;
  output: JobRunOutput | null;
  created_on: unknown;
  started_on: unknown;
  completed_on: unknown;
}

const ms = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).getTime());

/**
 * The job as the Training view lists it. pg-boss replaces a job's output (its progress while it runs) with
 * the result when it ends, so the last progress seen (`before`) is kept, with the steps the run reports.
 */
function view(r: JobRow, before: TrainingJobView | undefined): TrainingJobView {
  const reported: JobProgress | undefined = r.output?.progress;
  const state = r.state === 'active' ? 'running' : r.state === 'completed' ? 'completed' : r.state === 'failed' ? 'failed' : r.state === 'cancelled' ? 'stopped' : 'queued';
  const ended = state === 'completed' || state === 'failed' || state === 'stopped';
  const result = state === 'completed' ? (r.output?.result ?? null) : null;
  const finalSteps = (result?.summary as { timesteps?: unknown } | undefined)?.timesteps;
  const last = reported === undefined ? (before?.progress ?? null) : { timesteps: reported.timesteps, sps: reported.sps, episodeReturn: reported.episodeReturn, losses: reported.losses };
  const progress = typeof finalSteps === 'number' ? { ...(last ?? { sps: null, episodeReturn: null, losses: {} }), timesteps: finalSteps } : last;
  return {
    id: r.id,
    source: 'queue',
    state,
    sessions: r.data.sessions,
    timesteps: reported?.totalTimesteps ?? before?.timesteps ?? r.data.timesteps ?? 0,
    seed: r.data.seed,
    startedMs: ms(r.started_on) ?? ms(r.created_on)!,
    endedMs: ended ? ms(r.completed_on) : null,
    progress,
    result,
    error: state === 'failed' ? (r.output?.message ?? null) : null,
  };
}

/** The queue's training jobs, kept current by polling; changes go to `publish` (see the module comment). */
export class QueueTrainingFeed {
  private jobs = new Map<string, TrainingJobView>();
  private readonly timer: ReturnType<typeof setInterval>;
  private polling: Promise<void> | undefined;

  constructor(
    private readonly db: IngestDatabase,
    private readonly publish: (message: TrainingMessage) => void,
  ) {
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    this.timer.unref();
    void this.poll();
  }

  list(): TrainingJobView[] {
    return [...this.jobs.values()];
  }

  get(id: string): TrainingJobView | undefined {
    return this.jobs.get(id);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
  }

  private poll(): Promise<void> {
    this.polling ??= this.read()
      .catch((error: unknown) => process.emitWarning(`training view: the job queue could not be read: ${String(error)}`))
      .finally(() => {
        this.polling = undefined;
      });
    return this.polling;
  }

  private async read(): Promise<void> {
    // The queue's tables exist once a queue was opened on this database.
    const [exists] = (await this.db.query('SELECT to_regclass($1)::text AS t', [`${JOBS_SCHEMA}.job`])).rows as { t: string | null }[];
    if (exists?.t === null || exists?.t === undefined) return;
    const { rows } = await this.db.query(
      `SELECT id::text AS id, state::text AS state, data, output, created_on, started_on, completed_on FROM ${JOBS_SCHEMA}.job
       WHERE name = $1 AND data->>'kind' = 'train' AND (completed_on IS NULL OR completed_on > now() - make_interval(secs => $2))`,
      [JOBS_QUEUE, RECENT_MS / 1000],
    );
    const next = new Map<string, TrainingJobView>();
    for (const row of rows as JobRow[]) {
      const before = this.jobs.get(row.id);
      const job = view(row, before);
      if (before?.state !== job.state) this.publish({ type: 'status', job });
      if (job.progress !== null && job.progress.timesteps !== before?.progress?.timesteps) this.publish({ type: 'progress', jobId: job.id, progress: job.progress });
      next.set(job.id, job);
    }
    this.jobs = next;
  }
}
