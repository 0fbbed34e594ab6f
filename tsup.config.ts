import { defineConfig } from 'tsup';

export default defineConfig([{
  entry: { index: 'src/index.ts', testing: 'src/testing/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  // everything in dist/ but the CLI, which the second build below writes at the same time
  clean: ['!cli.js'],
  target: 'node20',
  platform: 'node',
  splitting: false,
  treeshake: true,
  // p-retry (and its is-network-error) are ESM-only: bundle them so the CommonJS build works on Node 20.
  noExternal: ['p-retry', 'is-network-error'],
}, {
  // The `streaming-stt` command (run by bin/streaming-stt.js): ESM only, no types, no source map.
  entry: { cli: 'src/cli/main.ts' },
  format: ['esm'],
  clean: false,
  target: 'node20',
  platform: 'node',
  splitting: false,
  treeshake: true,
}]);
