import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The dashboard's sources (a Vite + React app) and where its build goes. */
export const DASHBOARD_ROOT = resolve(import.meta.dirname, '../../dashboard');
export const DASHBOARD_DIST = join(DASHBOARD_ROOT, 'dist');

/** Newest modification time under `dir` (skipping `dist` and `node_modules`). */
function newest(dir: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return t;
}

/**
 * The built dashboard's directory, building it first (Vite, a few seconds) when it is missing or older
 * than its sources, so `kflow paper --ui` and `kflow serve` need no second process or build step.
 */
export async function ensureDashboard(log: (text: string) => void = (text) => process.stderr.write(`${text}\n`)): Promise<string> {
  const index = join(DASHBOARD_DIST, 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newest(DASHBOARD_ROOT)) return DASHBOARD_DIST;
  log('building the dashboard (once per change of its sources) ...');
  const { build } = await import('vite');
  await build({ root: DASHBOARD_ROOT, configFile: join(DASHBOARD_ROOT, 'vite.config.ts'), logLevel: 'warn' });
  return DASHBOARD_DIST;
}
