/**
 * `npm run demo` as a new user runs it: with credentials set but RTZR unreachable it must end with
 * one clear error and exit code 1, never a stack trace (a failed stream once killed it with an
 * uncaught StateError from write()).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** A loopback port nothing listens on: to the client, the service is unreachable (connection refused). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('npm run demo', () => {
  it('with RTZR credentials but RTZR unreachable: a clear error, exit code 1, no stack trace', async () => {
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const env: NodeJS.ProcessEnv = { ...process.env, RTZR_CLIENT_ID: 'x', RTZR_CLIENT_SECRET: 'y' };
    env.RTZR_API_BASE = `http://127.0.0.1:${await closedPort()}`;
    for (const k of ['RTZR_WEBSOCKET_URL', 'HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) delete env[k];
    // as a user runs it; the checkout's .npmrc (not this process's env) makes it resolve the source
    for (const k of ['NODE_OPTIONS', 'npm_config_node_options']) delete env[k];
    const child = spawn('npm', ['run', '--silent', 'demo', '--', '--fast'], { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    const out = stdout + stderr;
    expect(code, out).toBe(1);
    expect(stdout).toContain('Using the real RTZR service');
    expect(stderr).toMatch(/^call 1 failed: CONNECTION_FAILED: RTZR authenticate request failed: .*ECONNREFUSED/m);
    expect(stderr).toContain('Check the network and RTZR_CLIENT_ID / RTZR_CLIENT_SECRET');
    expect(out).not.toMatch(/^\s+at /m); // no stack trace
    expect(out).not.toContain('StateError');
    expect(out).not.toContain('call 2'); // stops at the first failed call
  }, 120_000); // a stream with one provider retries a refused connection until fallback.giveUpAfterMs (spec §8)
});
