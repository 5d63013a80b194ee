import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRAINING_METRIC_NAMES, readCheckpoint } from '@kflow/agents';
import { generateCapture, resolveSimConfig } from '@kflow/sim';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runCli, spawnCli } from '../cli.testing';
import { until } from '../wait.testing';
import { registerCollect } from './collect';
import { registerEval } from './eval';
import { registerTrain } from './train';

const dir = mkdtempSync(join(tmpdir(), 'kflow-train-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs one CLI command in-process and returns the JSON lines it printed. */
async function run(args: string[]): Promise<Record<string, unknown>[]> {
  const out = await runCli([registerTrain, registerEval, registerCollect], args);
  return out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A simulated capture file; `extra` lines are inserted after line `at` (1-based). */
function writeCapture(name: string, seed: number, minutes: number, extra: { at: number; lines: string[] } = { at: 0, lines: [] }): string {
  const frames: string[] = [];
  generateCapture(resolveSimConfig('calm', { seed, markets: 2, durationMs: minutes * 60_000 }), { onFrame: (l) => frames.push(l) });
  frames.splice(extra.at, 0, ...extra.lines);
  const path = join(dir, name);
  writeFileSync(path, `${frames.join('\n')}\n`);
  return path;
}

/** A small, fast Kalshi setup (short rollouts, a small network, short episodes). */
const smallConfig = join(dir, 'small.json');
writeFileSync(smallConfig, JSON.stringify({ ppo: { nSteps: 64, batchSize: 64, nEpochs: 2 }, policy: { hiddenSizes: [8] }, nEnvs: 2, env: { episodeSteps: 50 } }));

const trainCapture = writeCapture('train.jsonl', 3, 20);
const heldOutCapture = writeCapture('held-out.jsonl', 4, 20);

describe('kflow train / eval', () => {
  it('trains on CartPole-v1, prints JSON progress and an in-sample summary last, saves a loadable checkpoint', async () => {
    const out = join(dir, 'cartpole');
    const lines = await run(['train', '--env', 'CartPole-v1', '--algo', 'ppo', '--timesteps', '4096', '--seed', '1', '--out', out, '--json']);
    const summary = lines.at(-1)!;
    expect(Object.keys(summary)).toEqual(['algo', 'env', 'timesteps', 'seconds', 'sps', 'workers', 'envWorkers', 'inSample']);
    expect(summary).toMatchObject({ algo: 'ppo', env: 'CartPole-v1', timesteps: 4096, inSample: { episodes: 20 } });
    expect(lines.length).toBeGreaterThan(1);
    expect(lines[0]).toHaveProperty('losses/value_loss');
    const [evaluated] = await run(['eval', '--model', out, '--episodes', '20', '--seed', '10001', '--json']);
    // Same policy, same 20 seeds (train evaluates from seed + 10000): same mean.
    expect(evaluated!.meanReturn).toBe((summary.inSample as { meanReturn: number }).meanReturn);
  });

  it('trains on captures with a --config, reports in-sample and held-out figures, and the checkpoint records the setup', async () => {
    const out = join(dir, 'kalshi');
    const lines = await run(['train', '--data', trainCapture, '--eval-data', heldOutCapture, '--config', smallConfig, '--timesteps', '256', '--eval-episodes', '3', '--out', out, '--json']);
    const summary = lines.at(-1)!;
    expect(summary).toMatchObject({ algo: 'ppo', env: 'kalshi', timesteps: 256, sources: ['capture:train.jsonl'], inSample: { episodes: 3 }, heldOut: { episodes: 3 } });
    expect(Object.keys(summary.heldOut as object)).toEqual(['episodes', 'meanPnl', 'stdPnl', 'sharpe', 'winRate', 'meanTrades']);
    const { manifest } = await readCheckpoint(out);
    expect(manifest.network.hiddenSizes).toEqual([8]);
    expect(manifest.training).toMatchObject({
      nEnvs: 2,
      sources: ['capture:train.jsonl'],
      kalshiConfig: { ppo: { nSteps: 64, batchSize: 64, nEpochs: 2, gamma: 0.98, entCoef: { kind: 'linear', start: 0.03 } }, env: { episodeSteps: 50, cadence: { everyMs: 2000 } }, totalTimesteps: 256 },
    });
    expect(manifest.trading).toBeDefined();

    for (const policy of [['--model', out], ['--policy', 'hold'], ['--policy', 'heuristic'], ['--policy', 'random']]) {
      const [result] = await run(['eval', ...policy, '--data', heldOutCapture, '--episodes', '3', '--json']);
      expect(Object.keys(result!)).toEqual(['policy', 'episodes', 'meanPnl', 'stdPnl', 'sharpe', 'meanTrades', 'winRate', 'feesPaid']);
      expect(result!.episodes).toBe(3);
    }
    // A CartPole checkpoint does not fit the Kalshi feature set.
    await expect(run(['eval', '--model', join(dir, 'cartpole'), '--data', heldOutCapture, '--json'])).rejects.toThrow(/feature set/);
  });

  it('trains on sessions `kflow collect` recorded (--session latest from --data-dir)', async () => {
    const dataDir = join(dir, 'db');
    const [collected] = await run(['collect', '--source', 'sim', '--preset', 'calm', '--sim-markets', '2', '--sim-minutes', '10', '--data-dir', dataDir, '--json']);
    const sessionId = collected!.sessionId as string;
    const out = join(dir, 'from-session');
    const lines = await run(['train', '--session', 'latest', '--data-dir', dataDir, '--config', smallConfig, '--timesteps', '128', '--eval-episodes', '2', '--out', out, '--json']);
    expect(lines.at(-1)).toMatchObject({ env: 'kalshi', sources: [`session:${sessionId}`], inSample: { episodes: 2 } });
    const [evaluated] = await run(['eval', '--model', out, '--session', sessionId, '--data-dir', dataDir, '--episodes', '2', '--json']);
    expect(evaluated).toMatchObject({ policy: out, episodes: 2 });
    await expect(run(['train', '--session', 'nope', '--data-dir', dataDir, '--json'])).rejects.toThrow(/no session nope \(kflow sessions lists them\)/);
  });

  it('--env-workers steps the envs in worker threads: the run of the main thread, update for update, recorded in the summary and checkpoint', async () => {
    const args = ['train', '--data', trainCapture, '--config', smallConfig, '--timesteps', '256', '--eval-episodes', '3', '--seed', '2', '--json'];
    // Progress lines without the wall-clock figure: every loss, episode count and the summary's evaluation.
    const figures = (lines: Record<string, unknown>[]) => lines.map(({ 'charts/SPS': _sps, seconds: _s, sps: _rate, envWorkers: _w, ...rest }) => rest);
    const inMain = await run(args);
    const out = join(dir, 'workers');
    const inWorkers = await run([...args, '--env-workers', '2', '--out', out]);
    expect([inMain.at(-1)!.envWorkers, inWorkers.at(-1)!.envWorkers]).toEqual([1, 2]);
    expect(inWorkers.length).toBeGreaterThan(2);
    expect(figures(inWorkers)).toEqual(figures(inMain));
    expect((await readCheckpoint(out)).manifest.training).toMatchObject({ nEnvs: 2, envWorkers: 2 });
    await expect(run([...args, '--env-workers', '3'])).rejects.toThrow('--env-workers 3 is more than the 2 envs (each worker steps at least one): lower it or raise --n-envs');
  });

  it('--workers splits the update over threads: the same run twice, within float rounding of the main thread alone', async () => {
    const args = ['train', '--data', trainCapture, '--config', smallConfig, '--timesteps', '256', '--eval-episodes', '3', '--seed', '2', '--json'];
    const losses = (lines: Record<string, unknown>[]) => lines.filter((l) => 'losses/value_loss' in l).map((l) => l['losses/value_loss'] as number);
    const inMain = await run(args);
    const threaded = await run([...args, '--workers', '2']);
    expect(threaded.at(-1)).toMatchObject({ workers: 2, envWorkers: 1 });
    expect(losses(await run([...args, '--workers', '2']))).toEqual(losses(threaded));
    const [a, b] = [losses(inMain), losses(threaded)];
    expect(b.length).toBe(a.length);
    expect(a.length).toBeGreaterThan(0);
    b.forEach((loss, i) => expect(loss).toBeCloseTo(a[i]!, 3));
    await expect(run(['train', '--algo', 'a2c', '--workers', '2', '--json'])).rejects.toThrow(/A2C's update runs in the main thread/);
  });

  it('--resume continues a run killed mid-way from its last --checkpoint-every checkpoint, and --metrics logs both runs', async () => {
    const out = join(dir, 'resumable');
    const metrics = join(dir, 'resumable.csv');
    const args = ['train', '--data', trainCapture, '--config', smallConfig, '--seed', '1', '--out', out, '--metrics', metrics];
    // A run killed (SIGKILL) after it wrote its second checkpoint.
    const killed = spawnCli([...args, '--timesteps', '100000', '--checkpoint-every', '1', '--json']);
    const manifest = join(out, 'manifest.json');
    await until('the second checkpoint', () => existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { training: { updates: number } }).training.updates >= 2, 60_000);
    killed.child.kill('SIGKILL');
    await killed.exited;
    const partial = await readCheckpoint(out);
    const steps = partial.manifest.training.timesteps;
    expect(steps).toBeGreaterThanOrEqual(256);
    // What the manifest names is there (older numbered files may remain: the kill can land before they are removed).
    expect(readdirSync(out)).toEqual(expect.arrayContaining(['manifest.json', partial.manifest.optimizer!.file, partial.manifest.weightsFile]));

    const lines = await run([...args, '--resume', out, '--timesteps', String(steps + 256), '--json']);
    expect(lines.at(-1)).toMatchObject({ timesteps: steps + 256 });
    const resumed = await readCheckpoint(out);
    expect(resumed.manifest.training).toMatchObject({ timesteps: steps + 256, updates: partial.manifest.training.updates + 2, resumedFrom: out });
    expect(readdirSync(out).sort()).toEqual(['manifest.json', 'optimizer.bin', 'weights.bin']);

    const rows = readFileSync(metrics, 'utf8').trim().split('\n');
    expect(rows[0]).toBe(`global_step,episodes,kind,${TRAINING_METRIC_NAMES.join(',')}`);
    expect(rows.filter((r) => r.startsWith('global_step'))).toHaveLength(1);
    const updateSteps = rows.slice(1).filter((r) => r.split(',')[2] === 'update').map((r) => Number(r.split(',')[0]));
    expect(updateSteps.slice(-2)).toEqual([steps + 128, steps + 256]);
    expect(rows.slice(1).some((r) => r.split(',')[2] === 'episode')).toBe(true);

    await expect(run([...args, '--resume', out, '--timesteps', String(steps + 256)])).rejects.toThrow(`has already trained ${steps + 256} steps`);
    await expect(run(['train', '--data', trainCapture, '--checkpoint-every', '2'])).rejects.toThrow('--checkpoint-every needs --out DIR');
    await expect(run(['train', '--data', trainCapture, '--metrics', join(dir, 'm.txt')])).rejects.toThrow(/must end in .csv or .jsonl/);
    await expect(run(['train', '--algo', 'a2c', '--resume', out, '--timesteps', '100000'])).rejects.toThrow(/is a ppo run: resume it with --algo ppo/);
    await expect(run(['train', '--resume', join(dir, 'nothing')])).rejects.toThrow(/no checkpoint there \(no manifest.json\); pass the --out directory/);
  });

  it('refuses nonsense values and bad config files with the reason', async () => {
    await expect(run(['train', '--timesteps', '0'])).rejects.toThrow('--timesteps must be a whole number ≥ 1, got "0"');
    await expect(run(['train', '--data', trainCapture, '--timesteps', '1e3x'])).rejects.toThrow(/--timesteps must be a whole number/);
    await expect(run(['train', '--data', trainCapture, '--eval-episodes', '1.5'])).rejects.toThrow('--eval-episodes must be a whole number ≥ 1, got "1.5"');
    await expect(run(['train', '--algo', 'dqn'])).rejects.toThrow('--algo must be ppo or a2c, got "dqn"');
    await expect(run(['train', '--eval-data', heldOutCapture])).rejects.toThrow(/evaluate Kalshi models: pass training market data too/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ppo: { nSteps: 64, learningrate: 1 } }));
    await expect(run(['train', '--data', trainCapture, '--config', bad])).rejects.toThrow(/ppo\.learningrate is not a PPO hyperparameter/);
    writeFileSync(bad, JSON.stringify({ ppo: { entCoef: { kind: 'cosine', start: 0.03 } } }));
    await expect(run(['train', '--data', trainCapture, '--config', bad])).rejects.toThrow(/--config .*bad\.json: ppo\.entCoef: expected a number, true \/ false, or a linear schedule/);
    writeFileSync(bad, JSON.stringify({ ppo: { gamma: { kind: 'linear', start: 0.99 } } }));
    await expect(run(['train', '--data', trainCapture, '--config', bad])).rejects.toThrow(/ppo\.gamma takes a number, not a schedule \(learningRate, clipRange, clipRangeVf, entCoef take one\)/);
    writeFileSync(bad, JSON.stringify({ policy: { hiddenSizes: [0] } }));
    await expect(run(['train', '--data', trainCapture, '--config', bad])).rejects.toThrow(/--config .*bad\.json: policy\.hiddenSizes\.0:/);
    writeFileSync(bad, JSON.stringify({ epochs: 3 }));
    await expect(run(['train', '--data', trainCapture, '--config', bad])).rejects.toThrow(/--config .*bad\.json: .*epochs/);
    writeFileSync(bad, '{ not json');
    await expect(run(['train', '--data', trainCapture, '--config', bad])).rejects.toThrow(/--config .*bad\.json: .*JSON/);
    await expect(run(['train', '--data', join(dir, 'missing.jsonl')])).rejects.toThrow(/capture .*missing\.jsonl not found/);
  });

  it('reports malformed capture lines with file and line, and --strict makes the first one fatal', async () => {
    const path = writeCapture('dirty.jsonl', 5, 20, { at: 3, lines: ['{ torn', '{"type":"orderbook_delta","sid":1,"seq":"x"}'] });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let lines: Record<string, unknown>[];
    let warnings: string[];
    try {
      lines = await run(['train', '--data', path, '--config', smallConfig, '--timesteps', '64', '--eval-episodes', '1', '--json']);
      warnings = stderr.mock.calls.map((c) => String(c[0])).filter((l) => l.startsWith('warning:'));
    } finally {
      stderr.mockRestore();
    }
    const skipped = lines.at(-1)!.skipped as { file: string; malformed: number; first: string[] }[];
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.malformed).toBe(2);
    expect(skipped[0]!.first[0]).toMatch(/dirty\.jsonl:4: /);
    expect(skipped[0]!.first[1]).toMatch(/dirty\.jsonl:5: /);
    expect(warnings).toHaveLength(2);
    await expect(run(['train', '--data', path, '--strict', '--json'])).rejects.toThrow(/dirty\.jsonl:4: .*--strict/);
  });

  it('says which check left a file with no usable market', async () => {
    const path = join(dir, 'no-snapshots.jsonl');
    const frames: string[] = [];
    generateCapture(resolveSimConfig('calm', { seed: 6, markets: 1, durationMs: 60_000 }), { onFrame: (l) => frames.push(l) });
    writeFileSync(path, `${frames.filter((l) => !l.includes('orderbook_snapshot')).join('\n')}\n`);
    await expect(run(['train', '--data', path, '--json'])).rejects.toThrow(/no-snapshots\.jsonl: no usable market: no market has an orderbook_snapshot/);
  });
});
