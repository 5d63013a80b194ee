import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../cli.testing';
import { loadData } from '../dataSources';
import { sleep, until } from '../wait.testing';
import { registerSessions } from './sessions';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kflow-lifecycle-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const listSessions = async (dataDir: string) =>
  (JSON.parse(await runCli([registerSessions], ['sessions', '--data-dir', dataDir, '--json'])) as {
    sessions: { id: string; status: string; endedMs: number | null; lastFrame: { frameNo: number; recvMs: number } | null; stored: { deltas: number } }[];
  }).sessions;

describe('the collector process: failures and kills', () => {
  it('a failure after the simulator started closes it and exits non-zero with the error', { timeout: 30_000 }, async () => {
    const p = spawnCli(['collect', '--source', 'sim', '--markets', 'NO-SUCH-MARKET', '--data-dir', join(dir, 'unknown'), '--json']);
    try {
      expect(await Promise.race([p.exited, sleep(20_000).then(() => 'hung')])).toBe(1);
      expect(JSON.parse(p.lines.at(-1)!)).toMatchObject({ ok: false, error: { message: expect.stringMatching(/the simulator has no market NO-SUCH-MARKET/) } });
    } finally {
      p.child.kill('SIGKILL');
    }
  });

  it('a stop that fails (the capture cannot be written) still prints the summary, then the error, exit 1', { timeout: 30_000 }, async () => {
    const p = spawnCli(['collect', '--source', 'sim', '--sim-minutes', '1', '--data-dir', join(dir, 'capture'), '--record', join(dir, 'no-such-dir', 'x.jsonl'), '--json']);
    expect(await p.exited).toBe(1);
    const [summary, failure] = p.lines.slice(-2).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(summary).toMatchObject({ stoppedBy: 'end', rowsDropped: 0, sessionRecord: 'stored' });
    expect(failure).toMatchObject({ ok: false, error: { code: 'ENOENT' } });
  });

  it('after SIGKILL the session shows as interrupted, with where its data ends', { timeout: 60_000 }, async () => {
    const dataDir = join(dir, 'killed');
    const p = spawnCli(['collect', '--source', 'sim', '--sim-minutes', '600', '--speed', '20', '--data-dir', dataDir]);
    try {
      await until('rows written', () => Number(/written (\d+)/.exec(p.stderr().split('\n').at(-2) ?? '')?.[1] ?? 0) > 50);
    } finally {
      p.child.kill('SIGKILL');
    }
    await p.exited;
    const [session] = await listSessions(dataDir);
    expect(session).toMatchObject({ status: 'interrupted' });
    expect(session!.lastFrame).not.toBeNull();
    expect(session!.endedMs).toBe(session!.lastFrame!.recvMs);
    expect(session!.stored.deltas).toBeGreaterThan(0);
    // Its data is final: `--session latest` trains on it, up to where it ends.
    const loaded = await loadData({ session: 'latest', dataDir });
    expect(loaded?.sources).toEqual([`session:${session!.id}`]);
    expect(loaded!.sessions[0]!.markets.reduce((n, m) => n + m.length, 0)).toBeGreaterThan(0);
  });
});
