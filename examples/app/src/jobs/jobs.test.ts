import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModelRegistry, createSessionLoader } from '@kflow/ingest';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliProcess, runCli, spawnCli } from '../cli.testing';
import { registerCollect } from '../commands/collect';
import { registerJobs } from '../commands/jobs';
import { DATABASE_URL } from '../paperTrading.testing';
import { createScratchDatabase } from '../scratchDatabase';
import { until } from '../wait.testing';
import { startJobWorker } from './jobWorker';
import { type JobView, openJobQueue } from './queue';

const dir = mkdtempSync(join(tmpdir(), 'kflow-jobs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A small, fast Kalshi setup: 20,000–35,000 steps a second on an idle core. */
const config = { ppo: { nSteps: 64, batchSize: 64, nEpochs: 2 }, policy: { hiddenSizes: [8] }, nEnvs: 2, env: { episodeSteps: 50 } };

interface Backend {
  readonly name: string;
  readonly skip: boolean;
  /** The `--db` / `--data-dir` flags of a fresh database, and how to remove it. */
  open(): Promise<{ flags: string[]; storage: { db?: string; dataDir?: string }; dispose(): Promise<void> }>;
}

const BACKENDS: readonly Backend[] = [
  {
    name: 'pglite',
    skip: false,
    async open() {
      const dataDir = join(dir, 'pglite');
      return { flags: ['--data-dir', dataDir], storage: { dataDir }, dispose: async () => {} };
    },
  },
  {
    name: 'postgres',
    skip: DATABASE_URL === undefined,
    async open() {
      // A database of its own: the CLI keeps kflow's tables in schema `kflow` and pg-boss's in `kflow_jobs`.
      const scratch = await createScratchDatabase(DATABASE_URL!, 'kflow_jobs');
      return { flags: ['--db', scratch.url], storage: { db: scratch.url }, dispose: () => scratch.drop() };
    },
  },
];

/** The JSON events a `kflow worker --json` printed so far. */
const events = (w: CliProcess) => w.lines.map((l) => JSON.parse(l) as { type: string; id?: string; worker?: string });
const ended = (j: JobView) => j.state === 'completed' || j.state === 'failed';

/** On PGlite every query of the test shares the one connection with the workers: poll it gently. */
const POLL_MS = 250;

describe.each(BACKENDS)('jobs on $name', (backend) => {
  it.skipIf(backend.skip)(
    'two workers share the jobs; one killed mid-job: its job runs again on the other and registers once; a failing job is listed failed',
    async () => {
      const db = await backend.open();
      const models = join(dir, `models-${backend.name}`);
      await runCli([registerCollect], ['collect', '--source', 'sim', '--preset', 'calm', '--sim-markets', '2', '--sim-minutes', '10', ...db.flags, '--json']);
      // This process stays the embedded database's owner, so killing a worker never kills the database.
      const queue = await openJobQueue({ ...db.storage, superviseIntervalSeconds: 2 });
      const workers: CliProcess[] = [];
      try {
        for (let i = 0; i < 2; i++) workers.push(spawnCli(['worker', ...db.flags, '--models-dir', models, '--json']));
        await until('both workers ready', () => workers.every((w) => events(w).some((e) => e.type === 'ready')), 60_000, POLL_MS);
        const names = workers.map((w) => events(w).find((e) => e.type === 'ready')!.worker!);

        const [session] = await createSessionLoader({ db: queue.db }).list();
        const sessions = [session!.id];
        const failing = await queue.submit({ kind: 'eval', model: 'missing@1', sessions, episodes: 3, seed: 0 });
        const trains = [
          await queue.submit({ kind: 'train', sessions, config, timesteps: 60_000, seed: 1, register: 'shared' }),
          await queue.submit({ kind: 'train', sessions, config, timesteps: 60_000, seed: 2, register: 'shared' }),
        ];

        // Kill the first worker that reports training progress (SIGKILL: no chance to hand its job back). Its
        // first report comes after 128 steps; 60,000 steps leave seconds to kill it mid-job.
        let victim = -1;
        await until('training progress', () => (victim = workers.findIndex((w) => events(w).some((e) => e.type === 'progress'))) >= 0, 90_000, POLL_MS);
        const killedJob = events(workers[victim]!).find((e) => e.type === 'progress')!.id!;
        workers[victim]!.child.kill('SIGKILL');
        await workers[victim]!.exited;
        const survivor = names[1 - victim]!;

        await until('every job ended', async () => (await Promise.all([failing, ...trains].map((id) => queue.get(id)))).every(ended), 150_000, POLL_MS);
        const killed = await queue.get(killedJob);
        expect(killed).toMatchObject({ state: 'completed', attempts: 2, worker: survivor, result: { model: { name: 'shared' } } });
        const other = await queue.get(trains.find((id) => id !== killedJob)!);
        expect(other).toMatchObject({ state: 'completed', attempts: 1, result: { model: { name: 'shared' } } });
        // Both workers took jobs.
        for (const w of workers) expect(events(w).some((e) => e.type === 'started')).toBe(true);
        // One registration per job, whatever was retried.
        const registered = await createModelRegistry({ db: queue.db }).list('shared');
        expect(registered.map((m) => m.checkpointPath).sort()).toEqual(trains.map((id) => join(models, `shared-${id}`)).sort());
        expect((killed.result as { model: { id: number } }).model.id).toBe(registered.find((m) => m.checkpointPath.endsWith(killedJob))!.id);

        const failed = await queue.get(failing);
        expect(failed).toMatchObject({ state: 'failed', attempts: 3 });
        expect(failed.error).toMatch(/no checkpoint directory or registered model missing@1/);

        // The CLI: an eval job of the registered name, waited for; then the list.
        const [added] = (await runCli([registerJobs], ['jobs', 'add', 'eval', '--model', 'shared@2', '--session', 'latest', '--episodes', '3', '--wait', '--json', ...db.flags]))
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { job: JobView });
        expect(added!.job).toMatchObject({ kind: 'eval', state: 'completed', worker: survivor, result: { summary: { episodes: 3 } } });
        const { jobs } = JSON.parse(await runCli([registerJobs], ['jobs', '--json', ...db.flags])) as { jobs: JobView[] };
        expect(jobs.map((j) => [j.kind, j.state]).sort()).toEqual([
          ['eval', 'completed'],
          ['eval', 'failed'],
          ['train', 'completed'],
          ['train', 'completed'],
        ]);
        expect(jobs.every((j) => j.createdMs > 0 && j.startedMs !== null && j.endedMs !== null && j.worker !== null)).toBe(true);
      } finally {
        for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
        await Promise.all(workers.map((w) => w.exited));
        await queue.close();
        await db.dispose();
      }
    },
    300_000,
  );
});

describe('jobs in this process', () => {
  it('a retry of a job whose first attempt registered its model registers nothing new (worker threads of this process)', async () => {
    const dataDir = join(dir, 'in-process');
    await runCli([registerCollect], ['collect', '--source', 'sim', '--preset', 'calm', '--sim-markets', '2', '--sim-minutes', '10', '--data-dir', dataDir, '--json']);
    const queue = await openJobQueue({ dataDir, superviseIntervalSeconds: 2 });
    try {
      const [session] = await createSessionLoader({ db: queue.db }).list();
      const id = await queue.submit({ kind: 'train', sessions: [session!.id], config, timesteps: 2000, seed: 0, register: 'once' });
      // What a first attempt leaves when its worker dies after registering and before the job is marked done.
      const registry = createModelRegistry({ db: queue.db });
      const first = await registry.register({ name: 'once', architecture: 'mlp 8 tanh', checkpointPath: 'first-attempt', featureSetVersion: 'x', status: 'ready', idempotencyKey: `job:${id}` });
      const worker = await startJobWorker({ queue, storage: { dataDir }, concurrency: 1, modelsDir: join(dir, 'models-in-process') });
      try {
        await until('the job ended', async () => ended(await queue.get(id)), 60_000, POLL_MS);
      } finally {
        await worker.stop();
      }
      expect(await queue.get(id)).toMatchObject({ state: 'completed', attempts: 1, result: { model: { id: first.id, version: 1 } } });
      expect((await registry.list('once')).map((m) => m.id)).toEqual([first.id]);
    } finally {
      await queue.close();
    }
  }, 120_000);
});
