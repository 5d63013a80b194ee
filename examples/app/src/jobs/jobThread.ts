/**
 * One job in a worker thread (never on the event loop of the process that runs it, which keeps serving
 * its heartbeats, its API or its actor): the same code as `kflow train` and `kflow eval`, reading sessions
 * from the database the job names. Progress is posted about once a second, the result at the end.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { TrainingEvent } from '@kflow/agents';
import { systemClock } from '@kflow/orderbook';
import type { StorageOptions } from '../commands/collect';
import { runEval } from '../commands/eval';
import { type TrainOptions, kalshiConfig, runTrain } from '../commands/train';
import type { JobPayload, JobProgress } from './queue';

/** What the worker sends the thread. */
export interface JobThreadInput {
  readonly payload: JobPayload;
  readonly storage: StorageOptions;
  /** train: the directory the checkpoint is written to; eval: the checkpoint to evaluate. */
  readonly checkpointDir: string;
}

/** What the thread posts. */
export type JobThreadMessage =
  | { readonly kind: 'progress'; readonly progress: JobProgress }
  | { readonly kind: 'done'; readonly result: Readonly<Record<string, unknown>> }
  | { readonly kind: 'failed'; readonly message: string; readonly code: string | undefined };

const PROGRESS_EVERY_MS = 1000;

const input = workerData as JobThreadInput;
const post = (message: JobThreadMessage) => parentPort!.postMessage(message);
const storage = { ...(input.storage.db === undefined ? {} : { db: input.storage.db }), ...(input.storage.dataDir === undefined ? {} : { dataDir: input.storage.dataDir }) };

async function train(payload: Extract<JobPayload, { kind: 'train' }>): Promise<Readonly<Record<string, unknown>>> {
  await mkdir(input.checkpointDir, { recursive: true });
  let config: string | undefined;
  if (payload.config !== undefined) {
    // Next to the checkpoint: `kflow train --config` validates it, and it records what the job asked for.
    config = join(input.checkpointDir, 'job-config.json');
    await writeFile(config, `${JSON.stringify(payload.config, null, 2)}\n`);
  }
  const options: TrainOptions = {
    ...storage,
    session: [...payload.sessions],
    ...(payload.evalSessions === undefined ? {} : { evalSession: [...payload.evalSessions] }),
    ...(config === undefined ? {} : { config }),
    ...(payload.timesteps === undefined ? {} : { timesteps: String(payload.timesteps) }),
    seed: String(payload.seed),
    env: 'CartPole-v1',
    algo: 'ppo',
    ppoPreset: 'default',
    out: input.checkpointDir,
    quiet: true,
  };
  const totalTimesteps = (await kalshiConfig(options)).totalTimesteps;
  let lastPostMs = 0;
  let episodeReturn: number | null = null;
  const onEvent = (event: TrainingEvent) => {
    if (event.kind === 'episode') {
      episodeReturn = event.metrics['charts/episodic_return'] ?? episodeReturn;
      return;
    }
    const now = systemClock.now();
    if (now - lastPostMs < PROGRESS_EVERY_MS && event.timesteps < totalTimesteps) return;
    lastPostMs = now;
    const losses: Record<string, number> = {};
    for (const [k, v] of Object.entries(event.metrics)) if (k.startsWith('losses/')) losses[k.slice(7)] = v;
    post({ kind: 'progress', progress: { timesteps: event.timesteps, totalTimesteps, sps: event.metrics['charts/SPS'] ?? null, episodeReturn, losses } });
  };
  const summary = await runTrain([], { ...options, onEvent });
  return { checkpointPath: input.checkpointDir, summary };
}

async function evaluate(payload: Extract<JobPayload, { kind: 'eval' }>): Promise<Readonly<Record<string, unknown>>> {
  const run = await runEval([], {
    ...storage,
    model: input.checkpointDir,
    session: [...payload.sessions],
    episodes: String(payload.episodes),
    seed: String(payload.seed),
    env: 'CartPole-v1',
    quiet: true,
  });
  // Per-episode PnLs and markets: a paired comparison of two models on the same episodes needs them.
  return { checkpointPath: input.checkpointDir, summary: run!.summary, pnls: run!.pnls, tickers: run!.tickers };
}

try {
  post({ kind: 'done', result: input.payload.kind === 'train' ? await train(input.payload) : await evaluate(input.payload) });
} catch (error) {
  const code = (error as { code?: unknown } | null)?.code;
  post({ kind: 'failed', message: error instanceof Error ? error.message : String(error), code: typeof code === 'string' ? code : undefined });
}
