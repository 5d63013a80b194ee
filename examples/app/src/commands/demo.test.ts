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
  it('collects through the authenticated collector, trains, evaluates against the baselines and registers the model', async () => {
    const options = { dataDir: join(dir, 'data'), seed: 3, markets: 2, minutes: 3, timesteps: 4096, evalEpisodes: 4, json: true };
    const report = await runDemo(options);

    expect(report.sessions.map((s) => s.role)).toEqual(['train', 'held-out']);
    for (const s of report.sessions) {
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

    // A second run on the same data directory registers the next version.
    const again = await runDemo({ ...options, seed: 4 });
    expect(again.model.version).toBe(2);
  });
});
