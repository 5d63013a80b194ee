import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The CLI package's root: the nearest directory above this module with a `package.json` (from `src/server/` or from `dist/`). */
function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return join(from, '../..');
  }
}

/** The dashboard's sources (a Vite + React app; present in the workspace, not in the published package) and its build. */
export const DASHBOARD_ROOT = join(packageRoot(import.meta.dirname), 'dashboard');
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
 * The built dashboard's directory. In the workspace it is built first (Vite, a few seconds) when it is
 * missing or older than its sources, so `kflow paper --ui` and `kflow serve` need no second process or
 * build step. The published `@kflow/cli` has no dashboard sources and no Vite: it serves the build it ships.
 */
export async function ensureDashboard(log: (text: string) => void = (text) => process.stderr.write(`${text}\n`)): Promise<string> {
  const index = join(DASHBOARD_DIST, 'index.html');
  if (!existsSync(join(DASHBOARD_ROOT, 'src'))) {
    if (existsSync(index)) return DASHBOARD_DIST;
    throw new Error(`the dashboard build is missing (${DASHBOARD_DIST}): reinstall @kflow/cli`);
  }
  if (existsSync(index) && statSync(index).mtimeMs >= newest(DASHBOARD_ROOT)) return DASHBOARD_DIST;
  log('building the dashboard (once per change of its sources) ...');
  const { build } = await import('vite');
  await build({ root: DASHBOARD_ROOT, configFile: join(DASHBOARD_ROOT, 'vite.config.ts'), logLevel: 'warn' });
  return DASHBOARD_DIST;
}
