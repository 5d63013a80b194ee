import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCapture, resolveSimConfig } from '@kflow/sim';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.testing';
import { registerEval } from './eval';
import { registerTrain } from './train';

const dir = mkdtempSync(join(tmpdir(), 'kflow-train-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs one CLI command in-process and returns the JSON lines it printed. */
async function run(args: string[]): Promise<Record<string, unknown>[]> {
  const out = await runCli([registerTrain, registerEval], args);
  return out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('kflow train / eval', () => {
  it('trains on CartPole-v1, prints JSON progress and the summary last, saves a loadable checkpoint', async () => {
    const out = join(dir, 'cartpole');
    const lines = await run(['train', '--env', 'CartPole-v1', '--algo', 'ppo', '--timesteps', '4096', '--seed', '1', '--out', out, '--json']);
    const summary = lines.at(-1)!;
    expect(Object.keys(summary)).toEqual(['algo', 'env', 'timesteps', 'seconds', 'sps', 'evalMeanReturn', 'evalStdReturn', 'evalEpisodes']);
    expect(summary).toMatchObject({ algo: 'ppo', env: 'CartPole-v1', timesteps: 4096, evalEpisodes: 20 });
    expect(lines.length).toBeGreaterThan(1);
    expect(lines[0]).toHaveProperty('losses/value_loss');
    const [evaluated] = await run(['eval', '--model', out, '--episodes', '20', '--seed', '10001', '--json']);
    // Same policy, same 20 seeds (train evaluates from seed + 10000): same mean.
    expect(evaluated!.meanReturn).toBe(summary.evalMeanReturn);
  });

  it('trains and evaluates on Kalshi captures (--data), with the baselines', async () => {
    const capture = join(dir, 'capture.jsonl');
    const frames: string[] = [];
    generateCapture(resolveSimConfig('calm', { seed: 3, markets: 2, durationMs: 20 * 60_000 }), { onFrame: (l) => frames.push(l) });
    writeFileSync(capture, `${frames.join('\n')}\n`);
    const out = join(dir, 'kalshi');
    const trained = await run(['train', '--data', capture, '--timesteps', '1024', '--out', out, '--json']);
    expect(trained.at(-1)).toMatchObject({ algo: 'ppo', env: 'kalshi', timesteps: 2048, evalEpisodes: 20 });
    for (const policy of [['--model', out], ['--policy', 'hold'], ['--policy', 'heuristic'], ['--policy', 'random']]) {
      const [result] = await run(['eval', ...policy, '--data', capture, '--episodes', '3', '--json']);
      expect(Object.keys(result!)).toEqual(['policy', 'episodes', 'meanPnl', 'stdPnl', 'sharpe', 'meanTrades', 'winRate', 'feesPaid']);
      expect(result!.episodes).toBe(3);
    }
    // A CartPole checkpoint does not fit the Kalshi feature set.
    await expect(run(['eval', '--model', join(dir, 'cartpole'), '--data', capture, '--json'])).rejects.toThrow(/feature set/);
  });
});
