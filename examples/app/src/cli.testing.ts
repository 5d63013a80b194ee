import { type CAC, cac } from 'cac';
import { vi } from 'vitest';

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
