import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', testing: 'src/testing/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  splitting: false,
  treeshake: true,
  // p-retry (and its is-network-error) are ESM-only: bundle them so the CommonJS build works on Node 20.
  noExternal: ['p-retry', 'is-network-error'],
});
