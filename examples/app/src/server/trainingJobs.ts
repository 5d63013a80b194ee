import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { writeCheckpoint } from '@kflow/agents';
import { type IngestDatabase, createSessionLoader } from '@kflow/ingest';
import { KflowError, type SessionData } from '@kflow/orderbook';
import { registerCheckpoint } from '../commands/models';
import type { TrainingJobView, TrainingMessage, TrainingProgress } from './protocol';
import type { TrainingWorkerInput, TrainingWorkerMessage } from './trainingWorker';

export type TrainingErrorCode = 'NO_SESSIONS' | 'JOB_NOT_FOUND' | 'JOB_NOT_RUNNING';

/**
 * The training worker's entry. From sources (the workspace, run through tsx) worker threads do not inherit
 * the TypeScript loader, so a small boot file registers tsx and resolves `@kflow/*` to their sources; the
 * built CLI (`dist/cli.js`) ships the worker as plain JavaScript next to itself (`dist/trainingWorker.js`).
 */
const TRAINING_WORKER: { readonly url: URL; readonly options: { readonly execArgv?: string[] } } = import.meta.url.endsWith('.ts')
  ? { url: new URL('./trainingWorker.boot.mjs', import.meta.url), options: { execArgv: ['--conditions=@kflow/source'] } }
  : { url: new URL('./trainingWorker.js', import.meta.url), options: {} };

interface Job {
  view: TrainingJobView;
  worker: Worker | undefined;
  /** The worker sent its checkpoint (it exits right after, while the checkpoint is still being saved). */
  delivered: boolean;
}

export interface TrainingJobsOptions {
  readonly db: IngestDatabase;
  /** Where checkpoints go (`<dir>/models/…`). */
  readonly dir: string;
  readonly publish: (message: TrainingMessage) => void;
}

/**
 * Training runs started through the API: sessions loaded from the database here (the one owner of an
 * embedded database), the training itself in a worker thread, the checkpoint written and optionally
 * registered when it ends. Progress goes to the training stream.
 */
export class TrainingJobs {
  private readonly jobs = new Map<string, Job>();
  private next = 1;

  constructor(private readonly options: TrainingJobsOptions) {}

  get running(): number {
    let n = 0;
    for (const j of this.jobs.values()) if (j.view.state === 'running') n++;
    return n;
  }

  list(): TrainingJobView[] {
    return [...this.jobs.values()].map((j) => j.view).reverse();
  }

  get(id: string): TrainingJobView {
    const job = this.jobs.get(id);
    if (job === undefined) throw new KflowError<TrainingErrorCode>('JOB_NOT_FOUND', `no training job ${id}`);
    return job.view;
  }

  async start(o: { readonly sessions?: readonly string[] | undefined; readonly timesteps: number; readonly seed: number; readonly register?: string | undefined }): Promise<TrainingJobView> {
    const loader = createSessionLoader({ db: this.options.db });
    let ids = o.sessions;
    if (ids === undefined) {
      const newest = (await loader.list()).find((s) => s.status === 'completed');
      if (newest === undefined) throw new KflowError<TrainingErrorCode>('NO_SESSIONS', 'no completed session to train on: collect one first');
      ids = [newest.id];
    }
    const sessions: SessionData[] = [];
    for (const id of ids) sessions.push(await loader.load(id));
    const id = `train-${this.next++}`;
    const job: Job = {
      view: { id, source: 'server', state: 'running', sessions: ids, timesteps: o.timesteps, seed: o.seed, startedMs: Date.now(), endedMs: null, progress: null, result: null, error: null },
      worker: undefined,
      delivered: false,
    };
    this.jobs.set(id, job);
    const input: TrainingWorkerInput = { sessions, timesteps: o.timesteps, seed: o.seed };
    const worker = new Worker(TRAINING_WORKER.url, { workerData: input, ...TRAINING_WORKER.options });
    job.worker = worker;
    worker.on('message', (m: TrainingWorkerMessage) => void this.onMessage(job, m, o.register));
    worker.on('error', (error) => this.finish(job, 'failed', { error: error.message }));
    worker.on('exit', (code) => {
      if (job.view.state === 'running' && !job.delivered) this.finish(job, 'failed', { error: `the training worker exited with code ${code}` });
    });
    this.options.publish({ type: 'status', job: job.view });
    return job.view;
  }

  async stop(id: string): Promise<TrainingJobView> {
    const job = this.jobs.get(id);
    if (job === undefined) throw new KflowError<TrainingErrorCode>('JOB_NOT_FOUND', `no training job ${id}`);
    if (job.view.state !== 'running') throw new KflowError<TrainingErrorCode>('JOB_NOT_RUNNING', `training job ${id} is ${job.view.state}`);
    this.finish(job, 'stopped', {});
    await job.worker?.terminate();
    return job.view;
  }

  async close(): Promise<void> {
    for (const job of this.jobs.values()) if (job.view.state === 'running') await this.stop(job.view.id);
  }

  private async onMessage(job: Job, m: TrainingWorkerMessage, register: string | undefined): Promise<void> {
    if (job.view.state !== 'running') return;
    const id = job.view.id;
    switch (m.kind) {
      case 'progress': {
        const losses: Record<string, number> = {};
        for (const [k, v] of Object.entries(m.metrics)) if (k.startsWith('losses/')) losses[k.slice(7)] = v;
        const progress: TrainingProgress = { timesteps: m.timesteps, sps: m.metrics['charts/SPS'] ?? null, episodeReturn: job.view.progress?.episodeReturn ?? null, losses };
        job.view = { ...job.view, progress };
        this.options.publish({ type: 'progress', jobId: id, progress });
        return;
      }
      case 'episode':
        job.view = { ...job.view, progress: { ...(job.view.progress ?? { timesteps: m.timesteps, sps: null, losses: {} }), episodeReturn: m.episodeReturn } };
        this.options.publish({ type: 'episode', jobId: id, timesteps: m.timesteps, episodeReturn: m.episodeReturn });
        return;
      case 'eval':
        this.options.publish({ type: 'eval', jobId: id, episodes: m.episodes, meanPnl: m.meanPnl, sharpe: m.sharpe, winRate: m.winRate });
        return;
      case 'failed':
        return this.finish(job, 'failed', { error: m.message });
      case 'done': {
        job.delivered = true;
        try {
          const dir = resolve(this.options.dir, 'models', `${register ?? 'trained'}-${id}-${Date.now()}`);
          await writeCheckpoint(dir, m.checkpoint);
          const registered = register === undefined ? undefined : (await registerCheckpoint(this.options.db, dir, register)).model;
          this.finish(job, 'completed', { result: { ...m.result, checkpointPath: dir, ...(registered ? { registered: { id: registered.id, name: registered.name, version: registered.version } } : {}) } });
        } catch (error) {
          this.finish(job, 'failed', { error: error instanceof Error ? error.message : String(error) });
        }
      }
    }
  }

  private finish(job: Job, state: 'completed' | 'failed' | 'stopped', extra: { result?: Readonly<Record<string, unknown>>; error?: string }): void {
    if (job.view.state !== 'running') return;
    job.view = { ...job.view, state, endedMs: Date.now(), result: extra.result ?? null, error: extra.error ?? null };
    this.options.publish({ type: 'status', job: job.view });
  }
}
