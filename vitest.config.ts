import { defineConfig } from 'vitest/config';

export default defineConfig({
  // `streaming-stt` and `streaming-stt/testing` (imported by examples/ and the tests that run them)
  // resolve through the package's exports map with the checkout's condition, to the TypeScript source
  // (CONTRIBUTING.md, "How examples import the library"). Vitest also hands these conditions to the
  // Node of its workers (`--conditions`), so they replace Vite's defaults with what Node itself uses:
  // Vite's `module` would send Node to bundler-only ESM builds (@opentelemetry/api's fails to load).
  ssr: { resolve: { conditions: ['@streaming-stt/source', 'node'] } },
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
