import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { type CAC, cac } from 'cac';
import { vi } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');

/** A `kflow` process: its stdout lines as they arrive, its stderr, and its exit code. */
export interface CliProcess {
  readonly child: ChildProcess;
  readonly lines: string[];
  stderr(): string;
  readonly exited: Promise<number | null>;
}

/** `kflow <args>` as its own process, the way `pnpm kflow` runs it (repository root, TypeScript sources). */
export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv = process.env): CliProcess {
  const child = spawn(process.execPath, ['--conditions=@kflow/source', '--import', 'tsx', 'examples/app/src/cli.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop()!;
    lines.push(...parts.filter((l) => l.length > 0));
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  return { child, lines, stderr: () => stderr, exited };
}

/** Runs `kflow <args>` in-process with the given commands registered and returns what it printed on stdout. */
export async function runCli(register: readonly ((cli: CAC) => void)[], args: readonly string[]): Promise<string> {
  const cli = cac('kflow');
  for (const r of register) r(cli);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    cli.parse(['node', 'kflow', ...args], { run: false });
    await cli.runMatchedCommand();
  } finally {
    spy.mockRestore();
  }
  return out;
}
