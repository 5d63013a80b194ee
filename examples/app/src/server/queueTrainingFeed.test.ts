import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSessionLoader } from '@kflow/ingest';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.testing';
import { registerCollect } from '../commands/collect';
import { startJobWorker } from '../jobs/jobWorker';
import { openJobQueue } from '../jobs/queue';
import { until } from '../wait.testing';
import type { TrainingMessage } from './protocol';
import { QueueTrainingFeed } from './queueTrainingFeed';

const dir = mkdtempSync(join(tmpdir(), 'kflow-feed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the training view of queue jobs', () => {
  it("lists a queue's training job and publishes its status and progress as the server's own jobs", async () => {
    const dataDir = join(dir, 'data');
    await runCli([registerCollect], ['collect', '--source', 'sim', '--preset', 'calm', '--sim-markets', '2', '--sim-minutes', '10', '--data-dir', dataDir, '--json']);
    const queue = await openJobQueue({ dataDir, superviseIntervalSeconds: 5 });
    const messages: TrainingMessage[] = [];
    const feed = new QueueTrainingFeed(queue.db, (m) => messages.push(m));
    try {
      const [session] = await createSessionLoader({ db: queue.db }).list();
      const config = { ppo: { nSteps: 64, batchSize: 64, nEpochs: 2 }, policy: { hiddenSizes: [8] }, nEnvs: 2, env: { episodeSteps: 50 } };
      const id = await queue.submit({ kind: 'train', sessions: [session!.id], config, timesteps: 30_000, seed: 3 });
      await until('the queued job in the feed', () => feed.get(id)?.state === 'queued', 10_000);
      const worker = await startJobWorker({ queue, storage: { dataDir }, concurrency: 1, modelsDir: join(dir, 'models') });
      try {
        await until('the job to complete', () => feed.get(id)?.state === 'completed', 120_000);
      } finally {
        await worker.stop();
      }
      const job = feed.get(id)!;
      expect(job).toMatchObject({ source: 'queue', sessions: [session!.id], seed: 3, timesteps: 30_000, error: null });
      // Whole rollouts: at least the steps asked for.
      expect(job.progress?.timesteps).toBeGreaterThanOrEqual(30_000);
      expect(job.result).not.toBeNull();
      const states = messages.filter((m): m is Extract<TrainingMessage, { type: 'status' }> => m.type === 'status' && m.job.id === id).map((m) => m.job.state);
      expect(states[0]).toBe('queued');
      expect(states.at(-1)).toBe('completed');
      const progress = messages.filter((m): m is Extract<TrainingMessage, { type: 'progress' }> => m.type === 'progress' && m.jobId === id);
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.at(-1)!.progress.timesteps).toBe(job.progress!.timesteps);
    } finally {
      await feed.close();
      await queue.close();
    }
  }, 180_000);
});
