import { defineConfig } from 'vitest/config';

const packages = ['orderbook', 'features', 'paper', 'env', 'agents', 'ingest', 'sim'];

// Workspace packages resolve to their TypeScript sources through the `@kflow/source` export condition,
// so tests never need a build.
export default defineConfig({
  resolve: { conditions: ['@kflow/source', 'module', 'node', 'import', 'default'] },
  // SSR conditions are also passed to Node as --conditions for external deps, where 'import' would make
  // CommonJS require() pick ESM entries (pg requiring pg-pool breaks): Vite adds import/require per import itself.
  ssr: { resolve: { conditions: ['@kflow/source', 'module', 'node'] } },
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
