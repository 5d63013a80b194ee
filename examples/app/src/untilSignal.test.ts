import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.testing';
import { registerSessions } from './commands/sessions';
import { until } from './wait.testing';

const ROOT = resolve(import.meta.dirname, '../../..');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kflow-wrapper-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every process below `pid` (Linux /proc), so a test can see what a wrapper left running. */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: the fields after it are fixed.
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Exited meanwhile.
    }
  }
  const found: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parentOf) {
      if (parent !== p) continue;
      found.push(child);
      walk(child);
    }
  };
  walk(pid);
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
};

describe('untilSignal under a package-manager wrapper', () => {
  it('SIGTERM to the `pnpm kflow` wrapper stops the collector it started, cleanly', { timeout: 60_000 }, async () => {
    const dataDir = join(dir, 'pnpm');
    // The way users start it: pnpm runs the package script through a shell, which runs node.
    const pnpm = spawn('pnpm', ['-s', 'kflow', 'collect', '--source', 'sim', '--sim-minutes', '600', '--speed', '5', '--data-dir', dataDir], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    pnpm.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    pnpm.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    let below: number[] = [];
    try {
      await until('collecting', () => /written [1-9]/.test(stderr));
      below = descendants(pnpm.pid!);
      expect(below.length).toBeGreaterThan(0);
      pnpm.kill('SIGTERM');
      await until('every process it started to exit', () => below.every((pid) => !alive(pid)), 20_000);
    } finally {
      // Whatever is left of the group this test started (it is its own process group).
      if (below.some(alive)) process.kill(-pnpm.pid!, 'SIGKILL');
    }
    expect(stdout).toMatch(/^session \S+: \d+ frames/m);
    const listed = JSON.parse(await runCli([registerSessions], ['sessions', '--data-dir', dataDir, '--json'])) as { sessions: { status: string }[] };
    expect(listed.sessions).toMatchObject([{ status: 'completed' }]);
  });
});
