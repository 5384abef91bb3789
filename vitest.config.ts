import { defineConfig } from 'vitest/config'

/**
 * Two tiers. Unit tests are pure (no ports) and run in parallel. Integration tests start real
 * processes and a real redis-server: on a 2-core machine they run one file at a time, or they
 * starve each other and turn flaky.
 */
export default defineConfig({
  test: {
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
          testTimeout: 60_000,
          hookTimeout: 60_000
        }
      }
    ]
  }
})
