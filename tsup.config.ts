import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineConfig } from 'tsup';

/**
 * Dependencies bundled into dist/ rather than installed: p-retry (and its is-network-error) are
 * ESM-only, and the CommonJS build must work on Node 20.18, which cannot require() ESM. Their MIT
 * licences require the notice to ship with the code: dist/THIRD-PARTY-LICENSES.md, written from the
 * installed packages at every build so it always matches what was bundled.
 */
const BUNDLED = ['p-retry', 'is-network-error'];

const require = createRequire(import.meta.url);

function packageDir(name: string): string {
  // resolve through the package's own directory (p-retry does not export ./package.json)
  let dir = dirname(require.resolve(name));
  while (!readFileSync(join(dir, 'package.json'), 'utf8').includes(`"name": "${name}"`)) dir = dirname(dir);
  return dir;
}

function writeThirdPartyLicenses(): void {
  const sections = BUNDLED.map((name) => {
    const dir = packageDir(name);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string; license: string };
    const licenseFile = ['license', 'LICENSE', 'license.md', 'LICENSE.md'].map((f) => join(dir, f)).find((f) => {
      try {
        readFileSync(f);
        return true;
      } catch {
        return false;
      }
    });
    if (!licenseFile) throw new Error(`${name}: no licence file to ship`);
    const text = readFileSync(licenseFile, 'utf8').trim();
    return `## ${name} ${pkg.version} (${pkg.license})\n\nhttps://www.npmjs.com/package/${name}/v/${pkg.version}\n\n\`\`\`\n${text}\n\`\`\`\n`;
  });
  writeFileSync(
    'dist/THIRD-PARTY-LICENSES.md',
    `# Third-party licences\n\nThese packages are bundled into dist/index.js and dist/index.cjs:\n\n${sections.join('\n')}`,
  );
}

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
  noExternal: BUNDLED,
  onSuccess: async () => writeThirdPartyLicenses(),
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
