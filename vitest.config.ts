import { defineConfig } from 'vitest/config';

const packages = ['orderbook', 'features', 'paper', 'env', 'agents', 'ingest', 'sim'];

// Workspace packages resolve to their TypeScript sources through the `@kflow/source` export condition,
// so tests never need a build.
export default defineConfig({
  resolve: { conditions: ['@kflow/source', 'module', 'node', 'import', 'default'] },
  ssr: { resolve: { conditions: ['@kflow/source', 'module', 'node', 'import', 'default'] } },
  test: {
    reporters: ['default'],
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
