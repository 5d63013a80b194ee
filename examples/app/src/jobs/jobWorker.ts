import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createModelRegistry } from '@kflow/ingest';
import { KflowError } from '@kflow/orderbook';
import type { Job } from 'pg-boss';
import type { StorageOptions } from '../commands/collect';
import { registerCheckpoint } from '../commands/models';
import { userPath } from '../flags';
import type { JobThreadInput, JobThreadMessage } from './jobThread';
import { JOBS_QUEUE, type JobErrorCode, type JobKind, type JobPayload, type JobProgress, type JobQueue } from './queue';

/**
 * The job thread's entry. From sources (run through tsx) worker threads do not inherit the TypeScript
 * loader, so a boot file registers it; the built CLI ships the thread as `dist/jobThread.js`.
 */
const JOB_THREAD: { readonly url: URL; readonly execArgv: string[] | undefined } = import.meta.url.endsWith('.ts')
  ? { url: new URL('./jobThread.boot.mjs', import.meta.url), execArgv: ['--conditions=@kflow/source'] }
  : { url: new URL('./jobThread.js', import.meta.url), execArgv: undefined };

/** What a worker reports as it runs jobs. */
export type JobWorkerEvent =
  | { readonly type: 'started'; readonly id: string; readonly kind: JobKind; readonly attempt: number }
  | { readonly type: 'progress'; readonly id: string; readonly progress: JobProgress }
  | { readonly type: 'completed'; readonly id: string; readonly result: Readonly<Record<string, unknown>> }
  /** `interrupted`: the worker was stopping; the job runs again elsewhere. */
  | { readonly type: 'failed'; readonly id: string; readonly error: string; readonly interrupted: boolean };

/** Options of {@link startJobWorker}. */
export interface JobWorkerOptions {
  readonly queue: JobQueue;
  /** The database the jobs read sessions from: the queue's own (`--db` / `--data-dir`). */
  readonly storage: StorageOptions;
  /** Jobs run at once, each in its own worker thread. */
  readonly concurrency: number;
  /** Where training jobs write checkpoints (`<dir>/<name>-<job id>`). */
  readonly modelsDir: string;
  readonly onEvent?: (event: JobWorkerEvent) => void;
}

/** A running worker (see {@link startJobWorker}). */
export interface JobWorker {
  /** `host:pid`, recorded on every job it runs. */
  readonly name: string;
  /** Jobs running now. */
  readonly running: number;
  /**
   * Stops taking jobs and ends the running ones: each is marked failed for this attempt, so it runs again
   * (from the start) on a worker that is still there. Does not close the queue.
   */
  stop(): Promise<void>;
}

/** A job's error, with the worker that ran it (pg-boss stores the error's own properties as the job's output). */
function jobError(code: JobErrorCode, message: string, worker: string): KflowError<JobErrorCode> & { worker: string } {
  return Object.assign(new KflowError<JobErrorCode>(code, message), { worker });
}

/** The checkpoint an eval job names: a directory, `NAME@VERSION`, or `NAME` (its newest ready or deployed version). */
async function evalCheckpoint(queue: JobQueue, model: string): Promise<string> {
  if (existsSync(userPath(model))) return userPath(model);
  const at = model.lastIndexOf('@');
  const name = at > 0 ? model.slice(0, at) : model;
  const version = at > 0 ? Number(model.slice(at + 1)) : undefined;
  const registry = createModelRegistry({ db: queue.db });
  const found = version === undefined ? await registry.latest(name) : (await registry.list(name)).find((m) => m.version === version);
  if (found === undefined) throw new KflowError<JobErrorCode>('MODEL_NOT_FOUND', `no checkpoint directory or registered model ${model} (kflow models list)`);
  return found.checkpointPath;
}

/**
 * Runs jobs from the queue, each in a worker thread of this process, at most `concurrency` at once. A
 * training job writes its checkpoint to `<modelsDir>/<name>-<job id>` (a retry rewrites the same
 * directory) and registers it with the job's id as idempotency key, so a job retried after its worker died
 * between registering and reporting completion still registers exactly one model. Progress is stored in
 * the job's output about once a second.
 *
 * @example
 * const queue = await openJobQueue({ dataDir: 'kflow-data', superviseIntervalSeconds: 5 });
 * const worker = await startJobWorker({ queue, storage: { dataDir: 'kflow-data' }, concurrency: 2, modelsDir: 'kflow-models' });
 */
export async function startJobWorker(options: JobWorkerOptions): Promise<JobWorker> {
  const { queue } = options;
  const name = `${hostname()}:${process.pid}`;
  const threads = new Set<Worker>();
  let stopping = false;
  const emit = (event: JobWorkerEvent) => options.onEvent?.(event);

  async function run(job: Job<JobPayload> & { retryCount: number }): Promise<Readonly<Record<string, unknown>>> {
    const payload = job.data;
    if (stopping) throw jobError('JOB_INTERRUPTED', `worker ${name} is stopping`, name);
    emit({ type: 'started', id: job.id, kind: payload.kind, attempt: job.retryCount + 1 });
    await queue.report(job.id, { worker: name });
    try {
      const checkpointDir =
        payload.kind === 'train' ? resolve(userPath(options.modelsDir), `${payload.register ?? 'trained'}-${job.id}`) : await evalCheckpoint(queue, payload.model);
      const result = await runThread(job.id, { payload, storage: options.storage, checkpointDir });
      let model: Readonly<Record<string, unknown>> | undefined;
      if (payload.kind === 'train' && payload.register !== undefined) {
        const summary = result.summary as { inSample?: unknown; heldOut?: unknown };
        const performance = { inSample: summary.inSample, ...(summary.heldOut === undefined ? {} : { heldOut: summary.heldOut }) };
        const registered = await registerCheckpoint(queue.db, checkpointDir, payload.register, { performance, idempotencyKey: `job:${job.id}` });
        model = { id: registered.model.id, name: registered.model.name, version: registered.model.version };
      }
      const out = { ...result, ...(model === undefined ? {} : { model }) };
      emit({ type: 'completed', id: job.id, result: out });
      return { worker: name, result: out };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      emit({ type: 'failed', id: job.id, error: message, interrupted: stopping });
      throw error instanceof KflowError ? Object.assign(error, { worker: name }) : jobError('JOB_FAILED', message, name);
    }
  }

  function runThread(id: string, input: JobThreadInput): Promise<Readonly<Record<string, unknown>>> {
    return new Promise((done, fail) => {
      const thread = new Worker(JOB_THREAD.url, { workerData: input, ...(JOB_THREAD.execArgv === undefined ? {} : { execArgv: JOB_THREAD.execArgv }) });
      threads.add(thread);
      let settled = false;
      const settle = (f: () => void) => {
        if (settled) return;
        settled = true;
        threads.delete(thread);
        f();
      };
      thread.on('message', (m: JobThreadMessage) => {
        if (m.kind === 'progress') {
          emit({ type: 'progress', id, progress: m.progress });
          queue.report(id, { worker: name, progress: m.progress }).catch((error: unknown) => process.emitWarning(`job ${id}: progress not stored: ${String(error)}`));
        } else if (m.kind === 'done') settle(() => done(m.result));
        else settle(() => fail(jobError('JOB_FAILED', m.code === undefined ? m.message : `${m.code}: ${m.message}`, name)));
      });
      thread.on('error', (error) => settle(() => fail(jobError('JOB_FAILED', error.message, name))));
      thread.on('exit', (code) =>
        settle(() => fail(jobError('JOB_INTERRUPTED', stopping ? `worker ${name} stopped during the job` : `the job's thread exited with code ${code}`, name))),
      );
    });
  }

  await queue.boss.work<JobPayload>(
    JOBS_QUEUE,
    // NOTIFY wakes a worker for a new job; a retried one (its worker died, or its attempt failed) is not
    // announced, so polling stays at 1 s rather than pg-boss's 30 s backstop.
    { localConcurrency: options.concurrency, batchSize: 1, pollingIntervalSeconds: 1, notifyPollingIntervalSeconds: 1, includeMetadata: true },
    ([job]) => run(job!),
  );

  return {
    name,
    get running() {
      return threads.size;
    },
    async stop() {
      stopping = true;
      await Promise.all([...threads].map((t) => t.terminate()));
      // The handlers reject now; waiting for pg-boss's workers lets it record each as a failed attempt.
      await queue.boss.offWork(JOBS_QUEUE, { wait: true });
    },
  };
}
