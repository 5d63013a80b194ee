import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModelRegistry } from '@kflow/ingest';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.testing';
import { openJobQueue } from '../jobs/queue';
import { listDecisions } from '../retrain';
import { registerCollect } from './collect';
import { registerRetrain } from './retrain';
import { webhookReceiver } from '../webhookReceiver.testing';

const dir = mkdtempSync(join(tmpdir(), 'kflow-retrain-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kflow retrain', () => {
  it('prints the documented JSON, archives a refused candidate, stores the decision, sends job failures to webhooks, and says when sessions are missing', async () => {
    const dataDir = join(dir, 'data');
    for (const seed of ['1', '2']) {
      await runCli([registerCollect], ['collect', '--source', 'sim', '--preset', 'calm', '--edge', '0', '--seed', seed, '--sim-markets', '2', '--sim-minutes', '10', '--data-dir', dataDir, '--json']);
    }
    const config = join(dir, 'small.json');
    writeFileSync(config, JSON.stringify({ ppo: { nSteps: 64, batchSize: 64, nEpochs: 2 }, policy: { hiddenSizes: [8] }, nEnvs: 2, env: { episodeSteps: 50 } }));
    const args = ['retrain', '--name', 'r', '--data-dir', dataDir, '--models-dir', join(dir, 'models'), '--config', config, '--timesteps', '2048', '--episodes', '20'];
    const out = await runCli([registerRetrain], [...args, '--train-sessions', '1', '--eval-sessions', '1', '--json']);
    const decision = JSON.parse(out.trim()) as Record<string, unknown>;
    expect(Object.keys(decision)).toEqual(['candidate', 'deployed', 'promoted', 'pairedT', 'candidatePnl', 'deployedPnl', 'episodes', 'jobIds']);
    // Nothing deployed: the candidate had to beat holding (0 per episode) on sessions without edge, and did not.
    expect(decision).toMatchObject({ candidate: { version: 1 }, deployed: null, promoted: false, deployedPnl: 0, episodes: 20 });
    expect(decision.jobIds).toHaveLength(2);

    const queue = await openJobQueue({ dataDir });
    try {
      expect((await createModelRegistry({ db: queue.db }).list('r')).map((m) => m.status)).toEqual(['archived']);
      const [stored] = await listDecisions(queue, 'r');
      expect(stored).toMatchObject({ candidate: decision.candidate, promoted: false, pairedT: decision.pairedT, threshold: 2, jobIds: decision.jobIds });
      expect(stored!.trainSessions).toHaveLength(1);
      expect(stored!.evalSessions).toHaveLength(1);
      expect(stored!.trainSessions[0]).not.toBe(stored!.evalSessions[0]);
    } finally {
      await queue.close();
    }

    // A train job that fails (every attempt) fails the cycle, and the webhook hears it.
    const hook = await webhookReceiver();
    try {
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, JSON.stringify({ ppo: { nSteps: 64, notAHyperparameter: 1 } }));
      const failing = ['retrain', '--name', 'r', '--data-dir', dataDir, '--models-dir', join(dir, 'models'), '--config', bad, '--train-sessions', '1', '--eval-sessions', '1'];
      await expect(runCli([registerRetrain], [...failing, '--webhook', hook.url])).rejects.toThrow(/train job .* failed: .*notAHyperparameter is not a PPO hyperparameter/);
      expect(hook.received.map((r) => r.headers['x-kflow-event'])).toEqual(['job_failure']);
      expect(JSON.parse(hook.received[0]!.body)).toMatchObject({ kind: 'job_failure', data: { name: 'r' } });
    } finally {
      await hook.close();
    }

    await expect(runCli([registerRetrain], [...args, '--train-sessions', '2', '--eval-sessions', '1'])).rejects.toThrow(
      'retraining needs 3 finished sessions (2 to train on, 1 to evaluate on), the database has 2: record more with kflow collect',
    );
    await expect(runCli([registerRetrain], [...args, '--train-sessions', '1'])).rejects.toThrow(/--eval-sessions must be a whole number/);
    await expect(runCli([registerRetrain], ['retrain', '--data-dir', dataDir])).rejects.toThrow(/--name NAME is required/);
  }, 180_000);
});
