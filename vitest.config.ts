import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // describe.concurrent groups (the fault matrix): its live-pace calls wait on wall time, not CPU
    maxConcurrency: 12,
    setupFiles: ['test/setup/leak-check.ts'],
  },
});
