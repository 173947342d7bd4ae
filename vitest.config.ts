import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Workspace packages resolve to their TypeScript sources under test, so `vitest` does not
    // depend on a previous `tsc -b` for cross-package imports.
    conditions: ['strata-src'],
  },
  ssr: { resolve: { conditions: ['strata-src'], externalConditions: ['strata-src'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'qa/**/*.test.ts'],
    // The drivers' suites fetched by qa/drivers/fetch.sh are run by their own runners.
    exclude: ['**/node_modules/**', 'qa/drivers/suites/**'],
    // Integration tests start real server processes; a few files in parallel fit 2 cores.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', './qa/summary-reporter.ts'],
  },
});
