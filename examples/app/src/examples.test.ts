/**
 * Smoke test of the programs in examples/*.ts, each run the way its header says (its own process, from the
 * repository root), at a tiny size: collector → trainer → paper trader on one PGlite directory, against
 * the simulator's exchange; and the custom PPO loop on CartPole-v1.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TRAINING_METRIC_NAMES } from '@kflow/agents';
import { createModelRegistry, createSessionLoader, getEpisode, loadEpisodeActions, openPglite } from '@kflow/ingest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
let dir: string;
let dataDir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kflow-examples-'));
  dataDir = join(dir, 'db');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  readonly child: ChildProcess;
  /** What it wrote to stderr so far (progress and status lines). */
  readonly stderr: () => string;
  /** The exit code and the last line of stdout (each example ends with its summary). */
  readonly exited: Promise<{ code: number | null; last: string }>;
}

/** `node --conditions=@kflow/source --import tsx examples/<file> ...args`, simulator and PGlite only. */
function example(file: string, args: readonly string[]): Run {
  const env = { ...process.env };
  for (const name of ['DATABASE_URL', 'KALSHI_API_KEY_ID', 'KALSHI_PRIVATE_KEY_PATH']) delete env[name];
  const child = spawn(process.execPath, ['--conditions=@kflow/source', '--import', 'tsx', join('examples', file), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; last: string }>((done) =>
    child.on('exit', (code) => {
      if (code !== 0) console.error(`${file} exited with ${code}:\n${err}`);
      done({ code, last: out.trim().split('\n').at(-1) ?? '' });
    }),
  );
  return { child, stderr: () => err, exited };
}

describe('examples/*.ts', () => {
  it('collector.ts records a simulated session into PGlite and prints its summary', async () => {
    const { code, last } = await example('collector.ts', ['--data-dir', dataDir, '--sim-markets', '2', '--sim-minutes', '4']).exited;
    expect(code).toBe(0);
    const summary = JSON.parse(last) as { sessionId: string; deltas: number; trades: number; rowsWritten: number; rowsDropped: number };
    expect(summary.deltas).toBeGreaterThan(1000);
    expect(summary).toMatchObject({ rowsDropped: 0 });
    const db = await openPglite({ dataDir });
    try {
      const [session] = await createSessionLoader({ db }).list();
      expect(session).toMatchObject({ id: summary.sessionId, status: 'completed', stored: { deltas: summary.deltas, trades: summary.trades } });
    } finally {
      await db.close();
    }
  }, 60_000);

  it('trainer.ts trains PPO on the recorded session and registers (and deploys) the model', async () => {
    const { code, last } = await example('trainer.ts', ['--data-dir', dataDir, '--timesteps', '4096', '--name', 'smoke', '--deploy']).exited;
    expect(code).toBe(0);
    const summary = JSON.parse(last) as { version: number; checkpoint: string; timesteps: number };
    expect(summary).toMatchObject({ version: 1, timesteps: 4096 });
    expect((await stat(join(summary.checkpoint, 'manifest.json'))).isFile()).toBe(true);
    const db = await openPglite({ dataDir });
    try {
      const models = await createModelRegistry({ db }).list('smoke');
      expect(models).toMatchObject([{ version: 1, status: 'deployed', checkpointPath: summary.checkpoint }]);
    } finally {
      await db.close();
    }
  }, 60_000);

  it('paper-trader.ts trades the deployment on live simulated books until SIGINT, logging every decision', async () => {
    const run = example('paper-trader.ts', ['--data-dir', dataDir, '--model', 'smoke', '--sim-markets', '3', '--speed', '30']);
    const start = performance.now();
    while (!run.stderr().includes('paper trading') && performance.now() - start < 20_000) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 3000)); // 90 s of exchange time: ~45 decisions per market
    run.child.kill('SIGINT');
    const { code, last } = await run.exited;
    expect(code).toBe(0);
    const summary = JSON.parse(last) as { episodeId: number; decisions: number; actionRows: number; actionRowsDropped: number; modelVersions: number[] };
    expect(summary.decisions).toBeGreaterThan(30);
    expect(summary).toMatchObject({ actionRows: summary.decisions, actionRowsDropped: 0, modelVersions: [1] });
    const db = await openPglite({ dataDir });
    try {
      expect(await loadEpisodeActions(db, summary.episodeId)).toHaveLength(summary.decisions);
      expect((await getEpisode(db, summary.episodeId)).endedMs).not.toBeNull();
    } finally {
      await db.close();
    }
  }, 60_000);

  it('custom-training-loop.ts learns CartPole-v1 from the exported PPO pieces and writes CleanRL metrics to CSV', async () => {
    const csv = join(dir, 'runs', 'ppo.csv');
    const run = example('custom-training-loop.ts', ['--total-timesteps', '20000', '--seed', '1', '--csv', csv]);
    const { code, last } = await run.exited;
    expect(code).toBe(0);
    // A random policy lasts about 22 steps; seeds 0–10 all pass 180 at this size.
    const meanReturn = Number(/mean return of the last 20 episodes: ([\d.]+)/.exec(last)?.[1]);
    expect(meanReturn).toBeGreaterThan(100);
    const [header, ...rows] = (await readFile(csv, 'utf8')).trim().split('\n');
    const columns = header!.split(',');
    expect(columns[0]).toBe('global_step');
    expect(columns.slice(1).every((c) => (TRAINING_METRIC_NAMES as readonly string[]).includes(c))).toBe(true);
    expect(columns).toEqual(expect.arrayContaining(['charts/episodic_return', 'charts/SPS', 'losses/policy_loss', 'losses/value_loss', 'losses/entropy', 'losses/approx_kl', 'losses/clipfrac']));
    expect(rows).toHaveLength(40); // 20,480 steps in rollouts of 4 × 128
    const losses = rows.map((r) => Number(r.split(',')[columns.indexOf('losses/value_loss')]));
    expect(losses.every(Number.isFinite)).toBe(true);
  }, 60_000);
});
