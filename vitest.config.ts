import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // Each test file gets its own database cloned from the migrated template, so files run in parallel safely.
    pool: 'forks',
    // Two at a time on two cores: most files wait on PostgreSQL, child processes or a browser, not the CPU.
    // Measured on 2 vCPU (2026-12-07): the whole suite in 328 s with two, 646 s with vitest's default of one.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
