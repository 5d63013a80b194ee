import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getEpisode, loadEpisodeActions, createSessionLoader, migrate, openPglite } from '@kflow/ingest';
import { F } from '@kflow/features';
import { decodeDecision, encodeDecision } from '@kflow/paper';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliProcess, runCli, spawnCli } from '../cli.testing';
import { trainTestModel } from '../paperTrading.testing';
import { runAudit } from './audit';
import { registerCheckpoint, registerModels } from './models';
import { registerPaper } from './paper';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kflow-paper-cli-'));
  await trainTestModel(join(dir, 'model'), 1);
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `kflow <args>` as its own process; a failure's stderr is shown (audit failures are expected). */
function kflow(args: readonly string[]): CliProcess {
  const cli = spawnCli(args);
  void cli.exited.then((code) => {
    if (code !== 0 && args[0] !== 'audit') console.error(cli.stderr());
  });
  return cli;
}

describe('kflow paper', () => {
  it('SIGTERM: cancels, flushes, finishes the episode and prints the summary; every decision is stored and audits identical', async () => {
    const dataDir = join(dir, 'sigterm-db');
    const db = await openPglite({ dataDir });
    await migrate(db);
    await registerCheckpoint(db, join(dir, 'model'), 'sig', { deploy: true });
    await db.close();

    // A long simulated session at 30× real time: the run only ends by the signal.
    const run = kflow(['paper', '--model', 'sig', '--data-dir', dataDir, '--sim-markets', '4', '--sim-minutes', '60', '--speed', '30', '--json']);
    const start = performance.now();
    while (!run.lines.some((l) => l.includes('"event":"order"')) && performance.now() - start < 30_000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 1000)); // more decisions, some orders resting or in flight
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const summary = JSON.parse(run.lines.at(-1)!) as { decisions: number; orders: number; sessionId: string; episodeId: number; actionRows: number; actionRowsDropped: number };
    expect(summary.decisions).toBeGreaterThan(20);
    expect(summary.orders).toBeGreaterThan(0);
    expect(summary).toMatchObject({ actionRows: summary.decisions, actionRowsDropped: 0 });

    const reopened = await openPglite({ dataDir });
    try {
      const rows = await loadEpisodeActions(reopened, summary.episodeId);
      expect(rows).toHaveLength(summary.decisions); // action rows = decisions
      const episode = await getEpisode(reopened, summary.episodeId);
      expect(episode.endedMs).not.toBeNull();
      expect(episode.summary).toMatchObject({ decisions: summary.decisions });
      expect((await createSessionLoader({ db: reopened }).list())[0]).toMatchObject({ id: summary.sessionId, status: 'completed' });
      const audit = await runAudit(reopened, { session: 'latest', episode: 'latest' });
      expect(audit).toMatchObject({ episodeId: summary.episodeId, decisions: summary.decisions, mismatches: 0 });
      expect(audit.unfinished).toBeGreaterThan(0); // each market's last decision: its step was cut short

      // One feature of one logged decision perturbed: the audit fails (exit 1) and names it.
      const row = rows[Math.floor(rows.length / 2)]!;
      const decision = decodeDecision(row.details, row.executionResult);
      const observation = decision.observation.slice();
      observation[F.imbalanceTop] = observation[F.imbalanceTop]! + 0.001;
      const { details } = encodeDecision({ ...decision, observation });
      await reopened.query('UPDATE trading_actions SET details = $3::jsonb WHERE episode_id = $1 AND step = $2', [row.episodeId, row.step, JSON.stringify(details)]);
    } finally {
      await reopened.close();
    }
    const check = kflow(['audit', '--data-dir', dataDir, '--json']);
    expect(await check.exited).toBe(1);
    const failed = JSON.parse(check.lines.at(-1)!) as { mismatches: number; firstMismatch: { market: string; step: number; field: string; feature: string } };
    expect(failed.mismatches).toBeGreaterThanOrEqual(1);
    expect(failed.firstMismatch).toMatchObject({ field: 'observation', feature: 'imbalanceTop' });
  }, 90_000);

  it("refuses live mode, a missing model and a model that is not deployed, with a reason", async () => {
    const dataDir = join(dir, 'refusals-db');
    await expect(runCli([registerPaper], ['paper', '--model', 'x', '--mode', 'live', '--data-dir', dataDir])).rejects.toThrow(/LIVE_MODE_FORBIDDEN/);
    await expect(runCli([registerPaper], ['paper', '--data-dir', dataDir])).rejects.toThrow(/--model NAME\|DIR is required/);
    await runCli([registerModels], ['models', 'register', join(dir, 'model'), '--name', 'undeployed', '--data-dir', dataDir]);
    await expect(runCli([registerPaper], ['paper', '--model', 'undeployed', '--data-dir', dataDir, '--sim-minutes', '1'])).rejects.toThrow(
      /no version of undeployed is deployed/,
    );
  }, 60_000);

  it('kflow models: register, deploy, rollback, list (JSON)', async () => {
    const dataDir = join(dir, 'models-db');
    const args = ['--data-dir', dataDir, '--json'];
    const r1 = JSON.parse(await runCli([registerModels], ['models', 'register', join(dir, 'model'), '--name', 'cli', '--deploy', ...args])) as { model: { version: number; status: string } };
    expect(r1.model).toMatchObject({ version: 1, status: 'deployed' });
    await runCli([registerModels], ['models', 'register', join(dir, 'model'), '--name', 'cli', ...args]);
    const d2 = JSON.parse(await runCli([registerModels], ['models', 'deploy', 'cli', '2', ...args])) as { deployment: { model: { version: number } } };
    expect(d2.deployment.model.version).toBe(2);
    const back = JSON.parse(await runCli([registerModels], ['models', 'rollback', 'cli', ...args])) as { deployment: { action: string; model: { version: number } } };
    expect(back.deployment).toMatchObject({ action: 'rollback', model: { version: 1 } });
    const list = JSON.parse(await runCli([registerModels], ['models', 'list', ...args])) as { models: { version: number; status: string }[] };
    expect(list.models.map((m) => [m.version, m.status])).toEqual([[1, 'deployed'], [2, 'ready']]);
    await expect(runCli([registerModels], ['models', 'deploy', 'cli', '7', ...args])).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    await expect(runCli([registerModels], ['models', 'frobnicate', ...args])).rejects.toThrow(/unknown action/);
  }, 60_000);
});
