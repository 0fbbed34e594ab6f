/**
 * How the examples import the library: by the package's own name, `streaming-stt` and
 * `streaming-stt/testing`, so that they can be pasted into an app. In a checkout, `npm run` and
 * `npx` take the `@streaming-stt/source` export condition from .npmrc, so the name resolves through
 * package.json `exports` to the TypeScript source: nothing to build, and never a stale dist/.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('examples import the package by name', () => {
  it('`npx tsx` in a checkout resolves streaming-stt and streaming-stt/testing to src/, through the exports map', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of ['NODE_OPTIONS', 'npm_config_node_options']) delete env[k]; // only the checkout's .npmrc
    const child = spawn('npx', ['tsx', 'test/fixtures/resolve-self.ts'], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout.trim())).toEqual({
      main: pathToFileURL(`${root}src/index.ts`).href,
      testing: pathToFileURL(`${root}src/testing/index.ts`).href,
    });
  });

  it('under vitest, an example module gets the same copy of the library as the tests (src/, never a dist/ build)', async () => {
    const example = await import('../examples/twilio/main.js');
    const { ConfigurationError } = await import('../src/index.js');
    let thrown: unknown;
    try {
      example.readConfig({ PORT: 'not-a-port' });
    } catch (err) {
      thrown = err;
    }
    // the very class of src/errors (instanceof alone would also accept a copy from dist/: SttError
    // recognises its duplicates on purpose)
    expect((thrown as object | undefined)?.constructor).toBe(ConfigurationError);
  });
});
