import { KflowError } from '@kflow/orderbook';
import type { IngestDatabase } from '@kflow/ingest';
import { PgBoss, type ConstructorOptions, type Db, type JobWithMetadata } from 'pg-boss';
import { openStorage, type StorageOptions } from '../commands/collect';

/** What a job does: train (and optionally register) a model, or evaluate one. */
export type JobKind = 'train' | 'eval';

/** A training job: `kflow train` on recorded sessions, its checkpoint optionally registered. */
export interface TrainJobPayload {
  readonly kind: 'train';
  /** Session ids, fixed when the job is submitted (so a retry trains on the same data). */
  readonly sessions: readonly string[];
  /** Held-out session ids evaluated after training. */
  readonly evalSessions?: readonly string[];
  /** The `--config` object (any part of `KALSHI_PPO`), validated as `kflow train --config` validates it. */
  readonly config?: Readonly<Record<string, unknown>>;
  readonly timesteps?: number;
  readonly seed: number;
  /** Registry name: the checkpoint is registered under it (once, even when the job is retried). */
  readonly register?: string;
}

/** An evaluation job: `kflow eval` of a registered model or a checkpoint on recorded sessions. */
export interface EvalJobPayload {
  readonly kind: 'eval';
  /** `NAME` (its newest ready or deployed version), `NAME@VERSION`, or a checkpoint directory. */
  readonly model: string;
  readonly sessions: readonly string[];
  readonly episodes: number;
  readonly seed: number;
}

export type JobPayload = TrainJobPayload | EvalJobPayload;

/** A running job's progress, as its worker last stored it. */
export interface JobProgress {
  readonly timesteps: number;
  readonly totalTimesteps: number;
  readonly sps: number | null;
  readonly episodeReturn: number | null;
  readonly losses: Readonly<Record<string, number>>;
}

/** State of a job, as pg-boss keeps it (`retry`: its last attempt failed or its worker died; it runs again). */
export type JobState = 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';

/** One job as `kflow jobs` lists it. */
export interface JobView {
  readonly id: string;
  readonly kind: JobKind;
  readonly state: JobState;
  /** `host:pid` of the worker that ran (or runs) its latest attempt. */
  readonly worker: string | null;
  /** Attempts started so far. */
  readonly attempts: number;
  readonly createdMs: number;
  readonly startedMs: number | null;
  readonly endedMs: number | null;
  readonly payload: JobPayload;
  readonly progress: JobProgress | null;
  readonly result: Readonly<Record<string, unknown>> | null;
  readonly error: string | null;
}

/** What the job's `output` column holds: progress while it runs, the result or error when it ends. */
export interface JobRunOutput {
  readonly worker?: string;
  readonly progress?: JobProgress;
  readonly result?: Readonly<Record<string, unknown>>;
  readonly message?: string;
}

export type JobErrorCode = 'JOB_NOT_FOUND' | 'JOB_NOT_QUEUED' | 'JOB_FAILED' | 'JOB_INTERRUPTED' | 'MODEL_NOT_FOUND' | 'INVALID_OPTIONS';

/** pg-boss's tables live in their own schema, next to kflow's. */
export const JOBS_SCHEMA = 'kflow_jobs';
/** One queue for both kinds, so a worker's `--concurrency` bounds all the jobs it runs. */
export const JOBS_QUEUE = 'kflow-jobs';

/**
 * Queue policy. A worker sends a heartbeat every 5 s; a job without one for 10 s (pg-boss's minimum: its
 * worker died) goes back to the queue for another worker, at most twice. Training can be long, so the
 * hard time limit is pg-boss's maximum (24 h) less a margin.
 */
const QUEUE_OPTIONS = { retryLimit: 2, heartbeatSeconds: 10, expireInSeconds: 23 * 3600, notify: true } as const;

/** Options of {@link openJobQueue}. */
export interface JobQueueOptions extends StorageOptions {
  /**
   * How often this instance looks for jobs whose worker died (seconds). Workers use 5; a process that
   * only submits or lists jobs does not supervise.
   */
  readonly superviseIntervalSeconds?: number;
}

/** The job queue in kflow's database (PostgreSQL or the embedded PGlite). */
export interface JobQueue {
  /** The database the queue lives in (the registry and sessions are there too). */
  readonly db: IngestDatabase;
  /** `postgres` or `pglite:<dir>`. */
  readonly where: string;
  /** The directory relative paths of this database resolve against (`<data-dir>` for PGlite). */
  readonly dir: string;
  /** The pg-boss instance (workers attach handlers to it). */
  readonly boss: PgBoss;
  /** Enqueues a job; resolves with its id. */
  submit(payload: JobPayload): Promise<string>;
  /** One job; throws `JOB_NOT_FOUND`. */
  get(id: string): Promise<JobView>;
  /** Every job, newest first. */
  list(): Promise<JobView[]>;
  /** Stores a running job's output (its worker and progress); a job that already ended is left alone. */
  report(id: string, output: JobRunOutput): Promise<void>;
  /** Stops pg-boss (running handlers are not waited for) and closes the database. */
  close(): Promise<void>;
}

/** A PostgreSQL error code, if `error` carries one. */
const sqlState = (error: unknown) => (error as { code?: unknown } | null)?.code;

/**
 * pg-boss on kflow's `IngestDatabase`: on PGlite this reaches the directory's owner from any process (its
 * local socket), which pg-boss's own pool cannot. pg-boss also sends parameterless multi-statement
 * scripts (migrations, maintenance under an advisory lock) and reads the rows of every statement; PGlite's
 * `query` refuses those (42601), so they go through `execRows`.
 */
function bossDatabase(db: IngestDatabase & Required<Pick<IngestDatabase, 'execRows'>>): Db {
  return {
    async executeSql(text, values) {
      if (values !== undefined && values.length > 0) return db.query(text, values);
      try {
        return await db.query(text);
      } catch (error) {
        if (sqlState(error) !== '42601') throw error;
        return db.execRows(text);
      }
    },
    ...(db.listen === undefined
      ? {}
      : {
          listen: async (channel: string, onNotification: (payload: string) => void, onReconnect: () => void) => {
            const off = await db.listen!(channel, onNotification);
            onReconnect();
            return { close: off };
          },
        }),
  };
}

const toMs = (d: Date | string | null | undefined) => (d === null || d === undefined ? null : new Date(d).getTime());

function toView(job: JobWithMetadata<JobPayload>): JobView {
  const output = (job.output ?? {}) as JobRunOutput;
  const ended = job.state === 'completed' || job.state === 'failed' || job.state === 'cancelled';
  const startedMs = toMs(job.startedOn);
  return {
    id: job.id,
    kind: job.data.kind,
    state: job.state,
    worker: output.worker ?? null,
    // pg-boss counts a retry when the job is fetched again, so every started job has had retryCount + 1 attempts.
    attempts: startedMs === null ? 0 : job.retryCount + 1,
    createdMs: toMs(job.createdOn)!,
    startedMs,
    endedMs: ended ? toMs(job.completedOn) : null,
    payload: job.data,
    progress: output.progress ?? null,
    result: job.state === 'completed' ? (output.result ?? null) : null,
    error: job.state === 'failed' || job.state === 'retry' ? (output.message ?? null) : null,
  };
}

/** pg-boss ids are UUIDs; anything else cannot name a job (and PostgreSQL would refuse the comparison). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Opens the job queue in the database `--db` / `--data-dir` names (creating pg-boss's schema and the two
 * queues on first use). On PostgreSQL pg-boss keeps its own pool (LISTEN/NOTIFY wakes workers at once);
 * on PGlite it goes through kflow's connection to the directory's owner.
 *
 * @example
 * const queue = await openJobQueue({ dataDir: 'kflow-data' });
 * const id = await queue.submit({ kind: 'train', sessions: ['s1'], seed: 0, register: 'ppo-imbalance' });
 */
export async function openJobQueue(options: JobQueueOptions): Promise<JobQueue> {
  const storage = await openStorage(options);
  const supervise = options.superviseIntervalSeconds !== undefined;
  const common: ConstructorOptions = {
    schema: JOBS_SCHEMA,
    useListenNotify: true,
    supervise,
    schedule: false,
    // Jobs whose heartbeat stopped are failed (and retried) in the monitor pass, which runs at the longer
    // of the two intervals (the monitor's default is 60 s).
    ...(supervise ? { superviseIntervalSeconds: options.superviseIntervalSeconds, monitorIntervalSeconds: options.superviseIntervalSeconds } : {}),
  };
  // openPglite's database always has execRows.
  const { db } = storage;
  const boss =
    options.db !== undefined
      ? new PgBoss({ ...common, connectionString: options.db, application_name: 'kflow-jobs', max: 4 })
      : new PgBoss({ ...common, db: bossDatabase({ ...db, execRows: db.execRows! }), backend: 'pglite' });
  // pg-boss reports maintenance failures as events; an unheard 'error' event would end the process.
  boss.on('error', (error) => process.emitWarning(`job queue: ${error.message}`));
  try {
    await boss.start();
    if ((await boss.getQueue(JOBS_QUEUE)) === null) await boss.createQueue(JOBS_QUEUE, QUEUE_OPTIONS);
  } catch (error) {
    await boss.stop({ graceful: false, close: true }).catch(() => {});
    await storage.db.close();
    throw error;
  }
  const queue: JobQueue = {
    db: storage.db,
    where: storage.where,
    dir: storage.dir,
    boss,
    async submit(payload) {
      const id = await boss.send(JOBS_QUEUE, { ...payload });
      if (id === null) throw new KflowError<JobErrorCode>('JOB_NOT_QUEUED', `the ${payload.kind} job was not queued`);
      return id;
    },
    async get(id) {
      if (!UUID.test(id)) throw new KflowError<JobErrorCode>('JOB_NOT_FOUND', `no job ${id} (kflow jobs lists them)`);
      const [job] = await boss.findJobs<JobPayload>(JOBS_QUEUE, { id });
      if (job !== undefined) return toView(job);
      throw new KflowError<JobErrorCode>('JOB_NOT_FOUND', `no job ${id} (kflow jobs lists them)`);
    },
    async list() {
      const all = (await boss.findJobs<JobPayload>(JOBS_QUEUE)).map(toView);
      return all.sort((a, b) => b.createdMs - a.createdMs || (a.id < b.id ? 1 : -1));
    },
    async report(id, output) {
      // pg-boss writes `output` only when a job ends, so while it runs the column carries its progress.
      await storage.db.query(`UPDATE ${JOBS_SCHEMA}.job SET output = $2::jsonb WHERE id = $1 AND state = 'active'`, [id, JSON.stringify(output)]);
    },
    async close() {
      try {
        await boss.stop({ graceful: false, close: true });
      } finally {
        await storage.db.close();
      }
    },
  };
  return queue;
}
