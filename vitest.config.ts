import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites that start servers or databases run in parallel files; keep the two cores usable.
    maxWorkers: 2,
    reporters: ['default'],
  },
})
