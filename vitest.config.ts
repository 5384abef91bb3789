import { defineConfig } from 'vitest/config'

/**
 * Two tiers. Unit tests are pure (no ports) and run in parallel. Integration tests start real
 * processes and a real redis-server: on a 2-core machine they run one file at a time, or they
 * starve each other and turn flaky.
 */
export default defineConfig({
  test: {
    reporters: ['default', './test/setup/retries-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          exclude: ['**/*.contract.ts']
        }
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/setup/build.ts'],
          fileParallelism: false,
          // one more try for a test that fails: on a shared 2-core machine a timing race in a test
          // (never a deterministic break: that fails both tries) would otherwise fail the whole
          // run; a test that passes on its retry is printed as such, and each race found is fixed
          retry: 1,
          testTimeout: 60_000,
          hookTimeout: 60_000
        }
      }
    ]
  }
})
