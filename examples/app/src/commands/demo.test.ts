import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from './demo';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kflow-demo-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pnpm demo (reduced size)', () => {
  it('collects through the authenticated collector, trains, evaluates against the baselines, registers, paper trades with a hot reload and audits', async () => {
    const options = { dataDir: join(dir, 'data'), seed: 3, markets: 2, minutes: 3, timesteps: 4096, evalEpisodes: 4, paperMinutes: 3, json: true };
    const report = await runDemo(options);

    expect(report.sessions.map((s) => s.role)).toEqual(['train', 'held-out']);
    for (const s of report.sessions) {
      expect(s.reused).toBe(false);
      expect(s.markets).toBe(2);
      expect(s.gaps).toBe(0);
      expect(s.events).toBeGreaterThan(1000);
      // Every frame that changed a book or was a trade/lifecycle event became a row: nothing dropped.
      expect(s.rowsWritten).toBeGreaterThanOrEqual(s.events);
    }
    expect(report.sessions[0]!.id).not.toBe(report.sessions[1]!.id);
    expect(report.training.timesteps).toBeGreaterThanOrEqual(4096);
    expect(report.evaluation.map((e) => e.policy)).toEqual(['ppo', 'random', 'hold', 'heuristic']);
    const hold = report.evaluation.find((e) => e.policy === 'hold')!;
    expect(hold.meanPnl).toBe(0);
    expect(hold.feesPaid).toBe(0);
    const random = report.evaluation.find((e) => e.policy === 'random')!;
    expect(random.meanTrades).toBeGreaterThan(0);
    expect(random.feesPaid).toBeGreaterThan(0);
    expect(report.model).toMatchObject({ name: 'kflow-demo', version: 1, status: 'ready' });
    expect((await stat(join(report.model.checkpointPath, 'manifest.json'))).isFile()).toBe(true);
    expect(report.reloadModel).toMatchObject({ name: 'kflow-demo', version: 2 });

    // Paper trading v1 live, v2 deployed halfway: it took over without a missed tick.
    const paper = report.paper;
    expect(paper.markets).toBe(2);
    expect(paper.decisions).toBeGreaterThan(50);
    expect(paper.modelVersions).toEqual([1, 2]);
    expect(paper.reloads).toHaveLength(1);
    expect(paper.reloads[0]).toMatchObject({ version: 2, missedTicks: 0 });
    expect(paper).toMatchObject({ actionRows: paper.decisions, actionRowsDropped: 0, refusedModels: 0 });
    // The audit replays the recording through the env: identical, decision by decision.
    expect(report.audit).toMatchObject({ episodeId: paper.episodeId, sessionId: paper.sessionId, decisions: paper.decisions, mismatches: 0, firstMismatch: null });
    expect(report.audit.pnlLive).toBe(report.audit.pnlReplay);

    // A second run with the same options reuses the recorded sessions (the same data, loaded again)
    // instead of collecting them anew, and registers the next versions.
    const again = await runDemo(options);
    expect(again.sessions.map((s) => [s.id, s.reused, s.events])).toEqual(report.sessions.map((s) => [s.id, true, s.events]));
    expect(again.model.version).toBe(3);
    // The same data, seed and steps train the same policy: the same held-out figures.
    expect(again.evaluation).toEqual(report.evaluation);
  });
});
