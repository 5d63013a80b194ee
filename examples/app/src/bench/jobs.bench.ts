import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createSessionLoader } from '@kflow/ingest';
import type { StorageOptions } from '../commands/collect';
import { openJobQueue } from '../jobs/queue';
import { createScratchDatabase } from '../scratchDatabase';
import type { Benchmark } from './harness';

type Engine = 'pglite' | 'postgres';

/** Tiny training jobs: what is measured is the queue, the workers and each job's thread, not PPO. */
const JOBS = 12;
const CONFIG = { ppo: { nSteps: 64, batchSize: 64, nEpochs: 2 }, policy: { hiddenSizes: [8] }, nEnvs: 2, env: { episodeSteps: 50 } };
const TIMESTEPS = 2000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `kflow <args>` as another process, run the way this one was (sources through tsx, or the built CLI). */
function kflow(args: readonly string[]): ChildProcess {
  return spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

/** A fresh database holding one recorded session; `dispose` removes it. */
interface Fixture {
  readonly flags: string[];
  readonly storage: StorageOptions;
  dispose(): Promise<void>;
}

async function fixture(engine: Engine): Promise<Fixture> {
  let f: Fixture;
  if (engine === 'pglite') {
    const dir = await mkdtemp(join(tmpdir(), 'kflow-bench-jobs-'));
    f = { flags: ['--data-dir', dir], storage: { dataDir: dir }, dispose: () => rm(dir, { recursive: true, force: true }) };
  } else {
    // A database of its own: the CLI keeps kflow's tables in schema `kflow`, pg-boss's in `kflow_jobs`.
    const scratch = await createScratchDatabase(process.env.DATABASE_URL!, 'kflow_bench_jobs');
    f = { flags: ['--db', scratch.url], storage: { db: scratch.url }, dispose: () => scratch.drop() };
  }
  const collect = kflow(['collect', '--source', 'sim', '--preset', 'calm', '--sim-markets', '2', '--sim-minutes', '10', ...f.flags, '--json']);
  const code = await new Promise<number | null>((resolve) => collect.on('close', resolve));
  if (code !== 0) {
    await f.dispose();
    throw new Error(`kflow collect for the jobs benchmark exited with code ${code}`);
  }
  return f;
}

/**
 * Jobs per minute with `workers` worker processes (concurrency 1 each), from queueing the first job to the
 * last completion; the workers start, and this process opens the queue (the PGlite owner), before.
 */
async function throughput(f: Fixture, workers: number): Promise<number> {
  const queue = await openJobQueue(f.storage);
  const children: ChildProcess[] = [];
  try {
    let ready = 0;
    let completed = 0;
    for (let i = 0; i < workers; i++) {
      const child = kflow(['worker', ...f.flags, '--models-dir', join(tmpdir(), 'kflow-bench-jobs-models'), '--json']);
      children.push(child);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const type = (JSON.parse(line) as { type: string }).type;
        if (type === 'ready') ready++;
        if (type === 'completed') completed++;
      });
    }
    while (ready < workers) await sleep(50);
    const sessions = [(await createSessionLoader({ db: queue.db }).list())[0]!.id];
    const start = performance.now();
    for (let i = 0; i < JOBS; i++) await queue.submit({ kind: 'train', sessions, config: CONFIG, timesteps: TIMESTEPS, seed: i });
    while (completed < JOBS) await sleep(20);
    return (JOBS / (performance.now() - start)) * 60_000;
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode === null ? child.on('close', resolve) : resolve(null)))));
    await queue.close();
  }
}

function jobBenchmarks(engine: Engine): Benchmark[] {
  const where = engine === 'pglite' ? 'PGlite (this process owns it; workers reach it through its socket)' : 'PostgreSQL';
  const name = (workers: number) => `jobs.${engine}.workers${workers}.jobsPerMin`;
  return [1, 2].map(
    (workers): Benchmark => ({
      name: name(workers),
      description: `${JOBS} training jobs of ${TIMESTEPS} steps (tiny network) queued in ${where} and run by ${workers} \`kflow worker\` process(es): jobs per minute`,
      better: 'higher',
      warmupRuns: 0,
      runs: 1,
      ...(workers === 2 ? { baseline: name(1) } : {}),
      ...(engine === 'postgres' ? { skip: () => (process.env.DATABASE_URL ? undefined : 'DATABASE_URL is not set: no PostgreSQL server for the queue') } : {}),
      setup: () => fixture(engine),
      run: (state) => throughput(state as Fixture, workers),
      teardown: (state) => (state as Fixture).dispose(),
    }),
  );
}

export const jobsBenchmarks: Benchmark[] = [...jobBenchmarks('pglite'), ...jobBenchmarks('postgres')];
