import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/** Ends the run with a plain `Tests: N passed, N failed, N skipped` line that any CI log reader understands. */
const summaryReporter: Reporter = {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>) {
    const count = { passed: 0, failed: 0, skipped: 0 };
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') count.passed++;
        else if (state === 'failed') count.failed++;
        else count.skipped++;
      }
    }
    process.stdout.write(`\nTests: ${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped\n`);
  },
};

// Files that belong to no working directory (PostgreSQL spill files) go to a fresh kflow home per run,
// never to the user's ~/.kflow.
process.env.KFLOW_HOME ??= mkdtempSync(join(tmpdir(), 'kflow-home-'));

const packages = ['orderbook', 'features', 'paper', 'env', 'agents', 'ingest', 'sim', 'actor'];

// Workspace packages resolve to their TypeScript sources through the `@kflow/source` export condition,
// so tests never need a build.
export default defineConfig({
  resolve: { conditions: ['@kflow/source', 'module', 'node', 'import', 'default'] },
  // SSR conditions are also passed to Node as --conditions for external deps, where 'import' would make
  // CommonJS require() pick ESM entries (pg requiring pg-pool breaks): Vite adds import/require per import itself.
  ssr: { resolve: { conditions: ['@kflow/source', 'module', 'node'] } },
  test: {
    reporters: ['default', summaryReporter],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      ...packages.map((name) => ({
        extends: true as const,
        test: { name, root: `packages/${name}`, include: ['src/**/*.test.ts'] },
      })),
      { extends: true as const, test: { name: 'app', root: 'examples/app', include: ['src/**/*.test.ts'] } },
    ],
  },
});
