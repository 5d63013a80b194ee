import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.testing';
import { registerSim } from './sim';

const sim = (...args: string[]): Promise<string> => runCli([registerSim], ['sim', ...args]);
const dir = mkdtempSync(join(tmpdir(), 'kflow-sim-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kflow sim', () => {
  it('--oracle reports the oracle baseline: a profit at edge 1, nothing at edge 0', async () => {
    const run = async (edge: string) =>
      JSON.parse(await sim('--oracle', '--seed', '3', '--sim-markets', '3', '--sim-minutes', '10', '--edge', edge, '--episodes', '40', '--json')) as {
        policy: string;
        edge: number;
        episodes: number;
        meanPnl: number;
        sharpe: number;
        tStat: number;
        meanTrades: number;
      };
    const informed = await run('1');
    expect(informed).toMatchObject({ policy: 'oracle', edge: 1, episodes: 40 });
    expect(informed.meanPnl).toBeGreaterThan(0);
    expect(informed.meanTrades).toBeGreaterThan(0);
    const control = await run('0');
    expect(control.tStat).toBeLessThan(2);
  }, 60_000);

  it('writes the latents with --latents, and with --oracle FILE as before', async () => {
    const out = join(dir, 'c.jsonl');
    const a = join(dir, 'a.jsonl');
    const b = join(dir, 'b.jsonl');
    await sim('--sim-minutes', '0.5', '--out', out, '--latents', a, '--json');
    await sim('--sim-minutes', '0.5', '--out', out, '--oracle', b, '--json');
    const lines = readFileSync(a, 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(100);
    expect(JSON.parse(lines[0]!)).toHaveProperty('latent');
    expect(readFileSync(b, 'utf8')).toBe(readFileSync(a, 'utf8'));
    await expect(sim('--sim-minutes', '0.5', '--out', out, '--oracle', b, '--latents', a)).rejects.toThrow(/once/);
  });
});
