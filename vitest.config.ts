import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Most test time is wall time (live-pace calls, real servers' latencies), not CPU: run 4 files at
    // once even on 2 cores (vitest's default there is 1 worker, which made the suite ~4x slower).
    maxWorkers: 4,
    // describe.concurrent groups (the fault matrix): its live-pace calls wait on wall time, not CPU
    maxConcurrency: 12,
    setupFiles: ['test/setup/leak-check.ts'],
  },
});
