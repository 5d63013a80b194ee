import { defineConfig } from 'tsup';

/**
 * The published CLI: `dist/cli.js` (the `kflow` bin, with its shebang), `dist/trainingWorker.js` (the
 * training worker thread) and `dist/jobThread.js` (a queued job's thread): threads are their own entries so
 * the installed package needs no TypeScript loader. The CLI's own
 * sources are bundled; `@kflow/*` and third-party packages stay external (they are `dependencies`), and Vite
 * is only ever loaded from sources, to rebuild the dashboard in the workspace.
 */
export default defineConfig({
  entry: { cli: 'src/cli.ts', trainingWorker: 'src/server/trainingWorker.ts', jobThread: 'src/jobs/jobThread.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  clean: true,
  dts: false,
  sourcemap: false,
  tsconfig: '../../tsconfig.json',
  external: ['vite'],
  removeNodeProtocol: false,
});
